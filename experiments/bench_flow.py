"""Benchmark: a batch of full-matrix BYOL trajectories, jit + vmap (diffrax) vs a scipy `solve_ivp` loop.

The acceptance benchmark of the foundation issue. For each width n (n1 = n2 = n) it integrates
`byol_flow` (T2)-(T4) from `batch` random initializations `Config(n1=n, n2=n, seed=k)` (isotropic
data sigma2 = 0.5, EMA target, trained predictor, alpha_p = 1, beta = 0.5, eta = 0.01) up to t_max,
in float64 at rtol 1e-8 / atol 1e-10, two ways in the same process:

- jax: `solve_batch(byol_flow, y0s, ...)`, i.e. `jax.jit(jax.vmap(solve))` with Tsit5 and one status
  per trajectory, the batch split over the jax devices. Two variants (`--chunks`): the whole device
  block in one vmapped solve ("all"), and `chunk_size` trajectories vmapped at a time, chunk after
  chunk (`jax.lax.map(..., batch_size=chunk_size)`; default 1 at n = 32, 64 at n = 4), which keeps
  the solver's working set in a core's cache. Tracing + compilation (`jax.jit(...).lower().compile()`)
  and the steady-state run of the compiled call (`block_until_ready`) are timed apart;
- scipy: a Python loop of `solve_scipy(byol_flow, y0_k, ...)` (`solve_ivp` with RK45 and with DOP853;
  the right-hand side is jit-compiled once and called from scipy, one call per evaluation) over the
  first `--scipy-sample` trajectories of the batch, extrapolated per trajectory. DOP853, the faster
  of the two here, is the reference of the targets.

It prints the per-trajectory time ratio scipy / jax, the jax run's achieved GFLOP/s (the vector
field's flops, counted analytically, times the function evaluations diffrax reports) next to this
machine's float64 matmul throughput measured in the same process, the difference between the jax
and scipy final states (and of both to a DOP853 rtol 1e-13 reference), and PASS/FAIL against the
targets: >= 5x at n = 32, >= 30x at n = 4. The machine may be shared, so the timed runs of both
sides are interleaved, each side keeps its best of `--repeats`, the load average is printed, and the
ratio of CPU times (less sensitive to load; it leaves out the use of several cores) is shown too.

XLA reads its flags when jax starts, so the script sets them before importing jax (`--xla-flags`).
Default: `--xla_cpu_multi_thread_eigen=false --xla_force_host_platform_device_count=<CPU count>`,
one single-threaded CPU device per core, so `solve_batch` runs one block of the batch per core;
`--xla-flags ""` keeps jax's stock CPU settings. Both only touch the CPU backend: on a GPU the same
script runs unchanged (jax picks the device).

Usage:

    python experiments/bench_flow.py              # the benchmark (about 3 minutes on 2 cores)
    python experiments/bench_flow.py --quick      # smoke test: tiny batches, not a measurement
    python experiments/bench_flow.py --xla-flags ""   # the same with jax's stock CPU settings
    python experiments/bench_flow.py --sizes 32 --batch 1024   # issue 7: n = 32, 1024 trajectories

Every run also prints, per width, the best row's GFLOP/s as a share of the batched-matmul
throughput of the same shape against issue 7's target (>= 50%; its benchmark is n = 32, 1024
trajectories).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date

import numpy as np

#: Required speed-up of the jit + vmap run over the scipy DOP853 loop, per trajectory, by width n.
TARGETS = {32: 5.0, 4: 30.0}
#: Issue 7 (full-matrix model, n1 = n2 = 32, 1024 trajectories): the run's useful GFLOP/s must reach
#: this share of the float64 batched-matmul throughput measured on the same (batch, n, n) shape.
GFLOP_TARGET_PCT = 50.0
RTOL, ATOL = 1e-8, 1e-10
N_SAVE = 11  # saved times 0, t_max/10, ..., t_max (same grid for both paths)
# Gate on |jax final - scipy final| / max|scipy final|. Both control the local error at rtol 1e-8;
# each one's global error at t_max stays near 1e-8 of the state's size (printed against a rtol 1e-13
# reference), so a difference above 1e-6 would be a disagreement, not integrator noise.
MAX_REL_DIFF = 1e-6
SCIPY_METHODS = ("RK45", "DOP853")
REFERENCE_METHOD = "DOP853"


def default_chunks(n: int) -> list:
    """`solve_batch` chunk sizes measured by default: the whole device block in one vmapped solve
    ("all"), and a chunk whose solver working set (~30 states of 3 n^2 doubles per trajectory) stays
    within a core's L2 cache: 1 trajectory at n = 32, 64 at n = 4."""
    return [None, 1 if n >= 16 else 64]


