"""The training bridge: the theory's own network follows the mapped flow (positive and negative
controls), BYOL keeps its rank where SimSiam without stop-gradient collapses, the predictor aligns with
F, resume after a kill is bit for bit, and data parallelism (two host devices, two processes) gives the
numbers of one device."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dynamics import ConfigError, simulate
from dynamics.bridge import TrainConfig, flow_config, train
from dynamics.cli._main import main
from dynamics.results import read_netcdf

#: The theory's network: linear encoder W (4 x 8) and linear predictor Wp, Euclidean loss (T1), plain SGD,
#: constant rates, on synthetic data with X = I, X' = 0.5 I (the simulator's isotropic default).
LINEAR = dict(dataset="synthetic", input_dim=8, synthetic_train=4096, model="linear", feature_dim=4,
              predictor="linear", loss="euclidean", momentum=0.0, weight_decay=0.02, lr_schedule="constant",
              ema_schedule="constant", ema_momentum=0.99, online_probe=False, linear_probe=False)
#: A small nonlinear network (MLP encoder + projector with BatchNorm, MLP predictor, cosine loss).
MLP = dict(dataset="synthetic", input_dim=16, model="mlp", batch_size=128, lr=0.05, online_probe=False,
           linear_probe=False)
#: Tolerance of the positive control: max over modes and rows of |measured - flow| / max |flow|, for eig_F
#: and eig_Wp. Measured 0.9% at lr 0.01, batch 1024 (SGD's O(lr) bias plus minibatch noise O(sqrt(lr/B))),
#: 0.45% at lr 0.005; 3% leaves room for platform differences, and every wrong mapping below is >= 13%.
FLOW_TOL = 0.03
ROOT = Path(__file__).parent.parent


def _flow_error(log, sim) -> float:
    err = [np.max(np.abs(log[v].values - sim[v].values)) / np.max(np.abs(sim[v].values)) for v in ("eig_F", "eig_Wp")]
    return float(max(err))


@pytest.fixture(scope="module")
def linear_log():
    return train(TrainConfig(**LINEAR, lr=0.01, batch_size=1024, steps=1000, log_every=100), progress=False)


def test_linear_encoder_follows_the_mapped_flow_and_a_wrong_mapping_does_not(linear_log):
    config = flow_config(linear_log)
    assert config.beta == pytest.approx(1.0) and config.eta == 0.02 and config.t_max == pytest.approx(10.0)
    assert _flow_error(linear_log, simulate(config)) < FLOW_TOL
    # negative controls: an EMA rate off by 10x, or a time axis off by the factor 2 of a forgotten loss scale
    assert _flow_error(linear_log, simulate(config.replace(beta=config.beta / 10))) > 3 * FLOW_TOL
    assert _flow_error(linear_log, simulate(config.replace(t_max=2 * config.t_max))) > 3 * FLOW_TOL


def test_linear_predictor_aligns_with_F_and_theorem1_holds(linear_log):
    rel = linear_log.commutator_relative.values
    assert rel[-1] < 0.7 * rel[0]                               # measured 0.56 -> 0.33
    assert linear_log.alignment.values[-1] > 0.85 > linear_log.alignment.values[0]
    # (T6): the Gram difference decays as exp(-2 eta t); SGD adds O(lr), measured 1%
    assert np.nanmax(linear_log.balance_residual.values) < 0.03


def test_log_is_in_the_simulators_schema(linear_log):
    log = linear_log
    assert log.time.values[0] == 0 and np.allclose(np.diff(log.time.values), 1.0)  # lr 0.01 x 100 steps
    assert list(log.step.values) == list(range(0, 1001, 100))
    for name in ("eig_F", "eig_Wp", "tau", "p", "commutator", "balance_residual", "effective_rank",
                 "kernel_entropy", "loss", "knn_accuracy", "lr", "ema_momentum", "beta", "W", "Wp", "Wa"):
        assert name in log, name
    assert log.eig_F.dims == ("time", "mode") and log.sizes["mode"] == 4
    for key in ("alpha_p", "beta", "eta", "eta_p", "device", "train_config_json", "version_flax", "images_per_second"):
        assert key in log.attrs, key
    assert TrainConfig.from_json(log.attrs["train_config_json"]).lr == 0.01
    np.testing.assert_allclose(log.beta.values, 1.0, rtol=1e-6)          # (1 - 0.99) / 0.01
    # the target of the EMA run sits between the online weights' past and present: tau near 1
    assert np.all(np.abs(log.tau.values[-1][log.eig_F.values[-1] > 1e-3] - 1) < 0.1)


def test_byol_keeps_rank_while_simsiam_without_stop_gradient_collapses():
    byol = train(TrainConfig(**MLP, method="byol", steps=60, log_every=20), progress=False)
    no_sg = train(TrainConfig(**MLP, method="simsiam", stop_gradient=False, steps=60, log_every=20), progress=False)
    assert np.min(byol.effective_rank.values) > 5                     # measured 10-12 of 64
    assert no_sg.effective_rank.values[-1] < 1.3                      # measured 1.1: one direction left
    assert no_sg.attrs["stop_gradient"] == "false"


def test_a_diverging_run_is_marked_nonfinite_not_a_traceback(tmp_path, capsys):
    """A learning rate far too large for the Euclidean loss: the weights overflow within a few steps. The
    run stops at the first logged row with a non-finite quantity (measured: NaN by step 5) and says so; it
    used to fail inside the eigensolver of the predictor's spectrum (LinAlgError)."""
    args = ["train", "--dataset", "synthetic", "--input-dim", "16", "--model", "mlp", "--batch-size", "64",
            "--lr", "20", "--momentum", "0.9", "--loss", "euclidean", "--steps", "30", "--log-every", "5",
            "--no-online-probe", "--no-linear-probe", "--quiet", "--out", str(tmp_path / "div")]
    assert main(args) == 1
    log = read_netcdf(tmp_path / "div" / "log.nc")
    assert log.attrs["status_name"] == "nonfinite"
    assert np.all(np.isnan(log.eig_F.values[-1])) and np.all(np.isfinite(log.eig_F.values[0]))
    assert log.step.values[-1] < 30
    assert "status nonfinite" in capsys.readouterr().err


