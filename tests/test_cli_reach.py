"""Every simulator behind one interface (issue 16): `ssl-dynamics simulate` / `sweep` / `plot --kind
compare` reach minibatch SGD, ER and ISSL through `Config`; each run equals the Python API's run with
the same seed bit for bit; a seed sweep's mean and standard error match the per-seed runs; bad values
exit 2 naming the field and write nothing."""

import dataclasses

import jax
import numpy as np
import pytest
import xarray as xr

from dynamics import Config, simulate
from dynamics.cli._main import main
from dynamics.config import ConfigError
from dynamics.config._reach import ER_DEFAULTS, ISSL_DEFAULTS, SGD_DEFAULTS
from dynamics.issl import ISSLSettings, simulate_issl
from dynamics.objectives import ERSettings
from dynamics.stochastic import simulate_er
from dynamics.results import read_netcdf
from dynamics.stochastic import SGDSettings, simulate_sgd

# one set of shapes for every SGD run below, so the training loop compiles once
SIZES = {"n1": 4, "n2": 2}
SGD_FLAGS = ["--n1", "4", "--n2", "2", "--discrete", "--lr", "0.05", "--steps", "40", "--save-every", "10",
             "--batch-size", "16", "--momentum", "0.9", "--ema-momentum", "0.99", "--rho", "0.3",
             "--predictor-freq", "1"]
SGD_KEYS = {"discrete": True, "lr": 0.05, "steps": 40, "save_every": 10, "batch_size": 16, "momentum": 0.9,
            "ema_momentum": 0.99, "rho": 0.3, "predictor_freq": 1}
ISSL_KEYS = {"model": "issl", "n1": 6, "n2": 3, "n_classes": 3, "n_prototypes": 6, "teacher_hidden": 8,
             "lambda_maximality": 2.0, "steps": 20, "save_every": 10, "batch_size": 16, "eval_per_class": 4}


def _flags(keys: dict) -> list[str]:
    out = []
    for k, v in keys.items():
        flag = "--" + k.replace("_", "-")
        out += [flag] if v is True else [flag, str(v)]
    return out


def _toml(keys: dict) -> str:
    return "".join(f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}\n" for k, v in keys.items())


@pytest.fixture(scope="module")
def sgd_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("sgd") / "sgd.nc"
    assert main(["simulate", *SGD_FLAGS, "--seed", "3", "--out", str(path), "--no-plot"]) == 0
    return read_netcdf(path)


def test_discrete_run_round_trips_and_equals_simulate_sgd_bit_for_bit(sgd_run, tmp_path):
    config = Config.from_dataset(sgd_run)
    assert config == Config(**SIZES, **SGD_KEYS, seed=3)
    assert config.simulator == "sgd" and sgd_run.attrs["simulator"] == "sgd" and sgd_run.attrs["discrete"] == 1
    # the independent reference: the stochastic module's own API on a plain flow config, key(seed)
    settings = SGDSettings(0.05, steps=40, save_every=10, batch_size=16, momentum=0.9, ema_momentum=0.99)
    ref = simulate_sgd(Config(**SIZES, seed=3), settings, key=jax.random.key(3))
    for name in ("W", "Wp", "Wa", "eig_F", "time"):
        np.testing.assert_array_equal(sgd_run[name].values, ref[name].values)
    # a discrete config run with other settings records those settings (and their rates)
    other = simulate_sgd(config, settings.replace(ema_momentum=0.9, save_every=20), key=jax.random.key(3))
    assert Config.from_dataset(other) == config.replace(ema_momentum=0.9, save_every=20)
    assert other.sizes["time"] == 3 and Config.from_dataset(other).beta == pytest.approx(0.1 * 0.1 / 0.05)
    # THEORY.md §1: beta = (1 - gamma)(1 - mu) / lr, t = steps lr / (1 - mu)
    assert config.beta == pytest.approx(0.01 * 0.1 / 0.05) and config.t_max == pytest.approx(40 * 0.5)
    # TOML with the same keys gives the same run
    toml = tmp_path / "run.toml"
    toml.write_text(_toml({**SIZES, **SGD_KEYS, "seed": 3}))
    out = tmp_path / "toml.nc"
    assert main(["simulate", "--config", str(toml), "--out", str(out), "--no-plot"]) == 0
    again = read_netcdf(out)
    assert Config.from_dataset(again) == config
    np.testing.assert_array_equal(again["W"].values, sgd_run["W"].values)