# ------------------------------------------------------------------------------------ command line
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny batches: a smoke test, not a measurement")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 4], help="widths n = n1 = n2")
    parser.add_argument("--batch", type=int, nargs="+", default=None,
                        help="batch size, one per size (default: 128 for n >= 16, 1024 below)")
    parser.add_argument("--scipy-sample", type=int, default=None,
                        help="trajectories in the scipy loop (default: 8 for n >= 16, 16 below)")
    parser.add_argument("--chunks", nargs="+", default=None,
                        help="solve_batch chunk sizes to measure, 'all' for the whole device block in one "
                             "vmapped solve (default: all and 1 for n >= 16, all and 64 below)")
    parser.add_argument("--t-max", type=float, default=50.0, help="end time of every trajectory")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best one is reported")
    parser.add_argument("--xla-flags", default=None,
                        help="XLA_FLAGS added for this process (default: single-threaded Eigen and one "
                             "CPU device per core); '' keeps jax's stock settings")
    args = parser.parse_args(argv)
    if args.batch is not None and len(args.batch) != len(args.sizes):
        parser.error(f"--batch needs one value per size; got {args.batch} for sizes {args.sizes}")
    if args.batch is None:
        args.batch = [(4 if n >= 16 else 8) if args.quick else (128 if n >= 16 else 1024) for n in args.sizes]
    if args.chunks is not None:
        try:
            args.chunks = [None if c == "all" else int(c) for c in args.chunks]
        except ValueError:
            parser.error(f"--chunks takes positive integers or 'all'; got {args.chunks}")
        if any(c is not None and c < 1 for c in args.chunks):
            parser.error(f"--chunks takes positive integers or 'all'; got {args.chunks}")
    if min(args.batch) < 1 or args.repeats < 1:
        parser.error("--batch and --repeats must be >= 1")
    return args


def set_xla_flags(flags: str | None) -> str:
    """Add `flags` (default: the tuned CPU settings) to XLA_FLAGS. Must run before jax is imported."""
    if "jax" in sys.modules:
        raise RuntimeError("XLA_FLAGS must be set before jax is imported")
    if flags is None:
        flags = f"--xla_cpu_multi_thread_eigen=false --xla_force_host_platform_device_count={os.cpu_count() or 1}"
    merged = " ".join(part for part in (os.environ.get("XLA_FLAGS", ""), flags) if part)
    os.environ["XLA_FLAGS"] = merged
    return merged


def _import_jax() -> None:
    """Import jax and the package into this module's namespace, once XLA_FLAGS is final."""
    global jax, jnp, diffrax, Config, byol_flow, flow_args, initial_state, solve_batch, solve_scipy, Status
    import diffrax
    import jax
    import jax.numpy as jnp

    from dynamics import Config
    from dynamics.flows import byol_flow, flow_args, initial_state
    from dynamics.integrate import Status, solve_batch, solve_scipy


# ------------------------------------------------------------------------------------ measurements
def best_time(fn, repeats: int) -> tuple[float, float, object]:
    """Best wall time and best process CPU time (all threads) of `repeats` calls of `fn()`, each
    blocked until ready, and the last result. CPU time is less sensitive to a shared machine."""
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(fn())
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, out


def _chained_matmul_gflops(fn, a, b, batch: int, n: int, reps: int, repeats: int) -> float:
    fn(a, b).block_until_ready()
    seconds, _, _ = best_time(lambda: fn(a, b), repeats)
    return 2.0 * batch * n**3 * reps / seconds / 1e9


