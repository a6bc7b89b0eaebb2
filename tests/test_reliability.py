"""Issue #12, reliability: no silent wrong results, no tracebacks, stores that prove their own
integrity. Every reproduction of the issue is a case here: the silent ones now give the right result
or a refusal; every former traceback exits 2 with one line naming the problem, writing nothing.

JAX compilation dominates the cost on a small machine, so the sweeps share a few tiny shapes
(n1 = n2 = 2, three saved times, t_max = 2) and gradient paths.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from dynamics import Config, ConfigError
from dynamics.cli._main import main
from dynamics.results import read_netcdf
from dynamics.sweep import UNSWEEPABLE, Outcome, inspect_group, read_store, sweep, sweepable_fields

# ------------------------------------------------------------------------------------------ helpers


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def refuses(capsys, argv: list[str], *needles: str, folder: Path | None = None) -> str:
    """`main(argv)` exits 2 with one line `ssl-dynamics CMD: error: ...` containing `needles`, and
    writes nothing into `folder`."""
    before = _listing(folder) if folder is not None else None
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"ssl-dynamics {argv[0]}: error: "), err
    for needle in needles:
        assert needle in err, (needle, err)
    if folder is not None:
        assert _listing(folder) == before
    return err


# The tiny eigenmode sweep shared by the store tests: 2 x 2 grid in 2 chunks, three saved times.
BASE_ARGS = ["--model", "modes", "--n1", "2", "--n2", "2", "--p0", "0.3,1", "--s0", "0.05,1", "--tau0", "0.5",
             "--t-max", "2", "--n-save", "3", "--quiet"]
SWEEP_ARGS = [*BASE_ARGS, "--param", "beta=list:0.1,1", "--param", "eta=list:0,0.1", "--points-per-chunk", "2"]
MODES = Config(model="modes", n1=2, n2=2, p0=[0.3, 1.0], s0=[0.05, 1.0], tau0=0.5, t_max=2.0)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """A complete, intact store of `SWEEP_ARGS` (computed once)."""
    store = tmp_path_factory.mktemp("ref") / "ref.zarr"
    assert main(["sweep", *SWEEP_ARGS, "--no-plot", "--out", str(store)]) == 0
    return store


def _copy(reference: Path, tmp_path: Path) -> Path:
    store = tmp_path / "s.zarr"
    shutil.copytree(reference, store)
    return store


def _assert_same(a: xr.Dataset, b: xr.Dataset) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def _chunk_file(store: Path, var: str, chunk: int) -> Path:
    files = sorted((store / "modes" / var / "c" / str(chunk)).rglob("*"))
    files = [f for f in files if f.is_file()]
    assert files, f"no chunk file of {var} for chunk {chunk}"
    return files[0]


# ============================================================ silent wrong results: swept fields (1)


@pytest.mark.parametrize("field", ["t_max", "rtol", "atol", "divergence_threshold", "n_samples"])
def test_shared_integration_fields_are_refused_as_axes(field):
    with pytest.raises(ConfigError, match=rf"^param = .*{field} cannot be swept"):
        sweep(MODES, [f"{field}=list:10,1000"], progress=False)


def test_swept_t_max_reproduction_exits_2_and_says_one_sweep_per_t_max(tmp_path, capsys):
    argv = ["sweep", "--model", "modes", "--n1", "2", "--n2", "2", "--p0", "0.1,1", "--s0", "0.01,1", "--tau0", "0",
            "--t-max", "20", "--param", "t_max=list:10,1000", "--no-plot", "--out", str(tmp_path / "s.zarr")]
    refuses(capsys, argv, "param = 't_max", "run one sweep per t_max", folder=tmp_path)


FULL = Config(model="full", n1=2, n2=2, t_max=2.0, loss="cosine", expectation="sampled", n_samples=12)
#: For every sweepable field: a base config where the field matters, and two values.
AUDIT = {
    "sigma2": (MODES, [0.1, 1.0]),
    "alpha_p": (MODES, [0.5, 2.0]),
    "beta": (MODES, [0.1, 2.0]),
    "eta": (MODES, [0.0, 0.2]),
    "eta_p": (MODES, [0.0, 0.5]),
    "tau0": (MODES, [0.0, 1.0]),
    "init_scale": (MODES.replace(p0=None, s0=None), [0.5, 1.0]),
    "init_scale_p": (MODES.replace(p0=None, s0=None), [0.5, 1.0]),
    "target": (MODES.replace(tau0=1.0), ["ema", "online"]),
    "stop_gradient": (MODES.replace(target="online", tau0=1.0), ["target", "online"]),
    "loss": (MODES, ["euclidean", "isoloss_euclidean"]),
    # the full model: random initial weights, a random data basis, the view-pair sample and the
    # closed-form predictors' parameters (which a full-model sweep used to drop)
    "seed": (FULL, [0, 1]),
    "data_seed": (FULL.replace(data="spectrum", x_eigs=[1.0, 2.0], basis="random"), [0, 1]),
    "sample_seed": (FULL, [0, 1]),
    "expectation": (FULL, ["sampled", "mean_field"]),
    "predictor": (FULL, ["trained", "power_normalized"]),
    "predictor_alpha": (FULL.replace(predictor="power_normalized"), [0.5, 1.0]),
    "predictor_eps": (FULL.replace(predictor="power_normalized"), [0.0, 0.3]),
    "predictor_eps_convention": (FULL.replace(predictor="power_normalized", predictor_eps=0.3),
                                 ["after_power", "before_power"]),
}


@pytest.mark.parametrize("field", sweepable_fields())
def test_every_sweepable_field_changes_the_result(field):
    """Sweeping any field that `sweep` accepts over two values gives two different results: no
    swept value is silently replaced by the base config's. The fields come from the code, so a new
    field fails here until it has an audit case (or is refused as an axis)."""
    assert field in AUDIT, f"{field} is sweepable: add an audit case (a base config where it matters) or refuse it"
    base, values = AUDIT[field]
    ds = sweep(base, {field: values}, progress=False, n_save=3)
    assert np.all(ds.status.values == 0)
    final = "s_final" if "s_final" in ds else "eig_F_final"
    first, second = ds[final].values
    assert not np.allclose(first, second, rtol=1e-6, atol=0), f"{field}: both values gave {first}"
    # and each point is the run of its own config (the first point: the base with the first value)
    alone = sweep(base.replace(**{field: values[1]}), {field: values[1:]}, progress=False, n_save=3)
    np.testing.assert_allclose(ds[final].values[1], alone[final].values[0], rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("field", UNSWEEPABLE)
def test_every_unsweepable_field_is_refused_naming_it(field):
    with pytest.raises(ConfigError, match=rf"^param = .*{field} cannot be swept"):
        sweep(MODES, [f"{field}=list:1,2"], progress=False)


def test_a_full_model_cell_with_a_closed_form_predictor_equals_simulate():
    """A full-model sweep over the predictor honours each point's closed form and its sample
    (`expectation="sampled"`): the power_normalized cell equals `simulate` of its own config."""
    from dynamics import simulate

    ds = sweep(FULL, {"predictor": ["trained", "power_normalized"]}, progress=False, n_save=3)
    ref = simulate(FULL.replace(predictor="power_normalized", n_save=3, save_spacing="log", solver="scipy-dop853"))
    np.testing.assert_allclose(ds.eig_F.values[1], ref.eig_F.values, rtol=1e-6)


def test_axis_combinations_are_validated_before_any_work(tmp_path, capsys):
    """target=online needs tau0 = 1: the combination is refused up front, not in the middle of a sweep."""
    refuses(capsys, ["sweep", *BASE_ARGS, "--param", "target=list:ema,online", "--param", "tau0=list:0.5,1",
                     "--out", str(tmp_path / "s.zarr")], "tau0 = 0.5", folder=tmp_path)


# ============================================================ silent wrong results: interrupted store (2)


def test_an_interrupted_store_reads_and_plots_missing_cells_as_not_computed(reference, tmp_path, capsys):
    store = _copy(reference, tmp_path)
    zarr.open_group(str(store), path="modes", mode="r+")["chunk_done"][1] = 0  # as if killed before chunk 1
    ds = read_store(store, "modes")
    assert ds.attrs["not_computed"] == 2
    assert np.all(ds.outcome.values[1] == Outcome.not_computed) and np.all(ds.outcome.values[0] != 6)
    assert np.all(np.isnan(ds.s_final.values[1])) and np.all(np.isfinite(ds.s_final.values[0]))
    assert np.all(ds.status.values[1] == -1) and np.all(ds.status.values[0] == 0)
    out = tmp_path / "figs"
    capsys.readouterr()
    assert main(["plot", str(store), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "2 of 4 cells not computed" in err
    assert (out / "s_modes_outcome.png").stat().st_size > 10_000
    from dynamics.plots import plot_outcome_map

    fig = plot_outcome_map(ds)
    cells = np.ma.asarray(fig.axes[0].collections[0].get_array()).reshape(2, 2)  # rows: eta, cols: beta
    assert cells.mask[:, 1].all() and not cells.mask[:, 0].any()  # the missing beta column is not coloured
    assert fig.axes[0].collections[1].get_hatch()  # ... but hatched on top


# ============================================================ store integrity (3): faults, verify, resume


def _resume(store: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["sweep", *SWEEP_ARGS, "--no-plot", "--resume", "--out", str(store)]) == 0
    return capsys.readouterr().err


def _verify(store: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", str(store)])
    return code, capsys.readouterr().out


def _damage(store: Path, fault: str) -> None:
    if fault == "delete outcome chunk":
        _chunk_file(store, "outcome", 1).unlink()
    elif fault == "delete s_final chunk":
        _chunk_file(store, "s_final", 0).unlink()
    elif fault == "corrupt s_final chunk":
        _chunk_file(store, "s_final", 1).write_bytes(b"\x28\xb5\x2f\xfd garbage")
    elif fault == "delete p metadata":
        (store / "modes" / "p" / "zarr.json").unlink()
    elif fault == "delete checksum metadata":
        (store / "modes" / "chunk_checksum" / "zarr.json").unlink()
    elif fault == "damage a coordinate":
        zarr.open_group(str(store), path="modes", mode="r+")["eta"][1] = 0.5
    elif fault == "kill mid-chunk":  # chunk 1 half rewritten, its done flag cleared before the write
        root = zarr.open_group(str(store), path="modes", mode="r+")
        root["chunk_done"][1] = 0
        root["p"][1:2] = 0.0
    else:
        raise AssertionError(fault)


FAULTS = ["delete outcome chunk", "delete s_final chunk", "corrupt s_final chunk", "delete p metadata",
          "delete checksum metadata", "damage a coordinate", "kill mid-chunk"]


@pytest.mark.parametrize("fault", FAULTS)
def test_verify_detects_and_resume_repairs(reference, tmp_path, capsys, fault):
    store = _copy(reference, tmp_path)
    _damage(store, fault)
    code, report = _verify(store, capsys)
    assert code == 1 and "NOT intact" in report, report
    err = _resume(store, capsys)
    assert "recomputed" in err or "restored" in err or "rewrote" in err or fault == "kill mid-chunk", err
    code, report = _verify(store, capsys)
    assert code == 0 and "2 done and intact" in report, report
    _assert_same(read_store(store, "modes"), read_store(reference, "modes"))


def test_verify_reports_an_intact_store_with_exit_0(reference, capsys):
    code, report = _verify(reference, capsys)
    assert code == 0
    assert "group modes: 2 chunks: 2 done and intact, 0 not computed, 0 corrupt" in report


def test_a_corrupt_store_never_gives_a_traceback_to_plot(reference, tmp_path, capsys):
    """A corrupt chunk is drawn as not computed (with the warning); damaged metadata is refused
    with a pointer to --resume; neither crashes."""
    store = _copy(reference, tmp_path)
    _damage(store, "corrupt s_final chunk")
    capsys.readouterr()
    assert main(["plot", str(store), "--out", str(tmp_path / "a"), "--kind", "final"]) == 0
    assert "2 of 4 cells not computed" in capsys.readouterr().err
    _damage(store, "delete p metadata")
    refuses(capsys, ["plot", str(store), "--out", str(tmp_path / "b")], "damaged metadata", "--resume")


def test_store_beyond_repair_is_refused_with_overwrite_hint(reference, tmp_path, capsys):
    store = _copy(reference, tmp_path)
    (store / "modes" / "zarr.json").unlink()
    code, report = _verify(store, capsys)
    assert code == 1 and "unreadable" in report
    refuses(capsys, ["sweep", *SWEEP_ARGS, "--no-plot", "--resume", "--out", str(store)], "--overwrite")


# ============================================================ silent wrong results: complex matrices (4)


@pytest.mark.parametrize("kind, needle", [("complex", "complex numbers"), ("string", "dtype <U")])
def test_a_non_real_npy_matrix_is_refused(tmp_path, capsys, kind, needle):
    data = np.eye(2) + 1j * np.eye(2) if kind == "complex" else np.array([["1", "0"], ["0", "1"]])
    np.save(tmp_path / "X.npy", data)
    refuses(capsys, ["simulate", "--n1", "2", "--n2", "2", "--data", "matrices", "--X", str(tmp_path / "X.npy"),
                     "--Xprime", str(tmp_path / "X.npy"), "--out", str(tmp_path / "x.nc")], "X = ", needle,
            folder=tmp_path)


# ============================================================ tracebacks -> exit 2, nothing written


@pytest.mark.parametrize("argv, needle", [
    (["--seed", "99999999999999999999"], "seed = 99999999999999999999"),
    (["--n1", "100000000"], "size = "),
    (["--n-save", "3000000000"], "n_save = 3000000000"),
])
def test_out_of_range_settings_exit_2_before_work(tmp_path, capsys, argv, needle):
    for cmd in (["simulate", "--out", str(tmp_path / "x.nc")],
                ["sweep", "--param", "beta=list:0.1,1", "--out", str(tmp_path / "x.zarr")]):
        refuses(capsys, [cmd[0], *argv, *cmd[1:]], needle, folder=tmp_path)


def test_seed_1e30_in_a_toml_file_is_refused(tmp_path, capsys):
    (tmp_path / "c.toml").write_text("seed = 1e30\n")
    refuses(capsys, ["simulate", "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "x.nc")],
            "seed = 1e+30", "2**32 - 1", folder=tmp_path)


def test_a_toml_file_that_is_not_utf8_is_refused(tmp_path, capsys):
    (tmp_path / "c.toml").write_bytes(b"beta = 0.5\n# \xff\xfe latin-1 comment \xe9\n")
    refuses(capsys, ["simulate", "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "x.nc")],
            "config = ", "not UTF-8", folder=tmp_path)


def test_huge_axes_are_refused_with_their_size(tmp_path, capsys):
    refuses(capsys, ["sweep", "--param", "beta=lin:0:1:1000000000000", "--out", str(tmp_path / "s.zarr")],
            "beta = ", "TiB", folder=tmp_path)
    refuses(capsys, ["sweep", "--model", "modes", "--n1", "4", "--n2", "4", "--param", "beta=geom:1e-3:1:5000",
                     "--param", "eta=lin:0:1:5000", "--out", str(tmp_path / "s.zarr")],
            "size = ", "25000000 grid points", folder=tmp_path)


@pytest.fixture()
def readonly(tmp_path, monkeypatch) -> Path:
    """A folder nobody may write into (as root, whom permissions do not stop, the access check is
    told so)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        from dynamics.config import _paths

        real = _paths.can_write
        monkeypatch.setattr(_paths, "can_write", lambda p: Path(p).absolute() != folder.absolute() and real(p))
    yield folder
    folder.chmod(0o755)