def test_er_run_equals_simulate_er(tmp_path):
    keys = {**SIZES, "objective": "er", "kappa": 5.0, "lr": 0.05, "steps": 20, "save_every": 10, "batch_size": 16,
            "eval_samples": 16, "seed": 1}
    out = tmp_path / "er.nc"
    assert main(["simulate", *_flags(keys), "--out", str(out), "--no-plot"]) == 0
    ds = read_netcdf(out)
    config = Config.from_dataset(ds)
    assert config == Config(**keys) and config.discrete and config.simulator == "er"
    ref = simulate_er(Config(**SIZES, seed=1), SGDSettings(0.05, steps=20, save_every=10, batch_size=16),
                      ERSettings(kappa=5.0, eval_samples=16), key=jax.random.key(1))
    for name in ("W", "kernel_entropy", "reconstruction", "er_objective"):
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
    rec = Config(**{**keys, "objective": "rec"})  # the reconstruction term alone: ERSettings' "byol"
    assert rec.simulator == "er" and simulate(rec).attrs["er_objective"] == "byol"


def test_issl_run_round_trips_and_equals_simulate_issl(tmp_path):
    toml = tmp_path / "issl.toml"
    toml.write_text(_toml({**ISSL_KEYS, "seed": 2}))
    out = tmp_path / "issl.nc"
    assert main(["simulate", "--config", str(toml), "--out", str(out), "--no-plot"]) == 0
    ds = read_netcdf(out)
    config = Config.from_dataset(ds)
    assert config == Config(**ISSL_KEYS, seed=2) and config.objective == "dissl"
    settings = ISSLSettings(n1=6, n2=3, n_classes=3, n_prototypes=6, teacher_hidden=8, lambda_maximality=2.0,
                            steps=20, save_every=10, batch_size=16, eval_per_class=4)
    ref = simulate_issl(settings, key=jax.random.key(2))
    for name in ("W", "loss", "probe_accuracy", "etf_distance"):
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
    # time = steps x lr / (1 - momentum); eig_F = squared singular values of W M^T / sqrt(C)
    np.testing.assert_allclose(ds["time"].values, ref["time"].values * 0.05 / (1 - 0.9), rtol=1e-12)
    M = ref["centres"].values
    sv = np.linalg.svd(ref["W"].values @ M.T / np.sqrt(M.shape[0]), compute_uv=False)
    np.testing.assert_allclose(ds["eig_F"].values, sv**2, rtol=1e-10, atol=1e-14)
    assert int(ds["status"]) == 0 and ds["reached"].values.all()
    # default figures of an ISSL result: trajectories only (the (p, s) plane is not its flow)
    assert main(["plot", str(out), "--out", str(tmp_path / "figs")]) == 0
    assert [p.name for p in (tmp_path / "figs").iterdir()] == ["issl_trajectories.png"]


