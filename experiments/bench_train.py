"""Benchmark: the training bridge's step (BYOL) on CIFAR-shaped data: images/s, seconds per CIFAR-10-sized
epoch, model FLOPs utilization, and augmentation throughput against the step's.

In one process:

1. the peak matmul throughput of this device in the compute dtype (a square matmul, `--peak-size`, timed
   after a warm-up; the best of several runs);
2. the compiled BYOL train step (`dynamics.bridge.prepare_run`: two views through BatchNorm separately,
   online forward + backward, target forward, optimizer, EMA, online probe) on random uint8 images of the
   given size kept on the device, batch split over every device: steady-state images/s (median of
   `--repeats` timings of `--steps` steps each), seconds per 50 000-image epoch, and FLOPs per step from
   XLA's cost analysis of the compiled step, hence MFU = FLOPs/s / peak;
3. the augmentation alone (`byol_views` + normalize, jitted) on the same batch: images/s, and its time as a
   share of the step's.

Usage:

    python experiments/bench_train.py                                   # CPU: small ResNet, 16x16 and 32x32
    python experiments/bench_train.py --model resnet18 --size 32 --batch 512 --steps 20   # the GPU target
    python experiments/bench_train.py --quick                           # smoke test

Targets (issue 13): ResNet-18 BYOL at batch 512 on an H100 <= 3 s per CIFAR-10 epoch and >= 35% MFU in
bf16; on a CPU the small model's figures are recorded for regression tracking.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="resnet-small", choices=("resnet18", "resnet-small", "mlp"))
    parser.add_argument("--size", type=int, action="append", help="image size (repeatable; default 16 and 32)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", default="auto", choices=("auto", "float32", "bfloat16"))
    parser.add_argument("--cpu-devices", type=int, default=2, help="host devices on a CPU (default 2)")
    parser.add_argument("--peak-size", type=int, default=0, help="matmul size of the peak (0: 2048 CPU, 8192 GPU)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run, not a measurement")
    return parser.parse_args()


def main() -> int:
    args = _parse()
    if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   f" --xla_force_host_platform_device_count={args.cpu_devices}").strip()
    import jax
    import jax.numpy as jnp
    import numpy as np

    from dynamics.bridge import TrainConfig
    from dynamics.bridge._inputs import make_views
    from dynamics.bridge._parallel import replicate, shard_batch
    from dynamics.bridge._train import prepare_run
    from dynamics.bridge.data import Dataset

    sizes = args.size or ([16] if args.quick else [16, 32])
    steps, repeats = (2, 1) if args.quick else (args.steps, args.repeats)
    devices = jax.devices()
    gpu = devices[0].platform == "gpu"
    print(f"# bench_train {time.strftime('%Y-%m-%d')}: {len(devices)} x {devices[0].device_kind} "
          f"({devices[0].platform}), {platform.processor() or platform.machine()}, load "
          f"{os.getloadavg()[0]:.1f}, jax {jax.__version__}")

    with jax.enable_x64(False):
        dtype = jnp.bfloat16 if (args.precision == "bfloat16" or (args.precision == "auto" and gpu)) else jnp.float32
        n = args.peak_size or (8192 if gpu else (512 if args.quick else 2048))
        a = jnp.ones((n, n), dtype)
        mm = jax.jit(lambda x: x @ x)
        mm(a).block_until_ready()
        best = min(_timed(lambda: mm(a).block_until_ready()) for _ in range(5))
        # one matmul on one device: on a CPU it already runs on every core (XLA's thread pool), so it is the
        # machine's peak, not one device's share of it
        peak = 2 * n**3 / best
        print(f"peak matmul ({n}x{n}, {jnp.dtype(dtype).name}): {peak / 1e9:.1f} GFLOP/s")

        for size in sizes:
            rng = np.random.default_rng(0)
            n_images = max(4 * args.batch, 2048)
            images = rng.integers(0, 256, (n_images, size, size, 3), dtype=np.uint8)
            labels = rng.integers(0, 10, n_images).astype(np.int32)
            ds = Dataset(name="random", pretrain=images, train_x=images[:512], train_y=labels[:512],
                         test_x=images[:256], test_y=labels[:256], num_classes=10,
                         class_names=tuple(str(c) for c in range(10)), mean=(0.5,) * 3, std=(0.25,) * 3,
                         source="random uint8", verified=True)
            config = TrainConfig(dataset="cifar10", model=args.model, batch_size=args.batch, epochs=1,
                                 precision=args.precision, linear_probe=False, online_probe=True)
            t0 = time.perf_counter()
            run = prepare_run(config, ds)
            state = replicate(run.state0, run.mesh)
            idx = shard_batch(np.arange(args.batch, dtype=np.int32), run.mesh)
            compiled = run.step_fn.lower(state, run.data, run.labels, idx, run.key).compile()
            compile_s = time.perf_counter() - t0
            cost = compiled.cost_analysis()
            cost = cost[0] if isinstance(cost, (list, tuple)) else cost
            flops = float(cost.get("flops", float("nan"))) * (len(devices) if not gpu else 1)
            state, _ = run.step_fn(state, run.data, run.labels, idx, run.key)
            jax.block_until_ready(state)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                for k in range(steps):
                    idx = shard_batch(run.batch_indices(k), run.mesh)
                    state, metrics = run.step_fn(state, run.data, run.labels, idx, run.key)
                jax.block_until_ready(state)
                times.append((time.perf_counter() - t) / steps)
            step_s = statistics.median(times)
            ips = args.batch / step_s
            views = jax.jit(make_views(config, ds))
            batch = jnp.asarray(images[:args.batch])
            key = jax.random.key(0)
            jax.block_until_ready(views(key, batch))
            aug_times = []
            for _ in range(repeats):
                t = time.perf_counter()
                for k in range(steps):
                    out = views(jax.random.fold_in(key, k), batch)
                jax.block_until_ready(out)
                aug_times.append((time.perf_counter() - t) / steps)
            aug_s = statistics.median(aug_times)
            mfu = flops / step_s / peak
            print(f"{args.model} {size}x{size} batch {args.batch} ({jnp.dtype(dtype).name}): {ips:,.0f} images/s, "
                  f"{50_000 / ips:.2f} s per 50k-image epoch, compile {compile_s:.1f} s, "
                  f"{flops / 1e9:.2f} GFLOP/step, MFU {100 * mfu:.1f}%")
            print(f"  augmentation alone: {args.batch / aug_s:,.0f} images/s (two views), "
                  f"{100 * aug_s / step_s:.0f}% of a step's time")
    return 0


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
