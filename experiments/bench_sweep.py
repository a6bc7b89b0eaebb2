"""Benchmark: a (beta, eta) sweep of the eigenmode model with `solve_lanes`.

The eigenmode system (T11)-(T13) of THEORY.md, one mode per trajectory, on a grid of
beta = geomspace(1e-3, 10) x eta = linspace(0, 0.2): sigma^2 = 0.5, alpha_p = 1, EMA target, trained
predictor with eta_p = eta, start p0 = 0.1, s0 = p0^2 / alpha_p = 0.01 (on the parabola T14),
tau0 = 0, to t_max = 1000, float64. It is integrated as the sweep integrates it: in the weight
coordinates (p, w, w_a) of (T13b) (`mode_weight_flow`; s = w^2, tau = w_a / w), which stay bounded
when a mode collapses. (In (p, s, tau) a collapsing mode has tau = w_a / w -> inf: 42% of this grid
would stop early as `diverged` at |tau| = 1e6, an artefact of the coordinates.)

Prints: the load average; compile time (first call minus a steady call), steady wall and process
CPU time of the whole grid, lane-steps per second and ns per lane-step; the error of the finals
against diffrax `solve` (Tsit5, rtol 1e-8) on a random subsample; a scipy `solve_ivp` RK45 loop on
that subsample (per-trajectory wall and CPU time ratios); `jax.vmap` of diffrax `solve` on a
4096-lane sub-grid; the same grid end to end through `dynamics.sweep` (integrator "lanes", the
config's rtol 1e-8, 64 saved times; `--no-engine` skips it); PASS/FAIL against the 2 s target. The
full-matrix benchmark of issue 7 (n1 = n2 = 32, 1024 trajectories) is `bench_flow.py --sizes 32
--batch 1024`.

    python experiments/bench_sweep.py            # the full 256 x 256 grid (~1-2 minutes)
    python experiments/bench_sweep.py --quick    # smoke run (64 x 64, small references)
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from dynamics.flows import ModeArgs, ModeWeights, mode_weight_flow  # noqa: E402
from dynamics.integrate import Status, solve, solve_lanes  # noqa: E402

SIGMA2, ALPHA_P, P0, TAU0 = 0.5, 1.0, 0.1, 0.0
S0 = P0**2 / ALPHA_P
W0, WA0 = S0**0.5, TAU0 * S0**0.5  # (T13b): w = sqrt(s), w_a = tau w
TARGET_S = 2.0
REL_FLOOR = 1e-6  # relative errors are taken where |reference| >= this; below, atol governs both


def grid(n_beta: int, n_eta: int):
    B, E = np.meshgrid(np.geomspace(1e-3, 10.0, n_beta), np.linspace(0.0, 0.2, n_eta), indexing="ij")
    return B.ravel(), E.ravel()


def lanes(beta, eta):
    """(y0, args) for `solve_lanes`: per-lane beta, eta, eta_p; shared (0-d) lambda_d, lambda_s, alpha_p."""
    n = beta.size
    args = ModeArgs(lam_d=np.asarray(1.0), lam_s=np.asarray(1.0 + SIGMA2), alpha_p=np.asarray(ALPHA_P),
                    beta=beta, eta=eta, eta_p=eta)
    y0 = ModeWeights(np.full((n, 1), P0), np.full((n, 1), W0), np.full((n, 1), WA0))
    return y0, args


def one_lane(beta, eta):
    """(y0, args) of one trajectory for diffrax `solve` (shape-(1,) mode arrays)."""
    args = ModeArgs(lam_d=jnp.ones(1), lam_s=jnp.full(1, 1.0 + SIGMA2), alpha_p=jnp.asarray(ALPHA_P),
                    beta=jnp.asarray(beta), eta=jnp.asarray(eta), eta_p=jnp.asarray(eta))
    return ModeWeights(jnp.full(1, P0), jnp.full(1, W0), jnp.full(1, WA0)), args


def stack(y):
    return np.concatenate([np.asarray(leaf).reshape(leaf.shape[0], -1) for leaf in jax.tree_util.tree_leaves(y)], 1)


def diffrax_batch(beta, eta, t_max, rtol, atol):
    """jit(vmap(solve)): diffrax Tsit5 + PID, one trajectory per lane, every lane pays the slowest."""
    ts = jnp.array([0.0, t_max])

    @jax.jit
    def run(b, e):
        return jax.vmap(lambda bb, ee: solve(mode_weight_flow, *one_lane(bb, ee), ts, rtol=rtol, atol=atol))(b, e)

    out = run(jnp.asarray(beta), jnp.asarray(eta))
    finals = stack(jax.tree_util.tree_map(lambda leaf: leaf[:, -1], out.ys))
    return finals, np.asarray(out.status), np.asarray(out.num_steps), run


def rhs_numpy(beta, eta):
    """(T13b) in numpy (lambda_d = 1, lambda_s = 1 + sigma^2, eta_p = eta): with
    R = w_a - p w lambda_s, dp/dt = alpha_p R w - eta p, dw/dt = p R - eta w, dw_a/dt = beta (w - w_a)."""
    lam_s = 1.0 + SIGMA2

    def f(t, y):
        p, w, wa = y
        r = wa - p * w * lam_s
        return [ALPHA_P * r * w - eta * p, p * r - eta * w, beta * (w - wa)]
    return f


def compare(finals, ref, status, ref_status):
    both = (status == Status.ok) & (ref_status == Status.ok)
    a, b = finals[both], ref[both]
    big = np.abs(b) >= REL_FLOOR
    rel = np.max(np.abs(a - b)[big] / np.abs(b)[big]) if big.any() else 0.0
    absolute = np.max(np.abs(a - b)[~big]) if (~big).any() else 0.0
    return rel, absolute, int(np.sum(status != ref_status)), int(both.sum())


def engine(args, beta, eta, pick, ref, ref_status):
    """The same grid through the sweep engine: `dynamics.sweep` with its defaults (integrator
    "lanes", the config's rtol 1e-8 / atol 1e-10, 64 log-spaced saved times, outcomes), in memory."""
    from dynamics import Config
    from dynamics.sweep import sweep

    base = Config(model="modes", n1=1, n2=1, sigma2=SIGMA2, alpha_p=ALPHA_P, target="ema", predictor="trained",
                  s0=[S0], p0=[P0], tau0=TAU0, t_max=args.t_max)
    axes = {"beta": np.unique(beta), "eta": np.unique(eta)}
    print(f"\n== sweep engine: dynamics.sweep on the same {beta.size}-point grid, one chunk (integrator lanes, "
          f"rtol {base.rtol:g}, atol {base.atol:g}, 64 saved times, outcome classification), in memory")
    times = []
    for _ in range(2):
        c, t = time.process_time(), time.perf_counter()
        ds = sweep(base, axes, points_per_chunk=beta.size, progress=False)
        times.append((time.perf_counter() - t, time.process_time() - c))
    finals = np.stack([ds.p_final.values.ravel(), np.sqrt(ds.s_final.values.ravel()),
                       (ds.tau_final.values * np.sqrt(ds.s_final.values)).ravel()], axis=1)[pick]
    status = ds.status.values.ravel()[pick].astype(int)
    mismatched = int(np.sum(status != ref_status))
    alive = ref[:, 1] >= REL_FLOOR  # the store has (p, s, tau); w_a = tau sqrt(s) is well defined while w is
    rel, _, _, _ = compare(finals[alive], ref[alive], status[alive], ref_status[alive])
    codes, counts = np.unique(ds.status.values, return_counts=True)
    print(f"first call {times[0][0]:.2f} s (compile included), second {times[1][0]:.2f} s wall, CPU "
          f"{times[1][1]:.2f} s; statuses {dict((Status(int(k)).name, int(v)) for k, v in zip(codes, counts))}")
    print(f"finals (p, w, w_a) vs diffrax rtol 1e-8 on the {pick.size} lanes: status mismatches {mismatched}; max "
          f"relative error {rel:.2e} over the {int(alive.sum())} lanes with w >= {REL_FLOOR:g}: "
          f"{'PASS' if rel < 1e-4 and mismatched == 0 else 'FAIL'} (1e-4)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 64 x 64 grid, small references")
    ap.add_argument("--n-beta", type=int, default=256)
    ap.add_argument("--n-eta", type=int, default=256)
    ap.add_argument("--t-max", type=float, default=1000.0)
    ap.add_argument("--method", default="auto", help="solve_lanes method (auto, tsit5, dopri5, ros34pw2)")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--atol", type=float, default=1e-10)
    ap.add_argument("--repeats", type=int, default=3, help="steady-state calls (median reported)")
    ap.add_argument("--sample", type=int, default=64, help="lanes checked against diffrax rtol 1e-8 and scipy")
    ap.add_argument("--vmap-lanes", type=int, default=4096,
                    help="lanes of the vmap(diffrax) comparison (a sub-grid)")
    ap.add_argument("--block-size", type=int, default=None)
    ap.add_argument("--chunk-steps", type=int, default=64)
    ap.add_argument("--no-engine", action="store_true", help="skip the end-to-end `dynamics.sweep` run")
    args = ap.parse_args(argv)
    if args.quick:
        args.n_beta, args.n_eta, args.sample, args.vmap_lanes, args.repeats = 64, 64, 16, 256, 2

    print("== machine")
    print(f"platform {platform.platform()}, python {platform.python_version()}, cpu count {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f} (1 min)")
    print(f"jax {jax.__version__}, devices {jax.devices()}")

    beta, eta = grid(args.n_beta, args.n_eta)
    n = beta.size
    y0, margs = lanes(beta, eta)
    opts = dict(method=args.method, rtol=args.rtol, atol=args.atol, chunk_steps=args.chunk_steps,
                block_size=args.block_size)
    print(f"\n== sweep: {args.n_beta} x {args.n_eta} = {n} lanes of (T11)-(T13) in the weights of (T13b), "
          f"beta in [1e-3, 10] (geometric), "
          f"eta in [0, 0.2], sigma2 {SIGMA2}, alpha_p {ALPHA_P}, EMA target, p0 {P0}, s0 {S0:g}, tau0 {TAU0}, "
          f"t_max {args.t_max:g}, float64")
    print(f"solve_lanes: method {args.method}, rtol {args.rtol:g}, atol {args.atol:g}, chunk_steps {args.chunk_steps}, "
          f"block_size {args.block_size or 'default'}")

    t = time.perf_counter()
    sol = solve_lanes(mode_weight_flow, y0, margs, args.t_max, **opts)
    first = time.perf_counter() - t
    walls, cpus = [], []
    for _ in range(args.repeats):
        c, t = time.process_time(), time.perf_counter()
        sol = solve_lanes(mode_weight_flow, y0, margs, args.t_max, **opts)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    wall = float(np.median(walls))
    steps = int((sol.num_steps + sol.num_rejected).sum())
    counts = np.bincount(sol.status, minlength=4)
    print(f"first call {first:.2f} s -> compile ~ {first - wall:.2f} s")
    print(f"steady wall time: median {wall:.3f} s, min {min(walls):.3f} s over {args.repeats} calls "
          f"(process CPU time median {np.median(cpus):.3f} s; CPU > wall means both cores worked, "
          f"wall > CPU that other processes took the CPU)")
    print(f"lane-steps {steps / 1e6:.2f} M (accepted {sol.num_steps.sum() / 1e6:.2f} M, of them Rosenbrock "
          f"{sol.num_stiff_steps.sum() / 1e6:.2f} M), per lane mean {steps / n:.0f} max "
          f"{(sol.num_steps + sol.num_rejected).max()}")
    print(f"throughput {steps / wall / 1e6:.1f} M lane-steps/s = {wall / steps * 1e9:.1f} ns per lane-step")
    print("status: " + ", ".join(f"{Status(k).name} {c}" for k, c in enumerate(counts) if c))

    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(n, args.sample, replace=False))
    finals = stack(sol.ys_final)[pick]
    print(f"\n== accuracy on {args.sample} random lanes vs diffrax solve (Tsit5, rtol 1e-8, atol 1e-10)")
    t = time.perf_counter()
    ref, ref_status, ref_steps, _ = diffrax_batch(beta[pick], eta[pick], args.t_max, 1e-8, 1e-10)
    print(f"(reference: {time.perf_counter() - t:.1f} s)")
    rel, absolute, mismatched, n_ok = compare(finals, ref, sol.status[pick], ref_status)
    print(f"status mismatches {mismatched}; over the {n_ok} lanes ok in both: max relative error {rel:.2e} "
          f"(components with |ref| >= {REL_FLOOR:g}), max absolute error {absolute:.2e} (the others)")
    print(f"accuracy target 1e-4: {'PASS' if rel < 1e-4 and mismatched == 0 else 'FAIL'}")

    print(f"\n== scipy solve_ivp RK45 (rtol 1e-6, atol 1e-9) loop over the same {args.sample} lanes "
          "(a plain numpy right-hand side of (T13b), terminal event at max|y| = 1e6)")
    c, t = time.process_time(), time.perf_counter()
    scipy_finals = []
    for b, e in zip(beta[pick], eta[pick]):
        blow = lambda t_, y: 1e6 - np.max(np.abs(y))  # noqa: E731
        blow.terminal = True
        out = solve_ivp(rhs_numpy(b, e), (0.0, args.t_max), [P0, W0, WA0], method="RK45", rtol=1e-6, atol=1e-9,
                        events=blow)
        scipy_finals.append(out.y[:, -1])
    per_scipy = (time.perf_counter() - t) / args.sample
    cpu_scipy = (time.process_time() - c) / args.sample
    per_lanes, cpu_lanes = wall / n, float(np.median(cpus)) / n
    rel_scipy, _, _, _ = compare(np.asarray(scipy_finals), ref, np.zeros(args.sample, int), ref_status)
    print(f"scipy {per_scipy * 1e3:.2f} ms per trajectory (CPU {cpu_scipy * 1e3:.2f} ms); solve_lanes "
          f"{per_lanes * 1e6:.2f} us per trajectory (CPU {cpu_lanes * 1e6:.2f} us); ratio {per_scipy / per_lanes:.0f}x "
          f"wall, {cpu_scipy / cpu_lanes:.0f}x CPU time")
    print(f"(scipy finals vs the diffrax rtol 1e-8 reference: max relative error {rel_scipy:.2e})")

    stride_b = max(1, args.n_beta // int(np.sqrt(args.vmap_lanes)))
    stride_e = max(1, args.n_eta // int(np.sqrt(args.vmap_lanes)))
    sub = (np.arange(args.n_beta)[::stride_b, None] * args.n_eta + np.arange(args.n_eta)[None, ::stride_e]).ravel()
    print(f"\n== jit(vmap(diffrax solve)) (Tsit5 + PID, rtol {args.rtol:g}, atol {args.atol:g}) on a {sub.size}-lane "
          "sub-grid, against solve_lanes on the same lanes")
    t = time.perf_counter()
    _, _, vsteps, run = diffrax_batch(beta[sub], eta[sub], args.t_max, args.rtol, args.atol)
    t_first = time.perf_counter() - t
    c, t = time.process_time(), time.perf_counter()
    jax.block_until_ready(run(jnp.asarray(beta[sub]), jnp.asarray(eta[sub])))
    t_vmap, c_vmap = time.perf_counter() - t, time.process_time() - c
    y_sub, a_sub = lanes(beta[sub], eta[sub])
    solve_lanes(mode_weight_flow, y_sub, a_sub, args.t_max, **opts)
    c, t = time.process_time(), time.perf_counter()
    sol_sub = solve_lanes(mode_weight_flow, y_sub, a_sub, args.t_max, **opts)
    t_lanes, c_lanes = time.perf_counter() - t, time.process_time() - c
    print(f"vmap(diffrax): {t_vmap:.2f} s steady, CPU {c_vmap:.2f} s (first call {t_first:.1f} s); steps per lane mean "
          f"{vsteps.mean():.0f}, max {vsteps.max()} (every lane pays the max)")
    print(f"solve_lanes:   {t_lanes:.3f} s, CPU {c_lanes:.3f} s; steps per lane mean "
          f"{(sol_sub.num_steps + sol_sub.num_rejected).mean():.0f}, max {(sol_sub.num_steps + sol_sub.num_rejected).max()}; "
          f"speed-up {t_vmap / t_lanes:.0f}x wall, {c_vmap / c_lanes:.0f}x CPU time")

    if not args.no_engine:
        engine(args, beta, eta, pick, ref, ref_status)

    print(f"\n== target: whole {n}-lane grid in under {TARGET_S:g} s (steady state): "
          f"{'PASS' if wall < TARGET_S else 'FAIL'} ({wall:.3f} s median)")
    if args.quick:
        print("(--quick: the grid is smaller than the target's 256 x 256)")


if __name__ == "__main__":
    main()
