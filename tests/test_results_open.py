"""Opening results (issue #17): `dynamics.open_sweep` / `dynamics.open_run`, consolidated stores that
xarray opens directly, attributes that never contradict a coordinate, outcome names through the
`flags` accessor, and the warning when a sweep's cells are still moving at t_max.

The sweeps share the tiny shapes of tests/test_reliability.py (n1 = n2 = 2, three saved times), so
their compiled programs are shared through the session's compilation cache.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

import dynamics
from dynamics import Config, ConfigError
from dynamics.cli._main import main
from dynamics.sweep import (NotConvergedWarning, Outcome, convergence_note, main_jobs, read_store, sweep,
                            suggested_t_max)
from dynamics.sweep._axes import make_axes
from dynamics.sweep._grid import Grid
from dynamics.sweep._store import base_attrs, sweep_theory

MODES = Config(model="modes", n1=2, n2=2, p0=[0.3, 1.0], s0=[0.05, 1.0], tau0=0.5, t_max=2.0)
AXES = ["beta=list:0.1,1", "eta=list:0,0.1"]
KW = dict(n_save=3, points_per_chunk=2, progress=False)  # t_max = 2: every cell still moving
# long enough to settle (beta t_max >= 30), with saved times to judge it; eta = 0.2 > eta* collapses
LONG = MODES.replace(t_max=3000.0)
LONG_AXES = ["beta=list:0.1,1", "eta=list:0,0.2"]
LONG_KW = dict(n_save=6, points_per_chunk=2, progress=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """One store, two groups: `long` and `modes` (the same sweep at sigma2 = 0.3)."""
    path = tmp_path_factory.mktemp("open") / "s.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotConvergedWarning)
        sweep(LONG, LONG_AXES, out=path, group="long", **LONG_KW)
        sweep(LONG.replace(sigma2=0.3), LONG_AXES, out=path, **LONG_KW)
    return path


# ------------------------------------------------------------------------------------------ loaders


def test_open_sweep_names_the_groups_and_opens_one(store, tmp_path):
    with pytest.raises(ConfigError, match=r"holds 2 sweep groups: long, modes; .*group='long'"):
        dynamics.open_sweep(store)
    ds = dynamics.open_sweep(store, group="modes")
    ref = read_store(store, "modes")
    assert set(ds.data_vars) == set(ref.data_vars) and ds.attrs == ref.attrs
    np.testing.assert_array_equal(ds.s_final.values, ref.s_final.values)
    with pytest.raises(ConfigError, match=r"^group = 'nope': is not a group of .*long, modes"):
        dynamics.open_sweep(store, group="nope")
    single = tmp_path / "one.zarr"
    sweep(LONG, LONG_AXES, out=single, **LONG_KW)
    assert dynamics.open_sweep(single).sizes["beta"] == 2  # one group: no name needed
    with pytest.raises(ConfigError, match="does not exist"):
        dynamics.open_sweep(tmp_path / "missing.zarr")


def test_xarray_opens_the_store_directly_and_without_warnings(store):
    """Consolidated metadata: `xr.open_zarr(path, group=...)` opens without the "not consolidated"
    warning; the root (no data) says which groups hold them; `open_datatree` sees both."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = xr.open_zarr(store, group="long")
        root = xr.open_zarr(store)
        tree = xr.open_datatree(store, engine="zarr")
    assert raw.sizes["beta"] == 2 and "outcome" in raw
    assert len(root.data_vars) == 0 and root.attrs["groups"] == ["long", "modes"]
    assert "dynamics.open_sweep" in root.attrs["description"]
    assert set(tree.children) == {"long", "modes"}
    meta = json.loads((store / "zarr.json").read_text())
    assert {"modes/outcome", "long/outcome"} <= set(meta["consolidated_metadata"]["metadata"])
    # the groups' own metadata (verify, --resume) is untouched by the consolidation
    assert "consolidated_metadata" not in json.loads((store / "modes" / "zarr.json").read_text())


