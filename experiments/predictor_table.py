"""Every closed-form predictor x {Euclidean, cosine}: learns / collapses / stalls / diverges.

THEORY.md §7-§8 asks for each closed-form predictor's outcome under the Euclidean and the cosine
loss, with the expectation where THEORY.md states one. Setup (printed with the table): isotropic data
(A2) with sigma^2 = 0.5, SimSiam (Wa = W), stop-gradient on the target, no weight decay, and an
initial spectrum of F = W W^T of (0.02, 0.2, 1, 3) (one mode on each side of the fixed points
(1+sigma^2)^{-2} = 0.44 and 1 + sigma^2 = 1.5). Each predictor uses its defaults
(`dynamics.config.DEFAULT_PREDICTOR_EPS`, alpha = 1/2 for power / power_normalized).

- Euclidean: the eigenmode model, exact expectation (T11-T13b with the closed form).
- cosine, sampled: the full model (n1 = 8, n2 = 4, W(0) = [diag(sqrt(lambda0)), 0]), expected
  flow by autodiff over a fixed moment-matched sample of view pairs (`--n-samples`, default 4096);
  `inverse_sqrt` only up to t = 30 (`SAMPLED_T_MAX`: it is at rank one by then, and the sampled
  cosine flow at rank one is stiff).
- cosine, mean field: the eigenmode model with the mean-field flow ((T25) for `power`).

Run: `python experiments/predictor_table.py [--t-max 200] [--n-samples 4096] [--quick]`; prints a
Markdown table (for experiments/RESULTS.md) and the time taken.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from dynamics import Config, simulate
from dynamics.config import CLOSED_FORM_PREDICTORS, DEFAULT_PREDICTOR_EPS
from dynamics.results import spectrum_outcome

SIGMA2 = 0.5
LAMBDA0 = (0.02, 0.2, 1.0, 3.0)

#: What THEORY.md §7-§8 states (Euclidean, cosine); "—" where it states nothing.
EXPECTED = {
    "power": ("learns: lambda* = (1+s2)^(-1/alpha) (T22)", "learns: isotropic at tr/M (T24-T25)"),
    "power_normalized": ("collapses at rate 2 s2 (§7 note)", "—"),
    "directpred": ("collapses (§7 note, §8)", "—"),
    "directcopy": ("—", "—"),
    "ridge_lstsq": ("stalls: dW/dt = 0 (§8, exact lstsq)", "—"),
    "soft_projector": ("—", "—"),
    "inverse_sqrt": ("unstable fixed point at lambda = 1+s2 (§8)", "—"),
}


def base_settings(t_max: float) -> dict:
    return dict(target="online", stop_gradient="target", eta=0.0, sigma2=SIGMA2, t_max=t_max, n_save=101,
                save_spacing="log", solver="scipy-dop853")


def euclidean_config(predictor: str, t_max: float) -> Config:
    return Config(model="modes", n1=4, n2=4, predictor=predictor, s0=LAMBDA0, **base_settings(t_max))


#: Shorter horizon of the sampled cosine run for predictors that reach rank one quickly: a rank-one
#: spectrum makes every sampled cosine +-1 and the sampled flow stiff (tens of thousands of steps).
SAMPLED_T_MAX = {"inverse_sqrt": 30.0}


def cosine_sampled_config(predictor: str, t_max: float, n_samples: int) -> Config:
    t_max = min(t_max, SAMPLED_T_MAX.get(predictor, t_max))
    n1, n2 = 8, 4
    W0 = np.zeros((n2, n1))
    W0[np.arange(n2), np.arange(n2)] = np.sqrt(LAMBDA0)
    return Config(model="full", n1=n1, n2=n2, predictor=predictor, loss="cosine", expectation="sampled",
                  n_samples=n_samples, init="given", W0=W0.tolist(), **base_settings(t_max))


def cosine_mean_field_config(predictor: str, t_max: float) -> Config:
    return Config(model="modes", n1=4, n2=4, predictor=predictor, s0=LAMBDA0, loss="cosine",
                  expectation="mean_field", **base_settings(t_max))


def describe(ds) -> str:
    out = spectrum_outcome(ds.eig_F.values, int(ds.status))
    final = ", ".join(f"{v:.3g}" for v in out.final)
    extra = "" if out.converged or out.label in ("diverges", "collapses") else ", still moving"
    if out.label == "diverges":
        extra = f", {out.diverging} mode(s) growing, {out.collapsed} collapsed"
    return f"**{out.label}**{extra} (eig F: {final})"


def run(t_max: float, n_samples: int) -> list[dict]:
    rows = []
    for predictor in CLOSED_FORM_PREDICTORS:
        row = {"predictor": predictor, "eps": DEFAULT_PREDICTOR_EPS[predictor]}
        for column, config in (("euclidean", euclidean_config(predictor, t_max)),
                               ("cosine_sampled", cosine_sampled_config(predictor, t_max, n_samples)),
                               ("cosine_mean_field", cosine_mean_field_config(predictor, t_max))):
            start = time.perf_counter()
            ds = simulate(config)
            row[column] = describe(ds)
            row[column + "_s"] = time.perf_counter() - start
        rows.append(row)
        print(f"  {predictor}: {row['euclidean_s']:.1f} s, {row['cosine_sampled_s']:.1f} s, "
              f"{row['cosine_mean_field_s']:.1f} s", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| predictor (eps) | Euclidean, exact | THEORY.md | cosine, sampled | cosine, mean field | THEORY.md |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        exp_e, exp_c = EXPECTED[row["predictor"]]
        lines.append(f"| `{row['predictor']}` ({row['eps']:g}) | {row['euclidean']} | {exp_e} | "
                     f"{row['cosine_sampled']} | {row['cosine_mean_field']} | {exp_c} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--t-max", type=float, default=200.0)
    parser.add_argument("--n-samples", type=int, default=4096)
    parser.add_argument("--quick", action="store_true", help="t_max 50, 1024 samples")
    args = parser.parse_args()
    t_max, n_samples = (50.0, 1024) if args.quick else (args.t_max, args.n_samples)
    print(f"# predictor_table: sigma2 = {SIGMA2}, lambda0 = {LAMBDA0}, t_max = {t_max:g}, "
          f"n_samples = {n_samples}; {platform.machine()} {platform.python_version()}", flush=True)
    start = time.perf_counter()
    rows = run(t_max, n_samples)
    print(markdown(rows))
    print(f"# total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
