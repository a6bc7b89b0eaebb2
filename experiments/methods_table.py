"""Every method of the training bridge on one pipeline (issue 15): accuracy, entropy, rank and speed on CPU, and
the papers' robustness claims measured on small data.

1. The method table: each method (`dynamics.bridge.METHODS`, its documented defaults) on `digits` (small ResNet,
   16x16, BYOL's augmentations) and `synthetic` (MLP on isotropic Gaussian vectors, X = I, X' = 0.5 I), the
   same optimizer for all (SGD lr 0.05 cosine, momentum 0.9, weight decay 4e-4, batch 256, EMA 0.99 -> 1).
   Columns: kNN accuracy (k = 200, T = 0.1) and the offline logistic probe (at the end; the random
   network's probe in the header), the vMF kernel entropy (T28, kappa = 10) of the normalized predictor
   inputs and the effective rank of F^ at the start, after 10% of the steps and at the end (the
   quantities behind RBR23's "distillation keeps the entropy stable" and HLZ23's "IsoLoss recruits small
   eigenvalues faster"), and seconds per epoch (training steps only; compile and evaluation excluded).
2. `--robustness` (digits): RBR23's claim that ER stays stable with small batches or small EMA coefficients
   (BYOL and ER-BYOL at batch 256 and 32, and with the EMA off), and the claim that IsoLoss can do without
   an EMA target (IsoLoss against DirectPred with the same predictor recipe and the plain cosine loss, with
   and without EMA). Same epochs and learning rate at every batch size (more, smaller steps).

Nothing is tuned per method. Usage:

    python experiments/methods_table.py                      # the table, digits and synthetic
    python experiments/methods_table.py --robustness         # the table and the robustness rows
    python experiments/methods_table.py --quick              # a smoke run (2 epochs), not a measurement

Prints Markdown tables (for experiments/RESULTS.md) with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

#: Per-dataset settings shared by every method.
DATASETS = {
    "digits": dict(dataset="digits", model="resnet-small", batch_size=256),
    "synthetic": dict(dataset="synthetic", model="mlp", input_dim=32, batch_size=256, synthetic_train=8192,
                      synthetic_test=2048),
}
COMMON = dict(lr=0.05, online_probe=False, linear_probe=True, eval_every=0)

#: The robustness rows: (claim, paper, [(label, method, settings)]).
ROBUSTNESS = [
    ("ER is stable with smaller batch sizes", "RBR23 (abstract)", [
        ("byol, batch 256", "byol", dict(batch_size=256)),
        ("byol, batch 32", "byol", dict(batch_size=32)),
        ("er-byol, batch 256", "er-byol", dict(batch_size=256)),
        ("er-byol, batch 32", "er-byol", dict(batch_size=32)),
    ]),
    ("ER is stable with smaller EMA coefficients (here: EMA off)", "RBR23 (abstract)", [
        ("byol, EMA", "byol", {}),
        ("byol, no EMA", "byol", dict(target="online")),
        ("er-byol, EMA", "er-byol", {}),
        ("er-byol, no EMA", "er-byol", dict(target="online")),
    ]),
    ("IsoLoss can do without the EMA target", "HLZ23 (issue 15)", [
        ("isoloss, EMA", "isoloss", {}),
        ("isoloss, no EMA", "isoloss", dict(target="online")),
        ("directpred (same recipe, cosine), EMA", "directpred",
         dict(rho=0.998, predictor_eps_convention="before_power")),
        ("directpred (same recipe, cosine), no EMA", "directpred",
         dict(target="online", rho=0.5, predictor_eps_convention="before_power")),
    ]),
]


def _at_fraction(log, name: str, frac: float) -> float:
    steps = log["step"].values
    i = int(abs(steps - frac * steps[-1]).argmin())
    return float(log[name].values[i])


def run_one(method: str, dataset: str, epochs: int, extra: dict, cache: dict) -> dict:
    """Train one configuration (cached by its settings) and summarize its log."""
    from dynamics.bridge import TrainConfig, train

    settings = {**DATASETS[dataset], **COMMON, "method": method, "epochs": epochs, **extra}
    key = json.dumps(settings, sort_keys=True)
    if key in cache:
        return cache[key]
    config = TrainConfig(**settings)
    start = time.perf_counter()
    log = train(config, progress=False)
    wall = time.perf_counter() - start
    spec = config.method_spec
    row = {
        "method": method, "dataset": dataset, "epochs": epochs, "batch": config.batch_size,
        "recipe": f"{spec.target}/{spec.predictor}/{spec.loss}", "status": log.attrs["status_name"],
        "knn": float(log["knn_accuracy"].values[-1]), "probe": float(log.attrs["linear_probe_accuracy"]),
        "probe_init": float(log.attrs["linear_probe_accuracy_init"]),
        "entropy": [float(log["kernel_entropy"].values[0]), _at_fraction(log, "kernel_entropy", 0.1),
                    float(log["kernel_entropy"].values[-1])],
        "rank": [float(log["effective_rank"].values[0]), _at_fraction(log, "effective_rank", 0.1),
                 float(log["effective_rank"].values[-1])],
        "dim": int(log.sizes["mode"]), "s_per_epoch": float(log.attrs["train_seconds"]) / epochs,
        "wall_s": wall, "flow_mapping": str(log.attrs["flow_mapping"]).split(" ")[0],
        "dissl_condition": log.attrs.get("dissl_condition", ""),
    }
    cache[key] = row
    print(f"  {dataset} {method} {extra or ''}: knn {row['knn']:.3f} probe {row['probe']:.3f} rank "
          f"{row['rank'][-1]:.1f}/{row['dim']} H {row['entropy'][-1]:.2f} {row['s_per_epoch']:.2f} s/epoch"
          f" ({wall:.0f} s)", flush=True)
    return row


def _triple(v: list[float], fmt: str) -> str:
    return " → ".join(format(x, fmt) for x in v)


def method_table(rows: list[dict]) -> str:
    lines = ["| method | target / predictor / loss | dataset | epochs | kNN | probe"
             " | kernel entropy (start → 10% → end) | effective rank of F^ (start → 10% → end) / dim"
             " | s per epoch | flow |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['method']}` | {r['recipe']} | {r['dataset']} | {r['epochs']} | {r['knn']:.3f} | "
                     f"{r['probe']:.3f} | {_triple(r['entropy'], '.2f')} | {_triple(r['rank'], '.1f')} / {r['dim']} | "
                     f"{r['s_per_epoch']:.2f} | {r['flow_mapping']} |")
    return "\n".join(lines)


def robustness_table(groups: list[tuple[str, str, list[tuple[str, dict]]]]) -> str:
    lines = ["| claim — paper | run | batch | kNN | probe | effective rank (end) / dim"
             " | kernel entropy (start → end) | what we measured |", "|---|---|---|---|---|---|---|---|"]
    for claim, paper, runs in groups:
        verdict = _verdict(claim, runs)
        for i, (label, r) in enumerate(runs):
            head = f"{claim} — {paper}" if i == 0 else ""
            lines.append(f"| {head} | {label} | {r['batch']} | {r['knn']:.3f} | {r['probe']:.3f} | "
                         f"{r['rank'][-1]:.1f} / {r['dim']} | {r['entropy'][0]:.2f} → {r['entropy'][-1]:.2f} | "
                         f"{verdict if i == 0 else ''} |")
    return "\n".join(lines)


def _verdict(claim: str, runs: list[tuple[str, dict]]) -> str:
    """The change of kNN and probe accuracy from the first (reference) to the second run of each pair."""
    parts = []
    for (_, a), (_, b) in zip(runs[::2], runs[1::2]):
        parts.append(f"{a['method']}: kNN {b['knn'] - a['knn']:+.3f}, probe {b['probe'] - a['probe']:+.3f},"
                     f" rank {a['rank'][-1]:.1f} → {b['rank'][-1]:.1f}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=None, help="default: every method")
    parser.add_argument("--epochs-digits", type=int, default=20)
    parser.add_argument("--epochs-synthetic", type=int, default=10)
    parser.add_argument("--robustness", action="store_true", help="also the robustness rows (digits)")
    parser.add_argument("--quick", action="store_true", help="2 epochs everywhere: a smoke run")
    parser.add_argument("--json", type=Path, help="write every row as JSON here")
    parser.add_argument("--from-json", type=Path, help="print the tables of a saved --json file (no training)")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        print(method_table(saved["rows"]))
        groups = [(g["claim"], g["paper"], [(r["label"], r) for r in g["runs"]]) for g in saved["robustness"]]
        if groups:
            print()
            print(robustness_table(groups))
        return
    from dynamics.bridge import METHODS

    epochs = {"digits": args.epochs_digits, "synthetic": args.epochs_synthetic}
    if args.quick:
        epochs = {"digits": 2, "synthetic": 2}
    methods = args.methods or list(METHODS)
    load0 = os.getloadavg()
    start = time.perf_counter()
    print(f"# methods_table: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()},"
          f" load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)
    cache: dict = {}
    rows = [run_one(m, d, epochs[d], {}, cache) for d in args.datasets for m in methods]
    groups = []
    if args.robustness:
        for claim, paper, runs in ROBUSTNESS:
            groups.append((claim, paper, [(label, run_one(m, "digits", epochs["digits"], extra, cache))
                                          for label, m, extra in runs]))
    load1 = os.getloadavg()
    print()
    for d in args.datasets:
        init = [r["probe_init"] for r in rows if r["dataset"] == d]
        print(f"{d}: logistic probe on the random network's features {init[0]:.3f}" if init else "")
    print()
    print(method_table(rows))
    dissl = [r for r in rows if r["dissl_condition"]]
    if dissl:
        print(f"\nDISSL: {dissl[0]['dissl_condition']}")
    if groups:
        print()
        print(robustness_table(groups))
    print(f"\nTotal {time.perf_counter() - start:.0f} s; load average before {load0[0]:.2f} {load0[1]:.2f} "
          f"{load0[2]:.2f}, after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "robustness": [
            {"claim": c, "paper": p, "runs": [{"label": lab, **r} for lab, r in runs]} for c, p, runs in groups]},
            indent=1))
    if any(not math.isfinite(r["knn"]) for r in rows):
        print("warning: some runs ended with non-finite values (see status)")


if __name__ == "__main__":
    main()