def test_open_run_reads_a_result_file_and_refuses_the_rest(store, tmp_path):
    ds0 = dynamics.simulate(Config(model="modes", n1=2, n2=2, p0=[0.3, 1.0], s0=[0.05, 1.0], t_max=2.0, n_save=3,
                                   solver="scipy-dop853"))
    path = tmp_path / "run.nc"
    dynamics.results.write_netcdf(ds0, path)
    ds = dynamics.open_run(path)
    assert ds.status.flags.label == "ok" and ds.attrs["config_json"] == ds0.attrs["config_json"]
    run_dir = tmp_path / "train_run"
    run_dir.mkdir()
    dynamics.results.write_netcdf(ds0, run_dir / "log.nc")
    assert dynamics.open_run(run_dir).sizes == ds.sizes  # a training run's folder
    with pytest.raises(ConfigError, match="is a sweep store; open it with dynamics.open_sweep"):
        dynamics.open_run(store)
    with pytest.raises(ConfigError, match="does not exist"):
        dynamics.open_run(tmp_path / "nope.nc")
    (tmp_path / "bad.nc").write_bytes(b"not netcdf")
    with pytest.raises(ConfigError, match="not a readable netCDF"):
        dynamics.open_run(tmp_path / "bad.nc")
    with pytest.raises(ConfigError, match="dynamics.open_run"):
        dynamics.open_sweep(path)


# ------------------------------------------------------------------------------------------ attributes


def test_swept_fields_are_coordinates_only(store):
    ds = dynamics.open_sweep(store, group="long")
    for name in ("beta", "eta", "eta_p_effective"):  # eta_p is unset: its effective value follows eta
        assert name not in ds.attrs, name
    assert ds.attrs["sigma2"] == 0.5 and ds.attrs["alpha_p"] == 1.0 and ds.attrs["t_max"] == 3000.0
    assert dynamics.open_sweep(store, group="modes").attrs["sigma2"] == 0.3
    base = Config.from_json(ds.attrs["config_json"])  # the base configuration, recorded once
    assert base.beta == MODES.beta and "swept" in ds.attrs["config_note"]
    assert ds.attrs["swept"] == "beta eta"


def test_attributes_of_any_axis_hold_for_every_cell():
    """Without integrating: the flat attributes of a grid are those every cell shares; the derived
    ones go with the fields they come from; `theory` names every gradient path's equations."""
    def attrs_of(base, axes):
        grid = Grid(base, make_axes(base, axes), 2)
        return base_attrs(grid, np.array([0.0, 1.0]), sweep_theory(grid, dynamics.results.theory_equations), "lanes")

    a = attrs_of(MODES.replace(target="online", tau0=1.0, predictor="power"),
                 ["predictor_alpha=list:0.5,1", "loss=list:euclidean,isoloss_euclidean"])
    assert "predictor_alpha" not in a and "predictor_alpha_effective" not in a and "loss" not in a
    assert a["predictor"] == "power" and "predictor_eps_effective" in a
    assert "T22" in a["theory"].split() and "T23" in a["theory"].split()
    b = attrs_of(MODES, ["eta_p=list:0,0.1"])
    assert "eta_p" not in b and "eta_p_effective" not in b and b["eta"] == MODES.eta
    c = attrs_of(MODES, ["sigma2=list:0.2,0.5"])
    assert "sigma2" not in c and c["beta"] == MODES.beta


def test_old_stores_lose_contradicting_attributes_on_read(store, tmp_path):
    """A store written before this change kept `beta` beside the `beta` coordinate; reading it
    drops the attribute."""
    import shutil

    copy = tmp_path / "old.zarr"
    shutil.copytree(store, copy)
    group = zarr.open_group(str(copy), path="long", mode="r+")
    group.attrs.update({"beta": 0.5, "eta": 0.01})
    ds = read_store(copy, "long")
    assert "beta" not in ds.attrs and "eta" not in ds.attrs


# ------------------------------------------------------------------------------------------ labels


def test_outcome_and_status_have_names(store):
    ds = dynamics.open_sweep(store, group="long")
    labels = ds.outcome.flags.labels
    assert labels.dims == ds.outcome.dims and labels.name == "outcome_label"
    names = [o.name for o in Outcome]
    for code, name in enumerate(names):
        assert np.all((labels.values == name) == (ds.outcome.values == code))
    counts = ds.outcome.flags.counts()
    assert counts["collapsed"] == 4 and counts["fixed_point"] == 4  # eta = 0.2 > eta*: every mode collapses
    assert list(counts.index) == names and counts.sum() == ds.outcome.size  # zeros included
    series = ds.outcome.flags.to_series()
    assert isinstance(series.dtype, pd.CategoricalDtype) and list(series.dtype.categories) == names
    assert series.index.names == ["beta", "eta", "mode"]
    mask = ds.outcome.flags.mask("collapsed", "fixed_point")
    assert int(mask.sum()) == int(counts["collapsed"] + counts["fixed_point"])
    with pytest.raises(ValueError, match="unknown flag name"):
        ds.outcome.flags.mask("alive")
    assert ds.outcome.attrs["flag_meanings"].split() == names  # the CF flags stay
    assert set(ds.status.flags.labels.values.ravel()) == {"ok"}


