"""`train(config)`: pre-train a network with a non-contrastive method and log the simulator's quantities.

The loop: the uint8 dataset lives on the device(s), each step gathers its batch by index (the data
order is a seeded permutation per epoch, a function of (seed, epoch)), draws its views on the device
and takes one optimizer step (`_step.py`); every `log_every` steps the probe set is measured
(`_measure.py`) into one row of the log, every `eval_every` epochs the kNN and online-probe accuracies
are evaluated, and every `checkpoint_every` steps the state and the rows so far are saved (orbax), so
`resume=True` continues a killed run bit for bit (on the same device layout). A non-finite loss or
measurement stops the run with status `nonfinite`, keeping the last good checkpoint.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ..config import ConfigError
from ..flows import PredictorStatistics
from ..integrate import Status
from ..results import write_netcdf
from ._checkpoint import Checkpointer
from ._config import TrainConfig
from ._inputs import (augment_kind, input_shape, load_run_dataset, make_clean, make_views, pretrain_labels,
                      probe_views)
from ._log import build_log
from ._measure import (all_features, balance_residual, knn_accuracy, linear_probe, make_features, make_measure,
                       probe_accuracy, spectral_row)
from ._networks import TrainState, build_networks, linear_weights, predictor_matrix
from ._optim import ema_schedule, flow_times, lr_schedule, make_optimizer, steps_for
from ._parallel import is_main_process, make_mesh, replicate, shard_batch, to_host
from ._step import make_step_spec, make_train_step, probe_optimizer

__all__ = ["train", "RUN_FILES", "prepare_run"]

#: What a run directory holds.
RUN_FILES = {"log": "log.nc", "config": "config.json", "checkpoints": "checkpoints"}


def _initial_state(config: TrainConfig, nets, params, stats, probe, optimizer) -> TrainState:
    d = nets.predictor_dim
    zeros = np.zeros((d, d), np.float32)
    Wp0 = np.eye(d, dtype=np.float32) if nets.closed_form else zeros
    copy = lambda tree: jax.tree_util.tree_map(lambda a: np.array(a, copy=True), tree)  # noqa: E731
    return TrainState(step=np.int32(0), params=copy(params), stats=copy(stats), target_params=copy(params["tower"]),
                      target_stats=copy(stats["tower"]), opt_state=optimizer.init(params),
                      probe_params=copy(probe), probe_opt_state=probe_optimizer().init(probe),
                      pred_stats=PredictorStatistics(zeros, zeros, zeros), Wp=Wp0)


class _Run:
    """Everything a run needs, built once from the config (no training happens here)."""

    def __init__(self, config: TrainConfig, dataset=None):
        self.config = config
        self.dataset = ds = load_run_dataset(config) if dataset is None else dataset
        self.spe, self.total = steps_for(config, len(ds.pretrain))
        # default: about 4 rows per epoch, but at least 5 steps apart (a row costs about half a step)
        self.log_every = config.log_every or max(5, self.spe // 4)
        # default: every epoch, at least 50 steps apart, on a logging step (so the rows stay evenly spaced)
        self.ckpt_every = config.checkpoint_every or -(-max(self.spe, 50) // self.log_every) * self.log_every
        self.eval_every = config.eval_every * self.spe if config.eval_every else self.total
        self.mesh = make_mesh()
        n_dev = self.mesh.devices.size
        if config.batch_size % n_dev:
            raise ConfigError("batch_size", config.batch_size, f"must be a multiple of the {n_dev} devices")
        shape = input_shape(config, ds)
        self.nets, params, stats, probe = build_networks(config, shape, ds.num_classes)
        self.schedule = lr_schedule(config, self.spe, self.total)
        self.ema = ema_schedule(config, self.total)
        self.optimizer = make_optimizer(config, params, self.schedule)
        spec = config.method_spec
        self.spec = spec
        step_spec = make_step_spec(config, self.nets, make_views(config, ds))
        self.step_fn = jax.jit(make_train_step(step_spec, self.optimizer, self.ema), donate_argnums=(0,))
        self.measure = make_measure(self.nets, spec.target)
        self.features = make_features(self.nets, make_clean(config, ds))
        self.state0 = _initial_state(config, self.nets, params, stats, probe, self.optimizer)
        self.data = replicate(ds.pretrain, self.mesh)
        self.labels = replicate(pretrain_labels(ds), self.mesh)
        probe = probe_views(config, ds)   # split over the devices along the probe images (a multiple of them)
        self.probe = shard_batch(probe[:, :probe.shape[1] - probe.shape[1] % n_dev], self.mesh, axis=1)
        self.key = replicate(np.asarray(jax.random.key_data(jax.random.key(config.seed))), self.mesh)
        self.times = flow_times(config, self.schedule, self.total)
        self.rates = config.flow_rates()
        self._perm: tuple[int, np.ndarray] | None = None
        self.U0: np.ndarray | None = None  # eigenvectors of the first row's F^

    def batch_indices(self, step: int) -> np.ndarray:
        epoch, pos = divmod(step, self.spe)
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.config.seed, epoch]).permutation(
                len(self.dataset.pretrain)).astype(np.int32))
        b = self.config.batch_size
        return self._perm[1][pos * b:(pos + 1) * b]

    def lr(self, step: int) -> float:
        return float(self.schedule(step))


def prepare_run(config: TrainConfig, dataset=None) -> _Run:
    """Everything `train` builds before its first step (networks, compiled step, device-resident data),
    for benchmarks and tools; `dataset` replaces the config's dataset when given."""
    with jax.enable_x64(False):
        return _Run(config, dataset)


