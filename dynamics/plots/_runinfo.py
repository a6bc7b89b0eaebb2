"""What a figure says about a run: simulation results (`dynamics.simulate`) and training logs
(`dynamics.bridge.train`, `attrs["simulator"] == "bridge"`) described in one vocabulary."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["is_training_log", "run_settings", "run_header", "SETTING_NAMES", "has_theory_config",
           "epoch_axis", "CLOSED_FORMS"]

#: Settings that tell runs apart, in the order they appear in labels and titles, with their short names.
SETTING_NAMES = {"source": "", "method": "method", "encoder": "model", "dataset": "data", "loss": "loss",
                 "predictor": "predictor", "stop_gradient": "sg", "expectation": "E", "target": "target",
                 "alpha": r"$\alpha$", "eps": r"$\varepsilon$", "sigma2": r"$\sigma^2$", "eta": r"$\eta$",
                 "beta": r"$\beta$", "alpha_p": r"$\alpha_p$", "tau0": r"$\tau_0$", "lr": "lr",
                 "batch_size": "batch", "seed": "seed"}
#: Closed-form predictors of the simulator (`predictor_alpha` / `predictor_eps` apply to these only).
CLOSED_FORMS = ("power", "power_normalized", "directpred", "directcopy", "ridge_lstsq", "soft_projector",
                "inverse_sqrt")
_POWER_FAMILY = ("power", "power_normalized")


def is_training_log(ds: xr.Dataset) -> bool:
    """True for a log of `ssl-dynamics train` (`simulator = "bridge"` or a `train_config_json`)."""
    return ds.attrs.get("simulator") == "bridge" or "train_config_json" in ds.attrs


def has_theory_config(ds: xr.Dataset) -> bool:
    """True when `ds` carries the simulator configuration (`config_json`) that the closed-form levels need:
    a flow run or a minibatch SGD run (on the flow its settings map to), not ER or ISSL, whose fixed
    points are not those of the flow."""
    return ("config_json" in ds.attrs and not is_training_log(ds)
            and str(ds.attrs.get("simulator", "flow")) not in ("er", "issl"))


def simulation_method(ds: xr.Dataset) -> str | None:
    """What a sampled simulation ran, for labels ("SGD", "ER κ=10", "rec κ=10", "ISSL dissl"); None
    for a flow run."""
    a = ds.attrs
    simulator = str(a.get("simulator", "flow"))
    if simulator == "sgd":
        return "SGD"
    if simulator == "er":
        kappa = a.get("kappa", a.get("er_kappa"))
        name = "ER" if str(a.get("objective", "er")) == "er" else "rec"
        return f"{name} κ={_num(kappa)}" if not _unset(kappa) else name
    if simulator == "issl":
        return f"ISSL {a.get('objective', a.get('issl_objective', '?'))}"
    return None


def _num(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value in ("unset", "", "auto"))


def run_settings(ds: xr.Dataset) -> dict[str, str]:
    """The settings of a run that figures show, as display strings, keyed as `SETTING_NAMES`; a setting
    that does not apply to the run is absent (no beta for a SimSiam target, no alpha for a trained
    predictor, no seed for the deterministic eigenmode model)."""
    a = ds.attrs
    out: dict[str, str] = {}
    if is_training_log(ds):
        out["source"] = "training"
        out["method"] = str(a.get("train_method", "?"))
        out["encoder"] = str(a.get("train_model", "?"))
        out["dataset"] = str(a.get("train_dataset", "?"))
        out["loss"] = str(a.get("loss_name", a.get("train_loss", "?")))
        out["predictor"] = str(a.get("predictor", a.get("train_predictor", "?")))
        sg = a.get("train_stop_gradient", 1)
        out["stop_gradient"] = "target" if str(sg) in ("1", "True", "true") else "none"
        target = str(a.get("target", "?"))
        out["target"] = target
        if a.get("train_dataset") == "synthetic" and not _unset(a.get("train_sigma2")):
            out["sigma2"] = _num(a["train_sigma2"])
        for key in ("eta", "alpha_p"):
            if key in a:
                out[key] = _num(a[key])
        if target == "ema" and "beta" in a:
            out["beta"] = _num(a["beta"])
        if not _unset(a.get("train_lr")):
            out["lr"] = _num(a["train_lr"])
        if not _unset(a.get("train_batch_size")):
            out["batch_size"] = _num(a["train_batch_size"])
        out["seed"] = _num(a.get("train_seed", 0))
        return out
    out["source"] = "simulation"
    out["encoder"] = str(a.get("model", "?"))
    method = simulation_method(ds)
    if method is not None:
        out["method"] = method
        for key in ("lr", "batch_size"):
            if not _unset(a.get(key)):
                out[key] = _num(a[key])
    if a.get("simulator") == "issl":  # the linear BYOL settings do not apply
        out["seed"] = _num(a.get("seed", 0))
        return out
    if a.get("data", "isotropic") != "isotropic":
        out["dataset"] = str(a.get("data"))
    out["loss"] = "vMF reconstruction" if a.get("simulator") == "er" else str(a.get("loss", "euclidean"))
    predictor = str(a.get("predictor", "?"))
    out["predictor"] = predictor
    out["stop_gradient"] = str(a.get("stop_gradient", "target"))
    if str(a.get("expectation", "exact")) != "exact":
        out["expectation"] = str(a.get("expectation"))
    target = str(a.get("target", "?"))
    out["target"] = target
    if predictor in _POWER_FAMILY and not _unset(a.get("predictor_alpha_effective")):
        out["alpha"] = _num(a["predictor_alpha_effective"])
    if predictor in CLOSED_FORMS and not _unset(a.get("predictor_eps_effective")):
        out["eps"] = _num(a["predictor_eps_effective"])
    for key in ("sigma2", "eta"):
        if key in a:
            out[key] = _num(a[key])
    if target == "ema":
        if "beta" in a:
            out["beta"] = _num(a["beta"])
        if "tau0" in a and a.get("model") == "full":
            out["tau0"] = _num(a["tau0"])
    if predictor in ("trained", "symmetric") and "alpha_p" in a:
        out["alpha_p"] = _num(a["alpha_p"])
    if (a.get("model") == "full" and a.get("init", "random") == "random" or method is not None) and "seed" in a:
        out["seed"] = _num(a["seed"])
    return out


def _method_title(settings: dict[str, str]) -> str:
    method = settings.get("method", "?")
    return {"byol": "BYOL", "simsiam": "SimSiam", "directpred": "DirectPred", "directcopy": "DirectCopy"}.get(
        method, method)


def run_header(ds: xr.Dataset) -> str:
    """One or two lines naming what the run is: for a simulation the model, target, stop-gradient,
    predictor, loss and the rates that apply; for a training log the method, network, dataset, optimizer
    and the flow rates its settings map to (THEORY.md §1), with the number of steps and epochs."""
    a = ds.attrs
    s = run_settings(ds)
    if is_training_log(ds):
        encoder = {"linear": "linear encoder", "deep-linear": "deep linear network", "mlp": "MLP",
                   "resnet18": "ResNet-18", "resnet-small": "small ResNet"}.get(s["encoder"], s["encoder"])
        dims = ""
        if not _unset(a.get("train_input_dim")) and s["dataset"] == "synthetic":
            dims = f" ({_num(a['train_input_dim'])} → {_num(a.get('train_feature_dim', '?'))})"
        target = "EMA target" if s["target"] == "ema" else "online network as target"
        line1 = (f"training: {_method_title(s)}, {encoder}{dims} on {s['dataset']}; predictor {s['predictor']}, "
                 f"{s['loss']} loss, {target}" + ("" if s["stop_gradient"] == "target" else ", no stop-gradient"))
        opt = str(a.get("train_optimizer", "sgd")).upper()
        steps = a.get("total_steps")
        epochs = float(ds["epoch"].values[-1]) if "epoch" in ds.coords and ds.sizes.get("time", 0) else None
        length = ""
        if steps is not None:
            length = f"; {_num(steps)} steps" + (f" = {epochs:.3g} epochs" if epochs is not None else "")
        rates = [rf"$\eta$={s['eta']}" if "eta" in s else "", rf"$\alpha_p$={s['alpha_p']}" if "alpha_p" in s else "",
                 rf"$\beta$={s['beta']}" if "beta" in s else ""]
        line2 = (f"{opt} lr {s.get('lr', '?')}, weight decay {_num(a.get('train_weight_decay', '?'))}"
                 + (f", EMA {_num(a.get('train_ema_momentum'))}" if s["target"] == "ema" else "")
                 + f", batch {s.get('batch_size', '?')}{length}; flow rates " + ", ".join(r for r in rates if r))
        return f"{line1}\n{line2}"
    if s["encoder"] == "issl":
        return (f"simulation: {s['method']} on class-structured data, lr {s.get('lr', '?')}, batch "
                f"{s.get('batch_size', '?')}, seed {s.get('seed', '?')}")
    parts = [f"{s['encoder']} model"] if "method" not in s else [
        f"{s['method']} (lr {s.get('lr', '?')}, batch {s.get('batch_size', '?')}), {s['encoder']} model"]
    if "dataset" in s:
        parts.append(f"data={s['dataset']}")
    parts += [f"target={s['target']}", f"sg={s['stop_gradient']}"]
    pred = s["predictor"] + (rf" ($\alpha$={s['alpha']})" if "alpha" in s else "")
    parts.append(f"predictor={pred}")
    if s["loss"] != "euclidean":
        parts.append(f"loss={s['loss']}")
    rates = [rf"{SETTING_NAMES[k]}={s[k]}" for k in ("sigma2", "alpha_p", "beta", "tau0", "eta") if k in s]
    return ", ".join(parts) + "; " + ", ".join(rates)


def epoch_axis(ax, ds: xr.Dataset):
    """A secondary x axis on top of `ax` in epochs, for a training log with an `epoch` coordinate on
    flow time (monotone in time); None when the log has none."""
    if "epoch" not in ds.coords or ds.sizes.get("time", 0) < 2:
        return None
    t = np.asarray(ds["time"].values, dtype=float)
    e = np.asarray(ds["epoch"].values, dtype=float)
    keep = np.concatenate([[True], np.diff(t) > 0])
    t, e = t[keep], e[keep]
    if t.size < 2 or np.any(np.diff(e) <= 0):
        return None

    def to_epoch(x):
        return _interp(x, t, e)

    def to_time(x):
        return _interp(x, e, t)

    sec = ax.secondary_xaxis("top", functions=(to_epoch, to_time))
    sec.set_xlabel("epoch")
    sec.set_xticks(_epoch_ticks(ax, to_epoch, to_time))
    return sec


def _epoch_ticks(ax, to_epoch, to_time, min_gap: float = 0.09) -> list[float]:
    """Round epoch values for the top axis, at least `min_gap` of the axis width apart (flow time per
    epoch shrinks with a decaying learning rate, so evenly spaced epochs crowd at the end)."""
    from matplotlib.ticker import MaxNLocator

    lo, hi = ax.get_xlim()
    e_lo, e_hi = float(to_epoch(lo)), float(to_epoch(hi))
    candidates = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(max(e_lo, 0.0), e_hi)
    scale = ax.xaxis.get_transform()
    a, b = scale.transform([lo, hi])
    kept: list[float] = []
    last = -np.inf
    for e in candidates:
        if e < max(e_lo, 0.0) - 1e-12 or e > e_hi + 1e-12:
            continue
        x = (float(scale.transform([float(to_time(e))])[0]) - a) / (b - a)
        if x - last >= min_gap:
            kept.append(float(e))
            last = x
    return kept


def _interp(x, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation, extended linearly past both ends (axis transforms need a map
    defined everywhere)."""
    x = np.asarray(x, dtype=float)
    y = np.interp(x, xp, fp)
    lo = (fp[1] - fp[0]) / (xp[1] - xp[0])
    hi = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return np.where(x < xp[0], fp[0] + (x - xp[0]) * lo, np.where(x > xp[-1], fp[-1] + (x - xp[-1]) * hi, y))


def config_of(ds: xr.Dataset) -> dict:
    """The simulator configuration of a result (`config_json`), {} for a training log or a foreign file."""
    try:
        return json.loads(ds.attrs.get("config_json", "{}"))
    except (TypeError, ValueError):
        return {}
