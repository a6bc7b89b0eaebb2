"""`ssl-dynamics train`: pre-train a network with BYOL / SimSiam / DirectPred / DirectCopy (the bridge)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import typing
from pathlib import Path
from typing import Any

from ..config import ConfigError

__all__ = ["add_train_parser", "run_train", "train_config_from_args"]

DESCRIPTION = """Pre-train a network with a non-contrastive method and log the simulator's quantities
(eig_F, eig_Wp, tau, commutator, balance_residual, effective_rank, kernel_entropy, kNN and probe
accuracies) on the simulator's time axis (flow time, THEORY.md §1) into RUN_DIR/log.nc, with orbax
checkpoints in RUN_DIR/checkpoints (--resume continues a killed run). With no arguments it trains the
digits default (BYOL, a small ResNet at 16x16) on the CPU in about two minutes."""

_BOOL_FLAGS = {  # field -> (flag that sets the non-default value, help)
    "download": ("--download", "download the dataset archive from its official URL into --data-dir"),
    "verify": ("--no-verify", "skip the md5 checks (a modified copy of the dataset; warns)"),
    "stop_gradient": ("--no-stop-gradient", "ablation: the target branch carries gradient too"),
    "online_probe": ("--no-online-probe", "no online linear probe"),
    "linear_probe": ("--no-linear-probe", "no offline logistic-regression probes (start and end)"),
}

_HELP = {
    "dataset": "digits (default, no files needed), cifar10, stl10 (official archives in --data-dir) or"
               " synthetic (Gaussian vectors with the theory's X, X')",
    "data_dir": "folder holding the dataset archive as downloaded or its extracted folder",
    "method": "byol, simsiam, directpred, directcopy, isoloss, er-byol, dissl or cissl",
    "model": "resnet18, resnet-small, mlp or linear (the theory's W)",
    "predictor": "auto (per method), linear, symmetric, mlp, identity, or a closed form of the simulator",
    "target": "auto (per method), ema (BYOL) or online (SimSiam)",
    "loss": "auto (per method), euclidean (T1), cosine (BYOL's 2 - 2 cos), isoloss_euclidean or isoloss_cosine",
    "lr": "peak learning rate",
    "optimizer": "sgd (heavy-ball, coupled weight decay) or lars",
    "epochs": "training epochs",
    "steps": "training steps (overrides --epochs)",
    "batch_size": "images per step (a multiple of the device count)",
    "image_size": "training resolution (digits: 16 by default; others native)",
    "precision": "auto (bfloat16 compute on a GPU, float32 on a CPU), float32 or bfloat16",
}


def add_train_parser(subparsers) -> None:
    from ..bridge import TrainConfig

    parser = subparsers.add_parser("train", help="pre-train a network and log the simulator's quantities",
                                   description=DESCRIPTION)
    parser.add_argument("--config", metavar="FILE.toml", help="flat TOML file of settings (flags override it)")
    parser.add_argument("--out", default="runs/train", metavar="RUN_DIR", help="run directory (default runs/train)")
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="replace a run already in RUN_DIR")
    parser.add_argument("--no-predictor", action="store_true", help="ablation: no predictor (identity)")
    parser.add_argument("--no-ema", action="store_true", help="ablation: the online network is the target")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--cpu-devices", type=int, metavar="N",
                        help="split the batch over N host devices when running on CPUs (default: 2 when the"
                             " machine has 2 or more cores)")
    parser.add_argument("--coordinator", metavar="HOST:PORT", help="multi-process run: the coordinator's address")
    parser.add_argument("--num-processes", type=int, help="multi-process run: number of processes")
    parser.add_argument("--process-id", type=int, help="multi-process run: this process's index")
    hints = typing.get_type_hints(TrainConfig)
    group = parser.add_argument_group("settings (each also a key of --config FILE.toml)")
    for f in dataclasses.fields(TrainConfig):
        name = f.name
        if name in _BOOL_FLAGS:
            flag, help_text = _BOOL_FLAGS[name]
            group.add_argument(flag, dest=name, action="store_const", const=not f.default, default=argparse.SUPPRESS,
                               help=help_text)
            continue
        kind = hints[name]
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS,
                                  "help": f"{_HELP.get(name, '')} (default: {f.default})".strip()}
        from ..bridge import TRAIN_CHOICES

        if name in TRAIN_CHOICES:
            kwargs["choices"] = TRAIN_CHOICES[name]
        elif name in ("x_eigs", "xprime_eigs"):
            kwargs.update(type=_vector, metavar="V1,V2,...")
        elif kind == bool | None:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind in (int, int | None):
            kwargs["type"] = int
        elif kind in (float, float | None):
            kwargs["type"] = float
        group.add_argument("--" + name.replace("_", "-"), **kwargs)
    parser.set_defaults(handler=run_train)


def _vector(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def train_config_from_args(args: argparse.Namespace):
    """File values, then flags on top (and the ablation switches); validated."""
    from ..bridge import TrainConfig
    from ..config import read_config_file

    values: dict[str, Any] = read_config_file(args.config) if args.config else {}
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k.replace("-", "_"): v for k, v in values.items()}
    values.update({k: v for k, v in vars(args).items() if k in names})
    if args.no_predictor:
        values["predictor"] = "identity"
    if args.no_ema:
        values["target"] = "online"
    return TrainConfig.from_dict(values)


def _set_cpu_devices(n: int | None) -> None:
    """Ask XLA for `n` host devices (only possible before JAX starts its backends)."""
    from jax._src import xla_bridge

    if n is None:
        n = 2 if (os.cpu_count() or 1) >= 2 else 1
    if n < 1:
        raise ConfigError("cpu_devices", n, "must be >= 1")
    flags = os.environ.get("XLA_FLAGS", "")
    if n > 1 and "xla_force_host_platform_device_count" not in flags and not xla_bridge.backends_are_initialized():
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()


def run_train(args: argparse.Namespace) -> int:
    config = train_config_from_args(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError("out", str(out), "names a file; a run writes a directory")
    _set_cpu_devices(args.cpu_devices)
    from ..bridge import initialize_distributed

    initialize_distributed(args.coordinator, args.num_processes, args.process_id)
    from ..bridge import train

    start = time.perf_counter()
    ds = train(config, out=out, resume=args.resume, overwrite=args.overwrite, progress=not args.quiet)
    status = ds.attrs["status_name"]
    last = ds.isel(time=-1)
    print(f"train: {config.method} {config.model} on {config.dataset}: {int(last.step)} steps "
          f"({float(last.epoch):.1f} epochs) in {time.perf_counter() - start:.1f} s, "
          f"{ds.attrs['images_per_second']:.0f} images/s on {ds.attrs['device_count']} x {ds.attrs['device']}; "
          f"status {status}", file=sys.stderr)
    knn = float(ds.knn_accuracy.dropna("time").values[-1]) if ds.knn_accuracy.notnull().any() else float("nan")
    print(f"  kNN accuracy {knn:.3f}, linear probe {ds.attrs['linear_probe_accuracy']:.3f} (random init "
          f"{ds.attrs['linear_probe_accuracy_init']:.3f}, raw inputs {ds.attrs['raw_input_probe_accuracy']:.3f}), "
          f"effective rank {float(last.effective_rank):.2f} of {ds.sizes['mode']}", file=sys.stderr)
    print(f"wrote {out / 'log.nc'} (plot: ssl-dynamics plot {out / 'log.nc'} --kind trajectories), "
          f"checkpoints in {out / 'checkpoints'}", file=sys.stderr)
    return 0 if status == "ok" else 1