def _run_args(out, *extra):
    return ["train", "--dataset", "synthetic", "--input-dim", "16", "--model", "mlp", "--batch-size", "128",
            "--lr", "0.05", "--no-linear-probe", "--quiet", "--out", str(out), *extra]


def _same_logs(a, b, exact=True, rtol=0.0):
    """Equal logs: bit for bit, or within `rtol` of each variable's largest magnitude. Approximately, the
    quantities that depend on F's eigenvectors (tau, eig_C, p) are compared on the modes above 1% of the top
    eigenvalue: below it nearly degenerate eigenvalues let rounding rotate their eigenvectors."""
    big = b.eig_F.values >= 1e-2 * b.eig_F.values[:, :1]
    skip = {"wall_seconds", "train_seconds", "images_per_second", "device_count", "process_count"}
    for name in a.data_vars:
        if name == "images_per_second":
            continue
        if exact:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        else:
            x, y = a[name].values, b[name].values
            if name in ("tau", "eig_C", "p"):
                x, y = np.where(big, x, 0.0), np.where(big, y, 0.0)
            scale = float(np.nanmax(np.abs(y))) if y.size else 0.0
            np.testing.assert_allclose(x, y, rtol=0, atol=rtol * scale + 1e-12, err_msg=name)
    np.testing.assert_array_equal(a.time.values, b.time.values)
    assert {k: v for k, v in a.attrs.items() if k not in skip}.keys() == {
        k: v for k, v in b.attrs.items() if k not in skip}.keys()


@pytest.fixture(scope="module")
def one_device_run(tmp_path_factory):
    """The 20-step MLP run on one device that the data-parallel runs must reproduce (shared)."""
    out = tmp_path_factory.mktemp("one") / "one"
    args = _run_args(out, "--steps", "20", "--log-every", "5", "--cpu-devices", "1")
    assert main(args) == 0
    return args, read_netcdf(out / "log.nc")


