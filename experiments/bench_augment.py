"""Throughput of `dynamics.bridge.augment.byol_views` (two BYOL views) on this machine.

Usage: `.venv/bin/python experiments/bench_augment.py [--repeats 7]`. For each (batch, side) the
uint8 batch is put on the device once; prints the compile time (first call) and the steady-state
images/s (median over repeats, each call synchronised with `block_until_ready`), and the fastest call
(the least disturbed by other processes on a shared machine; the load average is printed). One
"image" is one input image turned into its two views.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from dynamics.bridge.augment import byol_views

CASES = ((256, 16), (256, 32), (64, 96))


def bench(batch: int, side: int, repeats: int) -> tuple[float, float, float]:
    """(compile seconds, median and fastest seconds per call) for a (batch, side, side, 3) batch."""
    rng = np.random.default_rng(0)
    images = jax.device_put(jnp.asarray(rng.integers(0, 256, (batch, side, side, 3)), jnp.uint8))
    run = jax.jit(byol_views, static_argnames=("out_size",))
    key = jax.random.key(0)
    start = time.perf_counter()
    jax.block_until_ready(run(key, images, out_size=side))
    compile_s = time.perf_counter() - start
    times = []
    for i in range(repeats):
        key_i = jax.random.fold_in(key, i + 1)
        start = time.perf_counter()
        jax.block_until_ready(run(key_i, images, out_size=side))
        times.append(time.perf_counter() - start)
    return compile_s, statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    print(f"jax {jax.__version__}, device {jax.devices()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'batch':>5} {'side':>4} {'compile s':>9} {'ms/call':>8} {'images/s':>9} {'best ms':>8} "
          f"{'best img/s':>10}")
    for batch, side in CASES:
        compile_s, median, best = bench(batch, side, args.repeats)
        print(f"{batch:>5} {side:>4} {compile_s:>9.2f} {median * 1e3:>8.1f} {batch / median:>9.0f} "
              f"{best * 1e3:>8.1f} {batch / best:>10.0f}")


if __name__ == "__main__":
    main()