def _row(run: _Run, state: TrainState, step: int, pending: list[dict], wall: float, images: int
         ) -> tuple[dict[str, Any], np.ndarray | None]:
    config = run.config
    measured = to_host(run.measure(state, run.probe))
    row = spectral_row(measured, config.predictor_lr_mult, balance=run.nets.predictor_kind in ("linear", "symmetric"),
                       U0=run.U0)
    gram = row.pop("balance_gram", None)
    U = row.pop("U")
    if run.U0 is None:
        run.U0 = U
    lr = run.lr(min(step, run.total - 1))
    gamma = float(run.ema(jnp.int32(min(step, run.total - 1))))
    k = config.loss_scale
    row.update(step=step, epoch=step / run.spe, time=float(run.times[step]), lr=lr, ema_momentum=gamma,
               beta=(1.0 - gamma) * (1.0 - config.momentum) / (k * lr) if lr > 0 else math.inf)
    if run.spec.target == "online":
        row["beta"] = math.inf
    if pending:
        host = to_host(pending)
        row["loss"] = float(np.mean([m["loss"] for m in host]))
        row["online_probe_train_accuracy"] = float(np.mean([m["probe_accuracy"] for m in host]))
        row["finite"] = bool(np.all(np.isfinite([m["loss"] for m in host])))
    row["images_per_second"] = images / wall if wall > 0 and images else math.nan
    W = linear_weights(state.params)
    if W is not None:
        row["W"] = to_host(jnp.asarray(W))
        Wp = predictor_matrix(run.nets, state.params, state.Wp)
        row["Wp"] = None if Wp is None else to_host(Wp)
        tw = state.target_params["encoder"]["fc"]["kernel"] if run.spec.target == "ema" else None
        row["Wa"] = to_host(tw).T if tw is not None else row["W"]
    return row, gram


def _evaluate(run: _Run, state: TrainState) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    ds, config = run.dataset, run.config
    bank = all_features(run.features, state, ds.train_x)
    test = all_features(run.features, state, ds.test_x)
    out = {"knn_accuracy": knn_accuracy(bank, ds.train_y, test, ds.test_y, ds.num_classes, config.knn_k,
                                        config.knn_temperature)}
    if config.online_probe:
        out["online_probe_accuracy"] = probe_accuracy(to_host(state.probe_params), test, ds.test_y)
    return out, bank, test


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in row.items()}


