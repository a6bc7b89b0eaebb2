"""Benchmark: start-up of a small `ssl-dynamics simulate`, first call against repeats, with JAX's
persistent compilation cache.

A first call with an empty cache folder (`SSL_DYNAMICS_CACHE` set to a fresh folder) is compared with
repeats of the same command with new values (same shapes: only beta and eta change), each in a fresh
process as a user would run them. Each call runs through a small wrapper that imports what the
command imports, then calls the command's entry point in the same process, and reports:

- `wall`: the whole process, measured from outside (interpreter start to exit);
- `import`: importing jax, the CLI and the modules `simulate` uses (dynamics, diffrax, matplotlib,
  netCDF4), measured in the process;
- `trace`, `lower`, `compile`: time spent tracing jaxprs, lowering them to MLIR and in XLA's backend
  compile (JAX's monitoring events), with the number of programs, and the persistent cache's hits,
  misses and retrieval time;
- `rest`: wall − import − trace − lower − compile (integration, diagnostics, writing the file, the PNG).

Scenarios: `cache` (the CLI's default: persistent cache on, and the traced solve stored with
`jax.export` in its `programs/` folder, so a repeat neither traces nor compiles the solve); `no-cache`
(`--no-compile-cache`, the reference); and, with `--diagnose`, `cache+eqx-nan` (the cache with `EQX_ON_ERROR=nan` and
`JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0`): equinox's runtime error checks compile to host
callbacks, and JAX does not store programs with host callbacks, so without it the largest program
(`jit(_solve)`, diffrax's solve) is compiled again on every call.

    python experiments/bench_cli.py                 # 1 first call + 4 repeats per scenario
    python experiments/bench_cli.py --repeats 2 --diagnose
    python experiments/bench_cli.py --plot          # with the PNG (the command's default)

PASS when the median repeat of `cache` takes under half the first call's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The wrapper runs in each fresh process: imports first (timed), then the command's entry point.
WRAPPER = r"""
import json, sys, time
t0 = time.perf_counter()
import collections
import jax
import jax.monitoring as monitoring
durations = collections.defaultdict(float)
counts = collections.Counter()
def on_duration(name, seconds, **kw):
    durations[name] += seconds
    counts[name] += 1
monitoring.register_event_duration_secs_listener(on_duration)
monitoring.register_event_listener(lambda name, **kw: counts.update([name]))
import importlib
main = importlib.import_module("dynamics.cli._main")
import dynamics._simulate, dynamics.results, dynamics.integrate  # what `simulate` imports lazily
if "--no-plot" not in sys.argv:
    import dynamics.plots
t1 = time.perf_counter()
code = main.main(sys.argv[1:])
t2 = time.perf_counter()
print("BENCH " + json.dumps({
    "import": t1 - t0, "command": t2 - t1, "rc": code,
    "trace": durations["/jax/core/compile/jaxpr_trace_duration"],
    "lower": durations["/jax/core/compile/jaxpr_to_mlir_module_duration"],
    "compile": durations["/jax/core/compile/backend_compile_duration"],
    "programs": counts["/jax/core/compile/backend_compile_duration"],
    "cache_hits": counts["/jax/compilation_cache/cache_hits"],
    "cache_misses": counts["/jax/compilation_cache/cache_misses"],
    "retrieval": durations["/jax/compilation_cache/cache_retrieval_time_sec"],
}), file=sys.stderr)
"""

SIZES = ["--n1", "4", "--n2", "2", "--t-max", "50"]
VALUES = [(0.5, 0.01), (0.3, 0.02), (0.2, 0.005), (0.7, 0.015), (0.4, 0.03), (0.6, 0.001), (0.25, 0.025)]


def call(args: list[str], env: dict[str, str], workdir: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *args], env=env, cwd=workdir, capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH ")), None)
    if line is None or proc.returncode != 0:
        raise RuntimeError(f"the command failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    row = json.loads(line[len("BENCH "):])
    row["wall"] = wall
    row["rest"] = wall - row["import"] - row["trace"] - row["lower"] - row["compile"]
    return row


def scenario(name: str, repeats: int, plot: bool, workdir: Path) -> list[dict]:
    env = dict(os.environ)
    for key in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "EQX_ON_ERROR"):
        env.pop(key, None)
    cache = Path(tempfile.mkdtemp(prefix=f"bench-cli-{name}-", dir=workdir))
    extra: list[str] = []
    if name == "cache":
        env["SSL_DYNAMICS_CACHE"] = str(cache)
    elif name == "no-cache":
        extra = ["--no-compile-cache"]
    elif name == "cache+eqx-nan":
        env.update(JAX_COMPILATION_CACHE_DIR=str(cache), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                   EQX_ON_ERROR="nan")
    rows = []
    for k in range(repeats + 1):
        beta, eta = VALUES[k % len(VALUES)]
        args = [*extra, "simulate", *SIZES, "--beta", str(beta), "--eta", str(eta), "--out",
                str(workdir / f"{name}-{k}.nc"), "--overwrite"] + ([] if plot else ["--no-plot"])
        row = call(args, env, workdir)
        row["call"] = "first" if k == 0 else f"repeat {k}"
        rows.append(row)
        print(f"  {name:<14} {row['call']:<9} wall {row['wall']:5.2f} s  import {row['import']:5.2f}  "
              f"trace {row['trace']:4.2f}  lower {row['lower']:4.2f}  compile {row['compile']:5.2f} "
              f"({row['programs']} programs; cache {row['cache_hits']} hits, {row['cache_misses']} misses, "
              f"{row['retrieval']:.2f} s)  rest {row['rest']:5.2f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=4, help="repeats after the first call (default 4)")
    parser.add_argument("--plot", action="store_true", help="write the PNG too (the command's default)")
    parser.add_argument("--diagnose", action="store_true", help="also run the cache+eqx-nan scenario")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}, python {platform.python_version()}")
    print(f"command: ssl-dynamics simulate {' '.join(SIZES)} --beta B --eta E{'' if args.plot else ' --no-plot'}")
    names = ["cache", "no-cache"] + (["cache+eqx-nan"] if args.diagnose else [])
    summary = {}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        for name in names:
            rows = scenario(name, args.repeats, args.plot, Path(tmp))
            repeat = {k: statistics.median(r[k] for r in rows[1:]) for k in ("wall", "import", "trace", "lower",
                                                                             "compile", "rest")}
            summary[name] = (rows[0], repeat)
    print("\nmedians of the repeats against the first call (s):")
    print(f"  {'scenario':<14} {'first wall':>10} {'repeat wall':>11} {'ratio':>6} {'import':>7} {'trace':>6} "
          f"{'lower':>6} {'compile':>8} {'rest':>6}")
    for name, (first, repeat) in summary.items():
        print(f"  {name:<14} {first['wall']:10.2f} {repeat['wall']:11.2f} {repeat['wall'] / first['wall']:6.2f} "
              f"{repeat['import']:7.2f} {repeat['trace']:6.2f} {repeat['lower']:6.2f} {repeat['compile']:8.2f} "
              f"{repeat['rest']:6.2f}")
    first, repeat = summary["cache"]
    ratio = repeat["wall"] / first["wall"]
    print(f"\n{'PASS' if ratio < 0.5 else 'FAIL'}: a repeat takes {ratio:.2f} of the first call's wall time with "
          "the cache folder set (target < 0.5)")


if __name__ == "__main__":
    main()