def test_read_only_output_folders_are_refused_by_every_command(reference, readonly, tmp_path, capsys):
    refuses(capsys, ["simulate", "--out", str(readonly / "x.nc")], "not writable", folder=readonly)
    refuses(capsys, ["sweep", "--param", "beta=list:0.1,1", "--out", str(readonly / "s.zarr")], "not writable",
            folder=readonly)
    refuses(capsys, ["plot", str(reference), "--out", str(readonly)], "not writable", folder=readonly)


def test_outputs_of_the_wrong_kind_are_refused(tmp_path, capsys):
    (tmp_path / "folder.nc").mkdir()
    (tmp_path / "file.zarr").write_text("x")
    refuses(capsys, ["simulate", "--out", str(tmp_path / "folder.nc")], "is a folder", folder=tmp_path)
    refuses(capsys, ["sweep", "--param", "beta=list:0.1,1", "--out", str(tmp_path / "file.zarr")], "is a file",
            folder=tmp_path)
    refuses(capsys, ["sweep", "--param", "beta=list:0.1,1", "--out", str(tmp_path / "s.nc")], "must end in .zarr",
            folder=tmp_path)
    refuses(capsys, ["plot", str(tmp_path / "folder.nc"), "--out", str(tmp_path / "file.zarr")], "is a file",
            folder=tmp_path)


