"""Sweeps: axis syntax, outcome classification against T17, zarr store, resume after a kill
(bit for bit), the Dask backend, sharding over several devices, and CLI errors."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
import zarr

from dynamics import Config, ConfigError, simulate
from dynamics.cli._main import main
from dynamics.sweep import Outcome, _chunk, parse_axis, stable_fixed_point, sweep

# Small eigenmode problem shared by the tests below (one compile per lane count).
BASE = Config(model="modes", n1=2, n2=2, s0=[0.01, 1.0], p0=[0.1, 1.0], tau0=0.0, t_max=300.0)
AXES = ["beta=geom:1e-2:1:4", "eta=lin:0:0.2:5"]


def test_axis_syntax():
    a = parse_axis("beta=geom:1e-3:10:5")
    assert a.name == "beta" and a.values[0] == 1e-3 and a.values[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(np.diff(np.log(a.values)), np.log(10.0))
    assert parse_axis("alpha-p=lin:0.5:2:4").name == "alpha_p"
    np.testing.assert_allclose(parse_axis("eta=lin:0:0.2:3").values, [0.0, 0.1, 0.2])
    assert list(parse_axis("target=list:ema,online").values) == ["ema", "online"]
    assert parse_axis("seed=list:0,1,2").values.dtype == np.int64
    r1, r2 = parse_axis("sigma2=rand:0.1:1:6:log", seed=3), parse_axis("sigma2=rand:0.1:1:6:log", seed=3)
    np.testing.assert_array_equal(r1.values, r2.values)
    assert np.all((r1.values >= 0.1) & (r1.values <= 1.0)) and np.all(np.diff(r1.values) >= 0)


@pytest.mark.parametrize(
    "text, field",
    [
        ("bta=lin:0:1:3", "param"),
        ("n1=list:1,2", "param"),
        ("beta=geom:0:1:3", "beta"),
        ("beta=lin:0:1:0", "beta"),
        ("beta=cubic:0:1:3", "beta"),
        ("beta=lin:0:1", "beta"),
        ("target=list:ema,banana", "target"),
        ("beta", "param"),
    ],
)
def test_bad_axis_names_the_field(text, field):
    with pytest.raises(ConfigError, match=rf"^{field} = "):
        parse_axis(text)


def test_axis_values_are_validated_against_the_config():
    with pytest.raises(ConfigError, match=r"^beta = -1.0"):
        sweep(BASE, ["beta=lin:-1:1:3"], progress=False)


def test_outcomes_of_a_known_grid_match_T17():
    """SimSiam (tau = 1), modes above p*_-: eta below eta* = 1/6 gives the fixed point p*_+ of T17,
    eta above it collapses every mode (THEORY.md §5)."""
    base = Config(model="modes", n1=2, n2=2, target="online", s0=[0.04, 1.0], p0=[0.2, 1.0], t_max=2000.0)
    ds = sweep(base, ["eta=list:0.02,0.1,0.2"], progress=False)
    out = ds.outcome.values
    assert np.all(out[:2] == Outcome.fixed_point) and np.all(out[2] == Outcome.collapsed)
    p_star = stable_fixed_point(1.0, 1.0, 1.5, ds.eta.values[:2])
    np.testing.assert_allclose(ds.p_final.values[:2], np.repeat(p_star[:, None], 2, axis=1), rtol=1e-6)
    assert np.all(ds.status.values == 0)


def _assert_identical(a, b):
    names = set(a.data_vars) - {"chunk_done"}
    assert names == set(b.data_vars) - {"chunk_done"}
    for name in names:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_store_round_trip_and_incompatible_resume(tmp_path):
    store = tmp_path / "s.zarr"
    mem = sweep(BASE, AXES, progress=False, points_per_chunk=5)
    disk = sweep(BASE, AXES, out=store, progress=False, points_per_chunk=5)
    _assert_identical(mem, disk)
    assert disk.attrs["n_chunks"] == 4 and np.all(disk.chunk_done.values == 1)
    assert Config.from_json(disk.attrs["config_json"]).model == "modes"
    # chunking is fixed in the store: a zarr chunk per region
    assert zarr.open_group(str(store), path="modes", mode="r")["p"].chunks[0] == 1
    with pytest.raises(ConfigError, match="already holds"):
        sweep(BASE, AXES, out=store, progress=False, points_per_chunk=5)
    with pytest.raises(ConfigError, match="^resume = .*different sweep"):
        sweep(BASE.replace(sigma2=0.3), AXES, out=store, progress=False, points_per_chunk=5, resume=True)
    again = sweep(BASE, AXES, out=store, progress=False, points_per_chunk=5, resume=True)
    _assert_identical(mem, again)


def test_killed_sweep_resumes_bit_for_bit(tmp_path):
    """Kill a running `ssl-dynamics sweep` subprocess mid-way, resume it, and compare with an
    uninterrupted run: every array is identical (fixed chunking, deterministic chunks)."""
    args = ["--model", "modes", "--n1", "2", "--n2", "2", "--s0", "0.01,1", "--p0", "0.1,1", "--tau0", "0",
            "--t-max", "300", "--param", "beta=geom:1e-2:1:48", "--param", "eta=lin:0:0.2:5",
            "--points-per-chunk", "5", "--no-plot", "--quiet"]
    store = tmp_path / "killed.zarr"
    cmd = [sys.executable, "-m", "dynamics", "sweep", *args, "--out", str(store)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            done = int(np.sum(zarr.open_group(str(store), path="modes", mode="r")["chunk_done"][:]))
        except Exception:  # noqa: BLE001 - the store may not exist yet
            done = 0
        if done >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = np.asarray(zarr.open_group(str(store), path="modes", mode="r")["chunk_done"][:])
    assert 0 < partial.sum() < partial.size
    assert main(["sweep", *args, "--out", str(store), "--resume"]) == 0
    reference = tmp_path / "ref.zarr"
    assert main(["sweep", *args, "--out", str(reference)]) == 0
    from dynamics.sweep._store import read_store

    _assert_identical(read_store(store, "modes"), read_store(reference, "modes"))


def test_dask_local_cluster_gives_the_same_numbers(tmp_path):
    """Chunks shipped to a small local Dask cluster (two threaded workers, reached through its
    scheduler address as `--scheduler` would be), each worker writing its own zarr region."""
    from dask.distributed import LocalCluster

    local = sweep(BASE, AXES, progress=False, points_per_chunk=5)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        distributed = sweep(BASE, AXES, out=tmp_path / "d.zarr", progress=False, points_per_chunk=5,
                            scheduler=cluster.scheduler_address)
    _assert_identical(local, distributed)


def test_sharded_over_two_cpu_devices_matches_one_device(tmp_path):
    """XLA exposes two host devices; with the diffrax integrator the lanes are sharded over them
    (jax.sharding). Vectorized arithmetic may round differently across batch layouts, so compare to
    1e-12, not bitwise."""
    script = (
        "import jax, numpy as np, sys\n"
        "jax.config.update('jax_enable_x64', True)\n"
        "assert len(jax.devices()) == 2\n"
        "from dynamics import Config\nfrom dynamics.sweep import sweep\n"
        f"ds = sweep(Config.from_json({BASE.to_json()!r}), {AXES!r}, progress=False, integrator='diffrax')\n"
        "np.save(sys.argv[1], ds.s.values)\n"
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "s.npy")], check=True, env=env)
    one = sweep(BASE, AXES, progress=False, integrator="diffrax")
    np.testing.assert_allclose(np.load(tmp_path / "s.npy"), one.s.values, rtol=1e-12, atol=1e-300)


def test_lanes_split_over_two_devices_gives_the_same_bits(monkeypatch):
    """With several devices the lanes integrator splits a batch into contiguous parts (>= 256 lanes
    each; lowered to 16 here), one per device, each run by its own host thread under
    `jax.default_device` (and x64 set again there: jax's config contexts are per thread). Two
    "devices" (the one CPU device listed twice, so nothing recompiles) give the bits of one."""
    one = sweep(BASE, AXES, progress=False)
    assert [len(p) for p in _chunk.lane_parts(512, 2)] == [256, 256]
    assert [len(p) for p in _chunk.lane_parts(511, 2)] == [511]
    calls = []
    solve_lanes = _chunk.solve_lanes

    def spy(*args, **kwargs):
        calls.append(jax.tree_util.tree_leaves(args[1])[0].shape[0])
        return solve_lanes(*args, **kwargs)

    device = jax.devices()[0]
    monkeypatch.setattr(_chunk, "_MIN_LANES_PER_DEVICE", 16)
    monkeypatch.setattr(_chunk, "solve_lanes", spy)
    monkeypatch.setattr(_chunk.jax, "devices", lambda *a: [device, device])
    split = sweep(BASE, AXES, progress=False)
    assert calls == [20, 20]
    _assert_identical(one, split)


@pytest.mark.parametrize("argv, field", [(["--param", "beta=geom:0:1:3"], "beta"),
                                         (["--param", "n1=list:1,2"], "param"),
                                         (["--param", "beta=lin:0:1:3", "--sigma2", "-1"], "sigma2")])
def test_cli_bad_sweep_exits_2_and_writes_nothing(tmp_path, capsys, argv, field):
    assert main(["sweep", *argv, "--out", str(tmp_path / "x.zarr")]) == 2
    assert f"{field} = " in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_blown_up_cells_are_marked_and_do_not_poison_their_neighbours():
    """A categorical axis over the gradient path: the wrong-side stop-gradient (section 7) with
    p = 3 > 1 + sigma2 diverges in its own cells while the usual stop-gradient cells finish ok."""
    base = Config(model="modes", n1=2, n2=2, target="online", s0=[0.04, 1.0], p0=[3.0, 3.0], t_max=100.0)
    ds = sweep(base, ["stop_gradient=list:target,online", "eta=list:0.0,0.01"], progress=False)
    wrong = ds.sel(stop_gradient="online")
    usual = ds.sel(stop_gradient="target")
    assert np.all(wrong.status.values == 2) and np.all(wrong.outcome.values == Outcome.diverged)
    assert np.all(usual.status.values == 0) and np.all(np.isfinite(usual.p_final.values))


def _relative_error(a, b, floor):
    """max |a - b| / |b| over the entries with |b| >= floor (below it both are at the atol level)."""
    big = np.abs(b) >= floor
    return float(np.max(np.abs(a - b)[big] / np.abs(b)[big]))


def test_lanes_sweep_finals_match_diffrax_at_rtol_1e_8():
    """The default eigenmode integrator, `solve_lanes` (one step size per lane; ROS34PW2 on the stiff
    beta = 10 lanes), against `jit(vmap(diffrax))` Tsit5, both at the config's rtol 1e-8 / atol 1e-10:
    same status and outcome in every cell, and finals and saved trajectories within 1e-4 relative
    (the sweep contract; here they differ by ~2e-8). Entries below 1e-6 are collapsed modes at the
    atol level, where tau = w_a / w is 0/0: p and s are compared absolutely there, tau only where
    s >= 1e-6. Negative control: at rtol 1e-2 the saved trajectories miss 1e-4 (by ~1e-2)."""
    base = BASE.replace(rtol=1e-8, atol=1e-10)
    axes = ["beta=geom:1e-3:10:5", "eta=lin:0:0.2:4"]
    ref = sweep(base, axes, progress=False, integrator="diffrax")
    lanes = sweep(base, axes, progress=False)
    assert lanes.attrs["integrator"] == "lanes" and ref.attrs["integrator"] == "diffrax"
    assert np.all(ref.mode_status.values == 0)
    np.testing.assert_array_equal(lanes.mode_status.values, ref.mode_status.values)
    np.testing.assert_array_equal(lanes.outcome.values, ref.outcome.values)
    assert len(set(ref.outcome.values.ravel())) >= 2  # collapsed and non-collapsed cells
    alive = ref.s_final.values >= 1e-6
    for name in ("p_final", "s_final"):
        assert _relative_error(lanes[name].values, ref[name].values, 1e-6) < 1e-4, name
        np.testing.assert_allclose(lanes[name].values, ref[name].values, rtol=1e-4, atol=1e-9)
    assert _relative_error(lanes.tau_final.values[alive], ref.tau_final.values[alive], 1e-6) < 1e-4
    # the saved trajectories too (the time grid is hit exactly, no interpolation)
    np.testing.assert_allclose(lanes.s.values, ref.s.values, rtol=1e-4, atol=1e-9)
    loose = sweep(base.replace(rtol=1e-2), axes, progress=False)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(loose.s.values, ref.s.values, rtol=1e-4, atol=1e-9)


def test_lanes_results_do_not_depend_on_chunking_or_neighbours():
    """Resumability needs a cell's numbers to depend on the cell alone, not on the lanes that share
    its chunk and its compiled blocks. The same 20 points computed in 4 chunks of 10 lanes, in one
    chunk of 40 lanes with the beta axis reversed (other positions, other block neighbours), and
    inside a chunk of 60 lanes (more beta values interleaved) give identical bits."""
    beta = parse_axis(AXES[0]).values
    small = sweep(BASE, AXES, progress=False, points_per_chunk=5)
    assert small.attrs["n_chunks"] == 4
    reverse = sweep(BASE, {"beta": beta[::-1], "eta": parse_axis(AXES[1]).values}, progress=False,
                    points_per_chunk=20).isel(beta=slice(None, None, -1))
    wide_beta = np.sort(np.concatenate([beta, np.geomspace(1e-2, 1.0, 2) * 1.01]))
    wide = sweep(BASE, {"beta": wide_beta, "eta": parse_axis(AXES[1]).values}, progress=False,
                 points_per_chunk=30).sel(beta=beta)
    for other in (reverse, wide):
        assert other.attrs["n_chunks"] == 1
        _assert_identical(small, other)


def test_closed_form_predictor_lanes_and_swept_loss_match_simulate():
    """A closed-form predictor (here `power`, T21, with SimSiam: T22 / T23) is evaluated from all
    modes of a point (the normalized ones couple them), so each lane holds a point's modes and gets
    the predictor's alpha and eps; sweeping the loss makes a second gradient path (its cells are the
    ones a path shared by the whole chunk would get wrong). Every saved s of the IsoLoss cell equals
    `simulate` (scipy DOP853, rtol 1e-8) of its own config to 1e-6 relative (both at rtol 1e-8), and
    the two losses' transients differ (same fixed point (1 + sigma2)^(-1/alpha), different rates)."""
    base = BASE.replace(predictor="power", target="online", tau0=1.0, t_max=100.0)
    ds = sweep(base, ["loss=list:euclidean,isoloss_euclidean", "eta=list:0.05"], progress=False)
    assert np.all(ds.status.values == 0)
    ref = simulate(base.replace(loss="isoloss_euclidean", eta=0.05, n_save=64, save_spacing="log",
                                solver="scipy-dop853"))
    cell = ds.sel(loss="isoloss_euclidean", eta=0.05)
    assert np.all(ref.s.values[-1] > 0.1)  # alive modes, not an atol-level comparison
    np.testing.assert_allclose(cell.s.values, ref.s.values, rtol=1e-6)
    euclid = ds.sel(loss="euclidean", eta=0.05).s.values
    assert np.max(np.abs(euclid - cell.s.values) / cell.s.values) > 0.1