def test_cells_of_an_interrupted_store_are_named_not_computed(store, tmp_path):
    import shutil

    copy = tmp_path / "cut.zarr"
    shutil.copytree(store, copy)
    zarr.open_group(str(copy), path="long", mode="r+")["chunk_done"][1] = 0
    ds = read_store(copy, "long")
    assert np.all(ds.status.flags.labels.values[1] == "not_computed")
    assert np.all(ds.outcome.flags.labels.values[1] == "not_computed")
    assert ds.outcome.flags.counts()["not_computed"] == ds.attrs["not_computed"] * 2  # per (point, mode)


# ------------------------------------------------------------------------------------------ warnings


def test_a_sweep_too_short_for_its_cells_warns_with_the_t_max_that_would_do():
    with pytest.warns(NotConvergedWarning, match=r"not converged at t_max = 2: .*not a trap.*about 300 .*with 3 "
                                                 r"saved times the last saved interval"):
        ds = sweep(MODES, AXES, **KW)
    assert ds.outcome.flags.counts()["not_converged"] > 0
    assert suggested_t_max(ds)[0] == 300.0  # 30 EMA time constants at the smallest beta, 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotConvergedWarning)
        long = sweep(LONG, AXES, **LONG_KW)
    assert convergence_note(long) is None and long.outcome.flags.counts()["not_converged"] == 0


def test_convergence_note_threshold_and_fallback():
    """Synthetic outcomes: 2% is allowed, more warns; without an EMA the suggestion is 10 t_max."""
    out = np.full((10, 10), int(Outcome.fixed_point), dtype=np.int8)
    ds = xr.Dataset({"outcome": (("eta", "mode"), out)}, coords={"time": [0.0, 50.0], "eta": np.arange(10.0)},
                    attrs={"config_json": json.dumps({"target": "online", "beta": 0.5})})
    out[0, :2] = int(Outcome.not_converged)
    assert convergence_note(ds) is None
    out[0, 2] = int(Outcome.not_converged)
    note = convergence_note(ds, "sweep g")
    assert note.startswith("sweep g: 3 of 100 (point, mode) cells (3.0%)") and "about 500 " in note
    out[5:] = int(Outcome.not_computed)  # only computed cells count
    assert "3 of 50" in convergence_note(ds)


def test_the_cli_summary_says_what_not_converged_means(tmp_path, capsys):
    args = ["sweep", "--model", "modes", "--n1", "2", "--n2", "2", "--p0", "0.3,1", "--s0", "0.05,1", "--tau0", "0.5",
            "--n-save", "3", "--quiet", "--no-plot", "--param", AXES[0], "--param", AXES[1], "--points-per-chunk", "2"]
    assert main([*args, "--t-max", "2", "--out", str(tmp_path / "a.zarr")]) == 0
    err = capsys.readouterr().err
    assert "sweep modes: warning: " in err and "--t-max 300" in err and "not a trap" in err
    assert "outcomes per (point, mode):" in err and "not_converged" in err
    assert main([*args, "--t-max", "3000", "--n-save", "6", "--out", str(tmp_path / "b.zarr")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_the_main_job_runs_long_enough_for_its_slowest_ema():
    """Every main-job grid has beta * t_max >= 30 at its smallest beta (the target has caught up), the
    rule `suggested_t_max` applies; at the old t_max = 1000 the cell the issue names was still moving."""
    for job in main_jobs():
        beta = min(float(v) for v in make_axes(job.base, job.axes)[0].values)
        assert beta * job.base.t_max >= 30.0, job.group
    modes = main_jobs()[0].base
    cells = {"beta": [0.0104], "eta": [0.029]}
    with pytest.warns(NotConvergedWarning):
        short = sweep(modes.replace(t_max=1000.0), cells, n_save=64, progress=False)
    cell = short.isel(beta=0, eta=0)
    assert list(cell.outcome.flags.labels.values[2:]) == ["not_converged"] * 2  # the two larger modes
    assert abs(float(cell.tau_final.sel(mode=3)) - 0.9926) < 5e-4
    full = sweep(modes, cells, n_save=64, progress=False)
    assert not bool(full.outcome.flags.mask("not_converged").any())