def test_plot_refuses_files_it_cannot_read_and_bad_axes(reference, tmp_path, capsys):
    out = tmp_path / "figs"
    (tmp_path / "text.nc").write_text("not netcdf")
    refuses(capsys, ["plot", str(tmp_path / "text.nc"), "--out", str(out)], "not a readable netCDF")
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(tmp_path / "other.nc")
    refuses(capsys, ["plot", str(tmp_path / "other.nc"), "--out", str(out)], "not a result of ssl-dynamics simulate")
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_zarr(tmp_path / "other.zarr", group="g", consolidated=False)
    refuses(capsys, ["plot", str(tmp_path / "other.zarr"), "--out", str(out)], "not a readable sweep store")
    refuses(capsys, ["plot", str(reference), "--x", "nonexist", "--out", str(out)], "x = 'nonexist'", "beta, eta")
    refuses(capsys, ["plot", str(reference), "--group", "nope", "--out", str(out)], "group = 'nope'", "modes")
    refuses(capsys, ["plot", str(reference), "--x", "beta", "--y", "beta", "--out", str(out)], "y = 'beta'",
            "must differ")
    assert not out.exists()


def test_a_sweep_over_a_name_axis_draws_its_phase_diagrams(tmp_path, capsys):
    """README allows `--param stop_gradient=list:target,online`; its figures used to crash after the
    data were written. The categorical axis gets one tick per name."""
    out = tmp_path / "s.zarr"
    assert main(["sweep", *BASE_ARGS, "--target", "online", "--tau0", "1", "--param",
                 "stop_gradient=list:target,online", "--param", "eta=list:0,0.1", "--out", str(out)]) == 0
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["s_modes_outcome.png", "s_modes_s_final.png", "s_modes_time_to_converge.png"]
    from dynamics.plots import plot_outcome_map

    fig = plot_outcome_map(read_store(out, "modes"))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["target", "online"]
    assert main(["verify", str(out)]) == 0  # the names' coordinate hashes to its text, not to pointers