def matmul_gflops(batch: int, n: int, repeats: int) -> float:
    """GFLOP/s of float64 `jnp.matmul` on (batch, n, n) stacks, chained in one compiled loop (as in
    the solver: no dispatch per product), the batch split over the devices like `solve_batch`."""
    from jax.sharding import Mesh, PartitionSpec

    devices = len(jax.devices())
    batch = max(devices, batch - batch % devices)
    reps = max(1, int(4e8 // (2 * batch * n**3)))  # about 0.4 GFLOP per timing
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.standard_normal((batch, n, n)))
    b = jnp.asarray(np.linalg.qr(rng.standard_normal((batch, n, n)))[0])  # orthogonal: stays bounded

    def chain(a, b):
        return jax.lax.fori_loop(0, reps, lambda i, c: jnp.matmul(c, b), a)

    spec = PartitionSpec("batch")
    mesh = Mesh(np.asarray(jax.devices()), ("batch",))
    fn = jax.jit(jax.shard_map(chain, mesh=mesh, in_specs=(spec, spec), out_specs=spec, check_vma=False))
    return _chained_matmul_gflops(fn, a, b, batch, n, reps, repeats)


def matmul_peak_gflops(repeats: int, n: int = 1024) -> float:
    """GFLOP/s of one large float64 n x n `jnp.matmul` (XLA's multi-threaded GEMM on the default
    device): the machine's practical float64 peak."""
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.standard_normal((n, n)))
    b = jnp.asarray(np.linalg.qr(rng.standard_normal((n, n)))[0])
    reps = 4
    fn = jax.jit(lambda a, b: jax.lax.fori_loop(0, reps, lambda i, c: c @ b, a))
    return _chained_matmul_gflops(fn, a, b, 1, n, reps, repeats)


def flops_per_eval(n1: int, n2: int) -> int:
    """Floating-point operations of one `byol_flow` call on the benchmark's path (EMA target,
    stop-gradient on the target, trained predictor), counted from its matmuls (2 m k n each) plus
    the elementwise updates."""
    matmuls = [(n2, n1, n1),  # Wa @ X
               (n2, n2, n1),  # Wp @ W
               (n2, n1, n1),  # (Wp W) @ (X + X')
               (n2, n2, n1),  # Wp^T @ R
               (n2, n1, n2)]  # alpha_p R @ W^T
    # R = .. - .. (n2 n1); dW = -eta W + .. (2 n2 n1); dWp = -eta_p Wp + alpha_p .. (3 n2^2);
    # dWa = beta (W - Wa) (2 n2 n1)
    elementwise = 5 * n2 * n1 + 3 * n2 * n2
    return sum(2 * m * k * n for m, k, n in matmuls) + elementwise


def diffrax_step_counts(y0s, args, ts, rtol, atol, max_steps):
    """Attempted and accepted Tsit5 steps per trajectory, from `diffrax.diffeqsolve` called with the
    step-size control of `solve` (`Trajectory.num_steps` holds only the accepted ones). Saving and
    the divergence event do not change the steps, so they are left out here."""
    def one(y0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(byol_flow), diffrax.Tsit5(), t0=ts[0], t1=ts[-1], dt0=None, y0=y0, args=args,
            saveat=diffrax.SaveAt(t1=True), stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            max_steps=max_steps, throw=False)
        return sol.stats["num_steps"], sol.stats["num_accepted_steps"]
    steps, accepted = jax.jit(jax.vmap(one))(y0s)
    return np.asarray(steps), np.asarray(accepted)


def max_rel_diff(a: tuple, b: tuple) -> float:
    """max |a - b| / max |b| over the leaves of two final states."""
    scale = max(float(np.max(np.abs(leaf))) for leaf in b)
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b)) / scale


def final_state(traj, k=None) -> tuple:
    """The state at the last saved time, as numpy leaves (trajectory `k` of a batched result)."""
    pick = (lambda leaf: leaf[k, -1]) if k is not None else (lambda leaf: leaf[-1])
    return tuple(np.asarray(pick(leaf)) for leaf in traj.ys)