def _prepare_dir(out: Path | None, resume: bool, overwrite: bool) -> None:
    if out is None:
        return
    if out.exists() and not out.is_dir():
        raise ConfigError("out", str(out), "names a file; a run writes a directory")
    holds = out.exists() and any((out / name).exists() for name in RUN_FILES.values())
    if holds and not (resume or overwrite):
        raise ConfigError("out", str(out), "already holds a run; pass --resume to continue it or --overwrite to"
                          " replace it")
    if holds and overwrite and is_main_process():
        for name in RUN_FILES.values():
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def train(config: TrainConfig, *, out: str | Path | None = None, resume: bool = False, overwrite: bool = False,
          progress: bool = True) -> xr.Dataset:
    """Pre-train the network of `config` and return its log (see `dynamics.bridge.LONG_NAMES`).

    **Arguments:**

    - `config`: a `TrainConfig`.
    - `out`: the run directory (`log.nc`, `config.json`, `checkpoints/`); None keeps everything in
      memory (no checkpoints).
    - `resume`: continue from the latest checkpoint in `out` (a checkpoint of another configuration is
      refused); starts afresh when there is none.
    - `overwrite`: replace a run already in `out`.
    - `progress`: a progress bar on stderr (images/s, loss, probe accuracy).

    **Returns:** the log, an `xarray.Dataset` with coordinates `time` (flow time, THEORY.md §1), `step`,
    `epoch` and `mode`; attributes: the configuration, the mapped flow rates, device, versions, wall time.

    **Raises:** `ConfigError` (bad settings, data errors, an incompatible run directory), before any
    training.
    """
    with jax.enable_x64(False):  # float32 training whatever the caller's JAX configuration
        return _train(config, None if out is None else Path(out), resume, overwrite, progress)


def _train(config: TrainConfig, out: Path | None, resume: bool, overwrite: bool, progress: bool) -> xr.Dataset:
    _prepare_dir(out, resume, overwrite)
    start_wall = time.perf_counter()
    run = _Run(config)
    ckpt = Checkpointer(out / RUN_FILES["checkpoints"], config.keep_checkpoints, config.to_json()) if out else None
    state = replicate(run.state0, run.mesh)
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    grams: list = []
    if ckpt is not None and resume and ckpt.latest_step() is not None:
        state, meta = ckpt.restore(state)
        rows, extra = meta["rows"], meta["extra"]
        grams = [None if g is None else np.asarray(g) for g in meta["grams"]]
        run.U0 = np.asarray(extra["U0"])
    if out is not None and is_main_process():
        out.mkdir(parents=True, exist_ok=True)
        (out / RUN_FILES["config"]).write_text(json.dumps(config.to_dict(), indent=1, sort_keys=True))
    start = int(to_host(state.step))
    status = Status.ok
    bar = tqdm(total=run.total, initial=start, unit="step", desc=f"train {config.method} {config.model}",
               disable=not progress or not is_main_process(), file=sys.stderr, dynamic_ncols=True)
    train_time = float(extra.get("train_seconds", 0.0))
    try:
        if start == 0:
            row, gram = _row(run, state, 0, [], 0.0, 0)
            metrics, bank, test = _evaluate(run, state)
            row.update(metrics)
            if config.linear_probe:
                extra["linear_probe_accuracy_init"] = linear_probe(bank, run.dataset.train_y, test, run.dataset.test_y)
                extra["raw_input_probe_accuracy"] = _raw_probe(run)
            rows.append(_jsonable(row))
            grams.append(gram)
            extra["balance_ref"] = row.get("balance_ref", math.nan)
            extra["U0"] = run.U0.tolist()
        pending: list[dict] = []
        tick, images = time.perf_counter(), 0
        for k in range(start, run.total):
            idx = shard_batch(run.batch_indices(k), run.mesh)
            state, metrics = run.step_fn(state, run.data, run.labels, idx, run.key)
            pending.append(metrics)
            images += config.batch_size
            k1 = k + 1
            checkpoint = ckpt is not None and (k1 % run.ckpt_every == 0 or k1 == run.total)
            if k1 % run.log_every == 0 or k1 == run.total or k1 % run.eval_every == 0 or checkpoint:
                jax.block_until_ready(state)
                wall = time.perf_counter() - tick
                train_time += wall
                row, gram = _row(run, state, k1, pending, wall, images)
                pending, images = [], 0
                if not row.get("finite", True) or not np.all(np.isfinite(row["eig_F"])):
                    status = Status.nonfinite
                    rows.append(_jsonable(row))
                    grams.append(gram)
                    break
                if k1 % run.eval_every == 0 or k1 == run.total:
                    row.update(_evaluate(run, state)[0])
                rows.append(_jsonable(row))
                grams.append(gram)
                bar.update(k1 - bar.n)
                bar.set_postfix(loss=f"{row['loss']:.4g}", img_s=f"{row['images_per_second']:.0f}",
                                knn=f"{row.get('knn_accuracy', math.nan):.3f}", refresh=False)
                if checkpoint:
                    extra["train_seconds"] = train_time
                    ckpt.save(k1, state, {"rows": rows, "extra": extra, "grams": _gram_list(grams)})
                    _write_log(out, run, rows, grams, extra, Status.ok, start_wall, partial=k1 < run.total)
                tick = time.perf_counter()
    finally:
        bar.close()
        if ckpt is not None:
            ckpt.close()
    if status == Status.ok and config.linear_probe:
        _, bank, test = _evaluate(run, state)
        extra["linear_probe_accuracy"] = linear_probe(bank, run.dataset.train_y, test, run.dataset.test_y)
    extra["train_seconds"] = train_time
    return _write_log(out, run, rows, grams, extra, status, start_wall, partial=False)