def test_theory_fixed_points_labels_distinct_roots_at_tiny_eta(capsys):
    """At eta = 1e-10 the distinct roots p*0 = 0 and p*- ~ eta / tau were both labelled "p*0 = p*-"
    (an absolute tolerance of 1e-9 merged them)."""
    capsys.readouterr()
    assert main(["theory", "fixed-points", "--eta", "1e-10"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("p*")}
    assert set(rows) == {"p*0", "p*-", "p*+"}, rows
    assert " p=0 " in rows["p*0"] and " p=1e-10 " in rows["p*-"]


def test_theory_fixed_points_refuses_eta_below_the_exact_solve_floor(capsys):
    """eta = 1e-300 raised TypeError (a sympy Relational); the exact solve is refused below 1e-12
    (minutes for the (p, s, tau) system, roots lost by sympy at r = 1e-300), naming the floor."""
    refuses(capsys, ["theory", "fixed-points", "--eta", "1e-300"], "eta = 1e-300", "between 1e-12 and 1e+12")
    with pytest.raises(ConfigError, match="^r = 1e-300"):
        from dynamics.symbolic import fixed_points, named_system

        fixed_points(named_system("euclidean"), {"sigma2": 0.5, "alpha": 0.5, "r": 1e-300})


def test_stability_signs_are_decided_at_eta_1e_300():
    """The sign test behind the TypeError: a difference of nearly equal exact numbers is resolved
    with more working precision instead of a sympy Relational."""
    from dynamics.symbolic import fixed_points, named_system, stability

    system = named_system("parabola")
    values = {"sigma2": 0.5, "eta": 1e-300, "eta_p": 1e-300, "tau": 1.0}
    verdicts = {p.name: stability(system, p, values).classification for p in fixed_points(system)}
    assert verdicts["p*+"] == "stable" and set(verdicts) == {"p*0", "p*-", "p*+"}


# ============================================================ smaller items


SCIPY = ["--model", "modes", "--n1", "2", "--n2", "2", "--t-max", "1", "--n-save", "3", "--solver", "scipy-dop853",
         "--no-plot"]


def test_simulate_refuses_to_overwrite_without_overwrite(tmp_path, capsys):
    out = tmp_path / "run.nc"
    assert main(["simulate", *SCIPY, "--out", str(out)]) == 0
    before = out.read_bytes()
    refuses(capsys, ["simulate", *SCIPY, "--beta", "0.3", "--out", str(out)], "already exists", "--overwrite",
            folder=tmp_path)
    assert out.read_bytes() == before
    assert main(["simulate", *SCIPY, "--beta", "0.3", "--overwrite", "--out", str(out)]) == 0
    assert json.loads(read_netcdf(out).attrs["config_json"])["beta"] == 0.3


def test_a_negative_axis_seed_is_refused(tmp_path, capsys):
    refuses(capsys, ["sweep", "--axis-seed", "-1", "--param", "beta=rand:0:1:3", "--out", str(tmp_path / "s.zarr")],
            "axis_seed = -1", folder=tmp_path)


def test_duplicate_axis_values_are_refused(tmp_path, capsys):
    refuses(capsys, ["sweep", "--param", "beta=list:0.1,0.1", "--out", str(tmp_path / "s.zarr")], "beta = 0.1",
            "appears twice", folder=tmp_path)


def test_negative_lists_parse_as_values(tmp_path, capsys):
    """`--s0 -1,1` reached argparse as an unknown flag; now it is a value (and is checked as one)."""
    refuses(capsys, ["simulate", *SCIPY, "--s0", "-1,1", "--out", str(tmp_path / "x.nc")], "s0 = (-1.0, 1.0)")
    assert main(["simulate", *SCIPY, "--p0", "-0.1,1", "--tau0", "-0.5", "--out", str(tmp_path / "y.nc")]) == 0
    cfg = json.loads(read_netcdf(tmp_path / "y.nc").attrs["config_json"])
    assert cfg["p0"] == [-0.1, 1.0] and cfg["tau0"] == -0.5


def test_a_stiff_run_that_fails_at_once_keeps_its_initial_state(tmp_path, capsys):
    """--alpha-p 1e6 with tsit5: no accepted step. The t = 0 row is the initial state (not NaN), the
    status is not ok and the message suggests a stiff solver."""
    out = tmp_path / "stiff.nc"
    capsys.readouterr()
    code = main(["simulate", "--model", "modes", "--n1", "2", "--n2", "2", "--s0", "0.5,1", "--p0", "0.5,1",
                 "--alpha-p", "1e6", "--t-max", "10", "--n-save", "3", "--max-steps", "64", "--no-plot",
                 "--out", str(out)])
    assert code == 1
    assert "scipy-radau" in capsys.readouterr().err
    ds = read_netcdf(out)
    np.testing.assert_allclose(ds.s.values[0], [0.5, 1.0], rtol=1e-15)
    assert np.all(np.isnan(ds.s.values[1:]))


def test_console_script_gives_no_traceback_for_a_corrupt_store(reference, tmp_path):
    """The installed entry point, end to end: verify on a damaged store exits 1 without a traceback."""
    store = _copy(reference, tmp_path)
    _damage(store, "corrupt s_final chunk")
    proc = subprocess.run([sys.executable, "-m", "dynamics", "verify", str(store)], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "1 corrupt" in proc.stdout and "s_final unreadable" in proc.stdout