def test_killed_run_resumes_bit_for_bit(tmp_path):
    args = _run_args(tmp_path / "killed", "--steps", "200", "--log-every", "20", "--checkpoint-every", "20",
                     "--cpu-devices", "1")
    proc = subprocess.Popen([sys.executable, "-m", "dynamics.cli._main", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 120
    while time.time() < deadline and not (ckpts.exists() and any(p.name.isdigit() and int(p.name) >= 40
                                                                 for p in ckpts.iterdir())):
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sorted(int(p.name) for p in ckpts.iterdir() if p.name.isdigit())
    assert done and done[-1] < 200, "killed mid-run"
    assert main(args + ["--resume"]) == 0                                      # continues, exit 0
    resumed = read_netcdf(tmp_path / "killed" / "log.nc")
    full_args = _run_args(tmp_path / "full", "--steps", "200", "--log-every", "20", "--checkpoint-every", "20",
                          "--cpu-devices", "1")
    assert main(full_args) == 0
    full = read_netcdf(tmp_path / "full" / "log.nc")
    _same_logs(resumed, full, exact=True)


def test_resume_with_another_config_is_refused(one_device_run, capsys):
    args, _ = one_device_run
    assert main(args) == 2                                               # exists: --resume or --overwrite
    assert "already holds a run" in capsys.readouterr().err
    assert main(args[:-2] + ["--lr", "0.1", "--resume"]) == 2
    assert "differs in: lr" in capsys.readouterr().err


def test_two_host_devices_give_the_numbers_of_one(tmp_path, one_device_run):
    args = _run_args(tmp_path / "two", "--steps", "20", "--log-every", "5", "--cpu-devices", "2")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    subprocess.run([sys.executable, "-m", "dynamics.cli._main", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    two = read_netcdf(tmp_path / "two" / "log.nc")
    assert two.attrs["device_count"] == 2
    one = one_device_run[1]
    # float32 sums in another order: equal to rounding, amplified by 20 steps (measured <= 1e-5 relative)
    _same_logs(two, one, exact=False, rtol=1e-3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_on_loopback_give_the_numbers_of_one(tmp_path, one_device_run):
    port = _free_port()
    procs = []
    for pid in range(2):
        args = _run_args(tmp_path / "multi", "--steps", "20", "--log-every", "5", "--cpu-devices", "1",
                         "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(pid))
        procs.append(subprocess.Popen([sys.executable, "-m", "dynamics.cli._main", *args], cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()[-2000:]
    multi = read_netcdf(tmp_path / "multi" / "log.nc")
    assert multi.attrs["process_count"] == 2 and multi.attrs["device_count"] == 2
    _same_logs(multi, one_device_run[1], exact=False, rtol=1e-3)


@pytest.mark.parametrize("argv, field", [
    (["--lr", "-1"], "lr"),
    (["--batch-size", "1"], "batch_size"),
    (["--method", "byol", "--predictor-eps", "0.1"], "predictor_eps"),
    (["--dataset", "synthetic", "--model", "resnet18"], "model"),
    (["--momentum", "1"], "momentum"),
    (["--dataset", "cifar10", "--data-dir", "/nonexistent/folder"], "data_dir"),
])
def test_bad_settings_exit_2_naming_the_field_and_write_nothing(tmp_path, capsys, argv, field):
    out = tmp_path / "run"
    assert main(["train", *argv, "--quiet", "--out", str(out)]) == 2
    assert f"{field} = " in capsys.readouterr().err
    assert not out.exists()


def test_config_round_trip_and_flow_rates():
    config = TrainConfig(lr=0.03, momentum=0.9, ema_momentum=0.996, weight_decay=4e-4, loss="euclidean")
    assert TrainConfig.from_json(config.to_json()) == config
    rates = config.flow_rates()   # THEORY.md §1's worked example: beta ~= 0.0133, eta = 4e-4
    assert rates.beta == pytest.approx(0.004 * 0.1 / 0.03) and rates.eta == pytest.approx(4e-4)
    cosine = config.replace(loss="cosine").flow_rates()   # BYOL's 2 - 2 cos: twice the gradient of -cos
    assert cosine.time_per_step == pytest.approx(2 * rates.time_per_step) and cosine.eta == pytest.approx(2e-4)
    with pytest.raises(ConfigError, match="^model = "):
        flow_config(train(TrainConfig(**{**MLP, "steps": 2, "log_every": 1}), progress=False))
    assert json.loads(config.to_json())["lr"] == 0.03