def _gram_list(grams: list) -> list:
    return [None if g is None else np.asarray(g).tolist() for g in grams]


def _raw_probe(run: _Run) -> float:
    ds = run.dataset
    clean = make_clean(run.config, ds)
    flat = lambda x: np.asarray(clean(jnp.asarray(x))).reshape(len(x), -1)  # noqa: E731
    return linear_probe(flat(ds.train_x), ds.train_y, flat(ds.test_x), ds.test_y)


def _write_log(out: Path | None, run: _Run, rows: list[dict], grams: list, extra: dict[str, Any], status: Status,
               start_wall: float, partial: bool) -> xr.Dataset:
    config, ds = run.config, run.dataset
    rates = run.rates
    devices = jax.devices()
    attrs: dict[str, Any] = {
        "alpha_p": rates.alpha_p, "beta": rates.beta, "eta": rates.eta, "eta_p": rates.eta_p,
        "time_per_step": rates.time_per_step, "loss_scale": config.loss_scale,
        "target": run.spec.target, "stop_gradient": str(run.spec.stop_gradient).lower(),
        "predictor": run.spec.predictor, "loss_name": run.spec.loss, "augment_used": augment_kind(config, ds),
        "dataset_source": ds.source, "dataset_verified": int(ds.verified), "num_classes": ds.num_classes,
        "steps_per_epoch": run.spe, "total_steps": run.total, "probe_size": int(run.probe.shape[1]),
        "knn_k": config.knn_k, "knn_temperature": config.knn_temperature,
        "device": devices[0].device_kind, "platform": devices[0].platform, "device_count": len(devices),
        "process_count": jax.process_count(), "wall_seconds": time.perf_counter() - start_wall,
        "train_seconds": extra.get("train_seconds", math.nan), "partial": int(partial),
        **config.method_attrs(),  # flow_mapping (or "none (...)"), theory, method_family, dissl_condition
    }
    total_images = (int(rows[-1]["step"]) if rows else 0) * config.batch_size
    attrs["images_per_second"] = total_images / attrs["train_seconds"] if attrs["train_seconds"] else math.nan
    for key in ("linear_probe_accuracy", "linear_probe_accuracy_init", "raw_input_probe_accuracy"):
        attrs[key] = extra.get(key, math.nan)
    rows = [dict(r) for r in rows]
    times = np.asarray([r["time"] for r in rows])
    residual = balance_residual(grams, times, rates.eta, extra.get("balance_ref", math.nan))
    for r, value in zip(rows, residual):
        r["balance_residual"] = value
    log = build_log(config, rows, attrs, status)
    if out is not None and is_main_process():
        write_netcdf(log, out / RUN_FILES["log"])
    return log