# ------------------------------------------------------------------------------------ one width
def bench_width(n: int, batch: int, chunks: list, sample: int, t_max: float, repeats: int,
                peak: float) -> list[dict]:
    """One row per `solve_batch` chunk size (None: the whole device block in one vmapped solve) for
    width n; the scipy loop is measured once and shared by the rows."""
    configs = [Config(n1=n, n2=n, seed=k, t_max=t_max) for k in range(batch)]
    args = jax.tree_util.tree_map(jnp.asarray, flow_args(configs[0]))  # the same data for every seed
    y0_list = [initial_state(c) for c in configs]
    y0s = jax.tree_util.tree_map(lambda *leaves: jnp.asarray(np.stack(leaves)), *y0_list)
    ts = np.linspace(0.0, t_max, N_SAVE)
    max_steps = configs[0].max_steps
    kwargs = dict(solver="tsit5", rtol=RTOL, atol=ATOL, max_steps=max_steps,
                  divergence_threshold=configs[0].divergence_threshold)

    # jax: trace + compile ahead of time, then the steady state (the compiled call).
    compiled, compile_s, first_run = {}, {}, {}
    for chunk in chunks:
        batched = jax.jit(lambda y0s, chunk=chunk: solve_batch(byol_flow, y0s, args, jnp.asarray(ts),
                                                               chunk_size=chunk, **kwargs))
        start = time.perf_counter()
        compiled[chunk] = batched.lower(y0s).compile()
        compile_s[chunk] = time.perf_counter() - start
        start = time.perf_counter()
        jax.block_until_ready(compiled[chunk](y0s))
        first_run[chunk] = time.perf_counter() - start
    sample = min(sample, batch)
    first_scipy = {}
    for method in SCIPY_METHODS:  # the first scipy call compiles the jitted right-hand side
        start = time.perf_counter()
        solve_scipy(byol_flow, y0_list[0], args, ts, method=method, rtol=RTOL, atol=ATOL)
        first_scipy[method] = time.perf_counter() - start

    def scipy_loop(method):
        return [solve_scipy(byol_flow, y0_list[k], args, ts, method=method, rtol=RTOL, atol=ATOL)
                for k in range(sample)]

    # Timed runs, interleaved (the jax variants, scipy RK45, scipy DOP853, the jax variants, ...) so
    # that a change in the load of a shared machine hits both sides; the best of each is kept.
    names = [("jax", chunk) for chunk in chunks] + [("scipy", method) for method in SCIPY_METHODS]
    timings = {name: [np.inf, np.inf] for name in names}
    results = {}
    for _ in range(repeats):
        for name in names:
            kind, which = name
            fn = (lambda: compiled[which](y0s)) if kind == "jax" else (lambda: scipy_loop(which))  # noqa: B023
            wall, cpu, results[name] = best_time(fn, 1)
            timings[name] = [min(timings[name][0], wall), min(timings[name][1], cpu)]

    steps, accepted = diffrax_step_counts(y0s, args, jnp.asarray(ts), RTOL, ATOL, max_steps)
    # Tsit5 is FSAL: 6 evaluations per attempted step (accepted or rejected) and one to start
    # (verified by counting calls with jax.debug.callback).
    nfev = 6 * steps + 1
    flops = float(np.sum(nfev)) * flops_per_eval(n, n)
    same_shape = matmul_gflops(batch, n, repeats)
    scipy_finals = {m: [final_state(t) for t in results[("scipy", m)]] for m in SCIPY_METHODS}
    refs = [final_state(solve_scipy(byol_flow, y0_list[k], args, ts, method="DOP853", rtol=1e-13, atol=1e-15))
            for k in range(min(2, sample))]  # a tight reference for two trajectories
    scipy = {}
    for method in SCIPY_METHODS:
        wall, cpu = timings[("scipy", method)]
        trajs = results[("scipy", method)]
        scipy[method] = dict(
            per_traj=wall / sample, cpu_per_traj=cpu / sample, first_call=first_scipy[method],
            nfev=float(np.mean([t.num_steps for t in trajs])), ok=all(int(t.status) == Status.ok for t in trajs),
            ref_err=max(max_rel_diff(scipy_finals[method][k], ref) for k, ref in enumerate(refs)))

    rows = []
    for chunk in chunks:
        traj = results[("jax", chunk)]
        jax_s, jax_cpu = timings[("jax", chunk)]
        status = np.asarray(traj.status)
        if not np.array_equal(accepted, np.asarray(traj.num_steps)):
            print(f"  warning: n={n}: the step count replica disagrees with solve's accepted steps", flush=True)
        rel_diff = {m: max(max_rel_diff(final_state(traj, k), f) for k, f in enumerate(scipy_finals[m]))
                    for m in SCIPY_METHODS}
        ratio = scipy[REFERENCE_METHOD]["per_traj"] / (jax_s / batch)
        all_ok = bool(np.all(status == Status.ok)) and all(s["ok"] for s in scipy.values())
        accurate = rel_diff[REFERENCE_METHOD] <= MAX_REL_DIFF
        target = TARGETS.get(n)
        verdict = "-" if target is None else ("PASS" if ratio >= target and all_ok and accurate else "FAIL")
        gflops = flops / jax_s / 1e9
        rows.append(dict(
            n=n, batch=batch, chunk=chunk, sample=sample, compile=compile_s[chunk], first_run=first_run[chunk],
            run=jax_s, jax_ms=1e3 * jax_s / batch, jax_cpu_ms=1e3 * jax_cpu / batch, scipy=scipy, ratio=ratio,
            cpu_ratio=scipy[REFERENCE_METHOD]["cpu_per_traj"] / (jax_cpu / batch), rel_diff=rel_diff,
            gflops=gflops, same_shape=same_shape, pct_peak=100 * gflops / peak, pct_same=100 * gflops / same_shape,
            steps_mean=float(np.mean(steps)), steps_max=int(np.max(steps)), rejected=int(np.sum(steps - accepted)),
            nfev_mean=float(np.mean(nfev)), flops_eval=flops_per_eval(n, n), ok=all_ok, accurate=accurate,
            status_counts=np.bincount(status, minlength=4),
            ref_err=max(max_rel_diff(final_state(traj, k), ref) for k, ref in enumerate(refs)),
            target=target, verdict=verdict))
    return rows


