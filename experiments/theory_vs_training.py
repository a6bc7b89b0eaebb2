"""Experiments of theory vs reality (issue 14): how far the linear theory predicts training, with numbers.

1. `ladder`: the assumption ladder on `synthetic` data (isotropic X = I, X' = 0.5 I, as 8 x 8 RGB
   vectors, d = 192) — linear encoder -> deep linear -> ReLU MLP (BatchNorm, projector) -> small ResNet —
   each trained with BYOL's EMA target, a linear predictor started at 0.2 I, the Euclidean loss (T1),
   constant rates; then `compare` (the eigenmode model from the measured initial spectra, nothing
   fitted). Prints the error table.
2. `grid`: the outcome grid on `synthetic` (MLP) and `digits` (MLP): stop-gradient off, no predictor,
   weight decay below and above eta* (from the pre-flight sigma^2 estimate), EMA rates, DirectPred
   against a trained linear predictor. For every cell the pre-flight prediction (before training), the
   post-hoc prediction (`compare`) and the observed outcome (does the run collapse: at most one mode left,
   or an effective rank below 1.5) — and confusion tables with counts.

Usage:

    python experiments/theory_vs_training.py ladder [--steps 1500]
    python experiments/theory_vs_training.py grid [--datasets synthetic digits] [--steps 600]
    python experiments/theory_vs_training.py all --out results/theory_vs_training
    # experiment 3, on a GPU: ResNet-18 on CIFAR-shaped synthetic images, or on CIFAR-10 / STL-10 archives
    python experiments/theory_vs_training.py grid --model resnet18 --datasets synthetic-cifar --steps 3000
    python experiments/theory_vs_training.py grid --model resnet18 --datasets cifar10 --data-dir ~/data --steps 5000

Nothing is tuned per cell. Results (JSON, figures) go to --out; the tables are printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

RUNGS = [
    ("linear", dict(model="linear", feature_dim=8)),
    ("deep-linear", dict(model="deep-linear", feature_dim=8)),
    ("relu-mlp", dict(model="mlp", projector_dim=8, projector_hidden=64)),
    ("small-resnet", dict(model="resnet-small", projector_dim=8, projector_hidden=64)),
]

LADDER_BASE = dict(dataset="synthetic", input_dim=192, synthetic_image_size=8, method="byol", predictor="linear",
                   predictor_init="identity", predictor_init_scale=0.2, loss="euclidean", momentum=0.0,
                   weight_decay=0.02, lr_schedule="constant", ema_schedule="constant", ema_momentum=0.998,
                   lr=0.01, batch_size=256, online_probe=False, linear_probe=False)


def _compare_row(name: str, log, comp, seconds: float) -> dict:
    s = comp.summary
    return {"name": name, "seconds": round(seconds, 1), **{k: s[k] for k in (
        "median_relative_error", "median_log_error", "initial_mode_median_error", "rank_correlation",
        "outcome_agreement", "run_collapsed_measured", "run_collapsed_predicted", "sigma2_estimate",
        "theorem1_slope", "theorem1_r2", "theorem3_measured_rate", "theorem3_predicted_rate", "predicted",
        "measured_outcomes", "predicted_outcomes")}}


def ladder(out: Path, steps: int) -> list[dict]:
    from dynamics.bridge import TrainConfig, train
    from dynamics.compare import compare, plot_comparison
    from dynamics.plots import save_figure

    rows = []
    for name, extra in RUNGS:
        t0 = time.perf_counter()
        config = TrainConfig(**LADDER_BASE, **extra, steps=steps, log_every=max(1, steps // 30))
        log = train(config, out=out / "runs" / f"ladder_{name}", overwrite=True, progress=False)
        comp = compare(log, name=name)
        save_figure(plot_comparison(comp), out / f"ladder_{name}.png")
        rows.append(_compare_row(name, log, comp, time.perf_counter() - t0))
        print(f"  {name}: {rows[-1]['median_relative_error']:.3g} rel, {rows[-1]['median_log_error']:.3g} log, "
              f"rank corr {rows[-1]['rank_correlation']:.2f}, outcomes {rows[-1]['outcome_agreement']:.0%} "
              f"({rows[-1]['seconds']:.0f} s)", file=sys.stderr)
    return rows


def grid_cells(dataset: str, eta_star_wd: float) -> list[tuple[str, dict]]:
    """The cells of the outcome grid on `dataset`; `eta_star_wd` is the weight decay at eta = eta*."""
    return [
        ("byol", {}),
        ("no stop-gradient", {"method": "simsiam", "stop_gradient": False}),
        ("simsiam", {"method": "simsiam"}),
        ("no predictor", {"predictor": "identity"}),
        ("wd 0.5 eta*", {"weight_decay": 0.5 * eta_star_wd}),
        ("wd 2 eta*", {"weight_decay": 2.0 * eta_star_wd}),
        ("wd 4 eta*", {"weight_decay": 4.0 * eta_star_wd}),
        ("ema 0.9", {"ema_momentum": 0.9}),
        ("ema 0.999", {"ema_momentum": 0.999}),
        ("directpred", {"method": "directpred"}),
        ("linear predictor", {"predictor": "linear", "predictor_init": "identity", "predictor_init_scale": 0.2}),
    ]


#: Per-dataset settings of the grid; `synthetic-cifar`: Gaussian vectors read as 32 x 32 RGB images (for the
#: ResNets on a GPU without the archives).
GRID_DATA = {
    "synthetic": dict(dataset="synthetic", input_dim=32),
    "synthetic-cifar": dict(dataset="synthetic", input_dim=3 * 32 * 32, synthetic_image_size=32),
    "digits": dict(dataset="digits"),
    "cifar10": dict(dataset="cifar10"),
    "stl10": dict(dataset="stl10"),
}


def grid(out: Path, datasets: list[str], steps: int, model: str = "mlp", data_dir: str | None = None) -> list[dict]:
    from dynamics.bridge import TrainConfig, train
    from dynamics.compare import compare, preflight
    from dynamics.config import ConfigError

    rows = []
    for dataset in datasets:
        base = dict(**GRID_DATA[dataset], model=model, method="byol", batch_size=256, lr=0.05, momentum=0.0,
                    weight_decay=1e-4, lr_schedule="constant", ema_schedule="constant", ema_momentum=0.99,
                    loss="euclidean", online_probe=False, linear_probe=False, steps=steps,
                    log_every=max(1, steps // 30))
        if dataset in ("cifar10", "stl10"):
            base.update(data_dir=data_dir)
        probe = preflight(TrainConfig(**base))
        k = 1.0   # Euclidean loss: eta = wd (coupled decay, THEORY.md §1)
        eta_star_wd = probe["eta_star"] * k
        print(f"{dataset}: sigma2 estimate {probe['sigma2_estimate']:.3g}, eta* {probe['eta_star']:.3g}",
              file=sys.stderr)
        for name, extra in grid_cells(dataset, eta_star_wd):
            t0 = time.perf_counter()
            config = TrainConfig(**{**base, **extra})
            before = preflight(config)
            log = train(config, out=out / "runs" / f"grid_{dataset}_{name.replace(' ', '_')}", overwrite=True,
                        progress=False)
            label = f"{dataset}: {name}"
            try:
                comp = compare(log, name=label)
                row = _compare_row(label, log, comp, time.perf_counter() - t0)
            except ConfigError as err:  # a run that overflowed before its second logged row: nothing to compare
                row = {"name": label, "seconds": round(time.perf_counter() - t0, 1), "run_collapsed_measured": False,
                       "run_collapsed_predicted": None, "outcome_agreement": float("nan"), "compare_error": str(err)}
            row["observed"] = ("diverged" if log.attrs.get("status_name", "ok") != "ok" else
                               "collapse" if row["run_collapsed_measured"] else "none")
            finite_rank = log.effective_rank.dropna("time").values
            knn = log.knn_accuracy.dropna("time").values if "knn_accuracy" in log else []
            row.update(preflight_collapses=before["collapses"], weight_decay=config.weight_decay,
                       eta=before["eta"], eta_star=before["eta_star"], sigma2_preflight=before["sigma2_estimate"],
                       effective_rank_end=float(finite_rank[-1]) if len(finite_rank) else float("nan"),
                       knn_end=float(knn[-1]) if len(knn) else float("nan"), status=log.attrs.get("status_name"))
            rows.append(row)
            post = row["run_collapsed_predicted"]
            print(f"  {name}: observed {row['observed']} (rank {row['effective_rank_end']:.2f}); pre-flight "
                  f"{'collapse' if row['preflight_collapses'] else 'none'}, post-hoc "
                  f"{'-' if post is None else 'collapse' if post else 'none'} ({row['seconds']:.0f} s)", file=sys.stderr)
    return rows


def confusion(rows: list[dict], key: str) -> dict[str, int]:
    """Counts of (predicted, observed) outcomes over the grid's cells: predicted collapse or none (`-`: no
    prediction), observed collapse, none or diverged (the network overflowed: outside the flow's reach)."""
    out: dict[str, int] = {}
    for r in rows:
        p = "-" if r[key] is None else "collapse" if r[key] else "none"
        out[f"{p}/{r['observed']}"] = out.get(f"{p}/{r['observed']}", 0) + 1
    return dict(sorted(out.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("ladder", "grid", "all"))
    parser.add_argument("--out", default="results/theory_vs_training")
    parser.add_argument("--steps", type=int, default=0, help="training steps per run (default: ladder 1500, grid 600)")
    parser.add_argument("--datasets", nargs="+", default=["synthetic", "digits"], choices=sorted(GRID_DATA))
    parser.add_argument("--model", default="mlp", help="the grid's network (default mlp; resnet18 on a GPU)")
    parser.add_argument("--data-dir", default=None, help="folder of the CIFAR-10 / STL-10 archives")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"date": time.strftime("%Y-%m-%d")}
    start = time.perf_counter()
    path = out / "theory_vs_training.json"
    if path.exists():  # keep the other part's results when one part is rerun
        result = {**json.loads(path.read_text()), **result}

    def save() -> None:
        result["seconds"] = round(time.perf_counter() - start, 1)
        path.write_text(json.dumps(result, indent=1, default=str))

    if args.what in ("ladder", "all"):
        result["ladder"] = ladder(out, args.steps or 1500)
        save()
        print("\nassumption ladder (synthetic, BYOL, linear predictor at 0.2 I, Euclidean loss):")
        print(f"{'network':14s} {'rel.err':>8s} {'log.err':>8s} {'init-mode':>9s} {'rank.corr':>9s} {'outcomes':>8s}"
              f" {'T1 slope':>8s} {'time':>6s}")
        for r in result["ladder"]:
            print(f"{r['name']:14s} {r['median_relative_error']:8.3g} {r['median_log_error']:8.3g} "
                  f"{r['initial_mode_median_error']:9.3g} {r['rank_correlation']:9.2f} {r['outcome_agreement']:8.0%} "
                  f"{r['theorem1_slope']:8.3g} {r['seconds']:5.0f}s")
    if args.what in ("grid", "all"):
        rows = grid(out, args.datasets, args.steps or 600, args.model, args.data_dir)
        result["grid"] = rows
        result["confusion_preflight"] = confusion(rows, "preflight_collapses")
        result["confusion_posthoc"] = confusion(rows, "run_collapsed_predicted")
        save()
        print("\noutcome grid (predicted / observed collapse):")
        print(f"{'cell':34s} {'eta/eta*':>8s} {'rank end':>8s} {'observed':>9s} {'pre-flight':>10s} {'post-hoc':>9s}"
              f" {'outcomes':>8s}")
        for r in rows:
            yn = lambda b: "-" if b is None else "collapse" if b else "none"  # noqa: E731
            print(f"{r['name']:34s} {r['eta'] / r['eta_star']:8.2f} {r['effective_rank_end']:8.2f} "
                  f"{r['observed']:>9s} {yn(r['preflight_collapses']):>10s} "
                  f"{yn(r['run_collapsed_predicted']):>9s} {r['outcome_agreement']:8.0%}")
        print(f"pre-flight (predicted/observed): {result['confusion_preflight']}")
        print(f"post-hoc   (predicted/observed): {result['confusion_posthoc']}")
    save()
    print(f"wrote {path} ({result['seconds']:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