def test_seed_sweep_mean_and_standard_error_match_the_per_seed_runs(tmp_path):
    store = tmp_path / "s.zarr"
    code = main(["sweep", *SGD_FLAGS, "--param", "seed=list:0,1,2", "--out", str(store), "--quiet"])
    assert code == 0
    ds = xr.open_zarr(store, group="sgd").load()
    assert ds.attrs["swept"] == "seed" and Config.from_json(ds.attrs["config_json"]).simulator == "sgd"
    base = Config(**SIZES, **SGD_KEYS)
    finals = np.stack([simulate(base.replace(seed=s))["eig_F"].values[-1] for s in (0, 1, 2)])
    np.testing.assert_array_equal(ds["eig_F_final"].values, finals)
    np.testing.assert_allclose(ds["eig_F_final_mean"].values, finals.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(ds["eig_F_final_sem"].values, finals.std(axis=0, ddof=1) / np.sqrt(3), rtol=1e-12)
    assert "loss_mean" in ds and "loss_sem" in ds and ds["loss_sem"].dims == ("save",)
    assert set(np.unique(ds["outcome"].values)) <= set(ds["outcome"].attrs["flag_values"])
    # a setting of the simulator is an axis too; each point is the run of its own config
    from dynamics.sweep import sweep_sampled

    lrs = sweep_sampled(base, {"lr": [0.05, 0.1]}, progress=False)
    np.testing.assert_array_equal(lrs["eig_F"].values[1], simulate(base.replace(lr=0.1))["eig_F"].values)
    assert lrs["time"].values[1, -1] == pytest.approx(2 * lrs["time"].values[0, -1])
    assert main(["plot", str(store), "--out", str(tmp_path / "figs")]) == 0  # final values, mean ± s.e.
    assert (tmp_path / "figs" / "s_sgd_final.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "argv, field",
    [
        (["--discrete", "--momentum", "1.5"], "momentum"),
        (["--discrete", "--beta", "0.3"], "beta"),
        (["--kappa", "3"], "kappa"),
        (["--objective", "er", "--kappa", "-1"], "kappa"),
        (["--objective", "dissl"], "objective"),
        (["--model", "issl", "--n1", "4"], "n1"),
        (["--model", "issl", "--lambda-maximality", "-2"], "lambda_maximality"),
        (["--discrete", "--model", "modes"], "model"),
        (["--discrete", "--steps", "10", "--save-every", "3"], "save_every"),
        # settings the selected simulator never reads are refused, not ignored
        (["--model", "issl", "--beta", "0.3"], "beta"),
        (["--model", "issl", "--sigma2", "0.1"], "sigma2"),
        (["--model", "issl", "--predictor", "directpred"], "predictor"),
        (["--discrete", "--rtol", "1e-6"], "rtol"),
        (["--objective", "er", "--solver", "dopri5"], "solver"),
        (["--discrete", "--sample-seed", "2"], "sample_seed"),
        # ... and so are settings of the flow that its other settings make irrelevant
        (["--data-seed", "3"], "data_seed"),  # isotropic data: no random basis to draw
        (["--basis", "random"], "basis"),
        (["--sample-seed", "2"], "sample_seed"),  # exact expectation: no sample
        (["--model", "modes", "--n2", "3", "--n1", "3", "--seed", "4"], "seed"),  # given initial modes
    ],
)
def test_bad_value_exits_2_naming_the_field_and_writes_nothing(tmp_path, capsys, argv, field):
    assert main(["simulate", *argv, "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert f"{field} = " in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["--param", "beta=list:0.1,0.2"], ["--param", "objective=list:byol,er"], [],
                                  ["--param", "max_steps=list:100,200"]])
def test_bad_sampled_sweep_exits_2_and_writes_nothing(tmp_path, capsys, argv):
    assert main(["sweep", *SGD_FLAGS, *argv, "--out", str(tmp_path / "s.zarr"), "--quiet"]) == 2
    assert "param = " in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_plot_compare_overlays_a_sampled_run_with_a_flow_run(sgd_run, tmp_path):
    from dynamics.plots import plot_mechanism_comparison
    from dynamics.plots._compare import run_labels

    flow = tmp_path / "flow.nc"
    assert main(["simulate", "--n1", "4", "--n2", "2", "--t-max", "20", "--n-save", "5", "--out", str(flow),
                 "--no-plot"]) == 0
    sgd = tmp_path / "sgd.nc"
    sgd_run.to_netcdf(sgd)
    assert main(["plot", "--kind", "compare", str(flow), str(sgd), "--out", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs" / "flow_vs_sgd_compare.png").stat().st_size > 10_000
    labels = run_labels([read_netcdf(flow), sgd_run])
    assert labels[0].startswith("method=flow") and labels[1].startswith("method=SGD")
    fig = plot_mechanism_comparison([read_netcdf(flow), sgd_run])
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()  # one time axis


def test_defaults_are_the_simulators_own():
    sgd = SGDSettings(0.01, steps=1)
    assert {k: getattr(sgd, k) for k in SGD_DEFAULTS} == SGD_DEFAULTS
    assert {k: getattr(ERSettings(), k) for k in ER_DEFAULTS} == ER_DEFAULTS
    issl = ISSLSettings()
    assert {k: getattr(issl, "learning_rate" if k == "lr" else k) for k in ISSL_DEFAULTS} == ISSL_DEFAULTS
    for f in dataclasses.fields(Config):  # a flow config leaves every sampled setting unset
        if f.name in ISSL_DEFAULTS or f.name in SGD_DEFAULTS or f.name in ER_DEFAULTS:
            assert getattr(Config(), f.name) is None
    with pytest.raises(ConfigError, match="lr"):
        Config(lr=0.1)
    # a flow config's JSON (and so a sweep store's signature) has none of the new settings
    assert not {"objective", "discrete", "lr", "kappa", "n_classes"} & set(Config().to_dict())
    assert Config.from_json(Config(seed=4).to_json()) == Config(seed=4)


def test_an_interrupted_sampled_sweep_resumes_bit_for_bit_and_runs_only_the_missing_points(tmp_path, monkeypatch,
                                                                                          capsys):
    import dynamics._simulate as simulate_module
    from dynamics.sweep._point_log import point_log_folder

    real = simulate_module.simulate
    calls = []

    def counted(config, **kw):
        calls.append(config.seed)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return real(config, **kw)

    monkeypatch.setattr(simulate_module, "simulate", counted)
    argv = ["sweep", *SGD_FLAGS, "--param", "seed=list:0,1,2,3", "--quiet"]
    interrupt_at = 0
    assert main([*argv, "--out", str(tmp_path / "whole.zarr")]) == 0
    interrupt_at, calls[:] = 3, []
    store = tmp_path / "cut.zarr"
    assert main([*argv, "--out", str(store)]) == 130  # interrupted at the third point
    points = point_log_folder(store, "sgd")
    assert sorted(p.name for p in points.glob("*.npz")) == ["p0.npz", "p1.npz"]
    assert main([*argv, "--out", str(store)]) == 2  # neither --resume nor --overwrite: refused, nothing run
    assert "resume = " in capsys.readouterr().err
    assert main([*argv[:-2], "seed=list:0,1,2,4", "--quiet", "--out", str(store), "--resume"]) == 2  # other axes
    interrupt_at, calls[:] = 0, []
    assert main([*argv, "--out", str(store), "--resume"]) == 0
    assert calls == [2, 3] and not points.exists()
    whole = xr.open_zarr(tmp_path / "whole.zarr", group="sgd").load()
    xr.testing.assert_identical(xr.open_zarr(store, group="sgd").load(), whole)
    calls[:] = []
    assert main([*argv, "--out", str(store), "--resume"]) == 0 and calls == []  # finished: read back


@pytest.mark.parametrize("param", ["data_seed=list:0,1", "sample_seed=list:0,1"])
def test_a_flow_sweep_refuses_an_axis_its_runs_never_read(tmp_path, capsys, param):
    """`data_seed` over isotropic data, `sample_seed` with the exact expectation: the same run at every
    value. Refused before anything is written."""
    assert main(["sweep", "--n1", "3", "--n2", "2", "--t-max", "5", "--param", param, "--param", "beta=list:0.1,0.5",
                 "--out", str(tmp_path / "s.zarr"), "--quiet"]) == 2
    assert "param = " in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_an_axis_is_judged_with_the_fields_that_decide_it():
    """`sample_seed` means nothing for the Euclidean loss, whose sampled flow is the exact one; swept beside
    `loss` it is an axis like any other, as is `data_seed` over a random basis (checked, not run)."""
    from dynamics.sweep import check_sweep

    sampled = Config(model="full", n1=3, n2=2, t_max=5.0, expectation="sampled", n_samples=12)
    with pytest.raises(ConfigError, match="sample_seed changes nothing with loss='euclidean'"):
        check_sweep(sampled, ["sample_seed=list:0,1"])
    check_sweep(sampled, ["sample_seed=list:0,1", "loss=list:euclidean,cosine"])
    check_sweep(Config(n1=3, n2=2, data="spectrum", x_eigs=[1.0, 0.5, 0.25], basis="random"), ["data_seed=list:0,1"])
    # SimSiam has no EMA, but a (beta, eta) diagram of it is drawn on purpose beside BYOL's
    check_sweep(Config(model="modes", n1=2, n2=2, target="online"), ["beta=list:0.1,1", "eta=list:0,0.1"])