# ------------------------------------------------------------------------------------ report
def machine_lines(xla_flags: str) -> list[str]:
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [f"machine: {platform.platform()}; CPU: {model}; {os.cpu_count()} logical CPUs; load average {load}",
            f"python {platform.python_version()}, jax {jax.__version__}, diffrax {diffrax.__version__}, "
            f"numpy {np.__version__}; date {date.today().isoformat()}",
            f"jax backend: {jax.default_backend()}; devices: {jax.devices()}",
            f"XLA_FLAGS: {xla_flags or '(none)'}"]


def table(rows: list[dict]) -> list[str]:
    head = ["n", "batch", "chunk", "compile s", "run s", "jax ms/traj", "scipy DOP853 ms/traj", "ratio",
            "ratio vs RK45", "ratio of CPU time", "GFLOP/s", "% of matmul peak (of same shape)",
            "max rel diff", "status ok", "target", "result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        d, k = r["scipy"]["DOP853"], r["scipy"]["RK45"]
        cells = [r["n"], r["batch"], r["chunk"] or "all", f"{r['compile']:.1f}", f"{r['run']:.2f}",
                 f"{r['jax_ms']:.3f}",
                 f"{1e3 * d['per_traj']:.1f}", f"{r['ratio']:.1f}x", f"{1e3 * k['per_traj'] / r['jax_ms']:.1f}x",
                 f"{r['cpu_ratio']:.1f}x", f"{r['gflops']:.2f}", f"{r['pct_peak']:.1f}% ({r['pct_same']:.0f}%)",
                 f"{r['rel_diff']['DOP853']:.1e}", f"{r['status_counts'][0]}/{r['batch']}" + ("" if r["ok"] else " (scipy NO)"),
                 "-" if r["target"] is None else f">= {r['target']:g}x", r["verdict"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def details(rows: list[dict], peak: float) -> list[str]:
    lines, seen = [], set()
    for r in rows:
        d, k = r["scipy"]["DOP853"], r["scipy"]["RK45"]
        statuses = dict(zip(("ok", "max_steps", "diverged", "nonfinite"), r["status_counts"].tolist()))
        chunk = "all (the whole device block in one vmapped solve)" if r["chunk"] is None else str(r["chunk"])
        lines += [
            f"n={r['n']}, chunk {chunk}: jax compile {r['compile']:.1f} s (trace + XLA), first run "
            f"{r['first_run']:.2f} s, steady run {r['run']:.3f} s for {r['batch']} trajectories = "
            f"{r['jax_ms']:.3f} ms each (CPU time {r['jax_cpu_ms']:.3f} ms); Tsit5 steps mean "
            f"{r['steps_mean']:.1f} / max {r['steps_max']} ({r['rejected']} rejected in all), "
            f"{r['nfev_mean']:.0f} evaluations per trajectory x {r['flops_eval']} flop; statuses {statuses}"]
        if r["n"] not in seen:  # the scipy loop is shared by the rows of one width
            seen.add(r["n"])
            lines.append(
                f"      scipy loop over {r['sample']} of the {r['batch']} trajectories, per trajectory: DOP853 "
                f"{1e3 * d['per_traj']:.1f} ms (CPU {1e3 * d['cpu_per_traj']:.1f} ms; {d['nfev']:.0f} evaluations, "
                f"{1e6 * d['per_traj'] / d['nfev']:.0f} us each), RK45 {1e3 * k['per_traj']:.1f} ms ({k['nfev']:.0f} "
                f"evaluations); first scipy call (compiles the RHS) {d['first_call']:.2f} s")
        lines += [
            f"      throughput: jax run {r['gflops']:.2f} GFLOP/s; float64 matmul ({r['batch']}, {r['n']}, {r['n']}) "
            f"{r['same_shape']:.2f} GFLOP/s, 1024 x 1024 {peak:.2f} GFLOP/s",
            f"      final states: max rel diff jax vs DOP853 {r['rel_diff']['DOP853']:.1e}, vs RK45 "
            f"{r['rel_diff']['RK45']:.1e} (gate {MAX_REL_DIFF:g}); vs a DOP853 rtol 1e-13 reference "
            f"(2 trajectories): jax {r['ref_err']:.1e}, DOP853 {d['ref_err']:.1e}"]
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    xla_flags = set_xla_flags(args.xla_flags)
    _import_jax()
    for line in machine_lines(xla_flags):
        print(line, flush=True)
    with jax.enable_x64(True):
        peak = matmul_peak_gflops(args.repeats)
        print(f"float64 matmul throughput, 1024 x 1024: {peak:.2f} GFLOP/s", flush=True)
        rows = []
        for n, batch in zip(args.sizes, args.batch):
            sample = args.scipy_sample or (2 if args.quick else (8 if n >= 16 else 16))
            print(f"n={n}: batch {batch}, scipy sample {min(sample, batch)}, t_max {args.t_max:g} ...", flush=True)
            chunks = args.chunks if args.chunks is not None else default_chunks(n)
            rows += bench_width(n, batch, chunks, sample, args.t_max, args.repeats, peak)
    print()
    print(f"bench_flow: t_max {args.t_max:g}, rtol {RTOL:g}, atol {ATOL:g}, float64, {N_SAVE} saved times, "
          f"best of {args.repeats} runs. ratio = scipy DOP853 ms/traj / jax ms/traj (wall), the scipy loop "
          f"run on a sample and extrapolated per trajectory; GFLOP/s = useful flops (evaluations of each "
          f"trajectory x analytic flops per evaluation) / jax wall time"
          + ("; --quick: NOT a measurement" if args.quick else ""))
    for line in table(rows) + [""] + details(rows, peak):
        print(line)
    print()
    for n in dict.fromkeys(r["n"] for r in rows):
        mine = [r for r in rows if r["n"] == n and r["target"] is not None]
        if not mine:
            continue
        best = max(mine, key=lambda r: (r["verdict"] == "PASS", r["ratio"]))
        how = "whole device block vmapped" if best["chunk"] is None else f"chunk_size={best['chunk']}"
        problems = ("" if best["ok"] else ", a status is not ok") + ("" if best["accurate"] else ", jax and scipy disagree")
        print(f"n={n}: target {best['target']:g}x {'met' if best['verdict'] == 'PASS' else 'MISSED'}, best "
              f"{best['ratio']:.1f}x ({how}){problems}")
    for n in dict.fromkeys(r["n"] for r in rows):
        top = max((r for r in rows if r["n"] == n), key=lambda r: r["pct_same"])
        how = "whole device block vmapped" if top["chunk"] is None else f"chunk_size={top['chunk']}"
        print(f"n={n}, batch {top['batch']}: {top['gflops']:.2f} GFLOP/s = {top['pct_same']:.0f}% of the batched "
              f"matmul ({top['batch']}, {n}, {n}) at {top['same_shape']:.2f} GFLOP/s ({how}); target >= "
              f"{GFLOP_TARGET_PCT:g}%: {'PASS' if top['pct_same'] >= GFLOP_TARGET_PCT else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
