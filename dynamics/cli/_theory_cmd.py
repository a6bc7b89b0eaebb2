"""`ssl-dynamics theory`: the symbolic layer (`dynamics.symbolic`) from the command line.

- `theory fixed-points`: the fixed points of a derived mode system (T17, §5; T22-T23, §7) at given
  numbers, with existence conditions, eigenvalues and the classification, and the thresholds.
- `theory derive`: the flow (T2)-(T5) derived from (T1) for a gradient path and its eigenmode
  reductions (T13b, T11-T13, T16), as text or LaTeX.
- `theory show`: one equation of the project's theory (`dynamics.theory`): formula, meaning, paper,
  and where it is implemented and checked, read from the code.
"""

from __future__ import annotations

import argparse
import math

from ..config import ConfigError

__all__ = ["add_theory_parser", "run_fixed_points", "run_derive", "run_show"]

SYSTEMS = ("parabola", "plane", "full", "euclidean", "isoloss")

DESCRIPTION = """The theory from the command line: the numbered equations T1-T29 with their meaning,
paper and where the code implements and checks them (show), and symbolic derivations (sympy):
fixed points and their stability for the eigenmode systems (fixed-points), and the gradient flow
derived from the loss T1 (derive)."""

SHOW_DESCRIPTION = """Print equations of the project's theory (docs/theory.md; shipped in dynamics.theory):
the formula in plain text, its meaning and conditions, corrections of the printed form and the
refinements the project measured, the paper (with its link), the modules and functions that cite it,
the ssl-dynamics check claims and the tests that check it (both read from the code). Without an ID,
list every equation. IDs: T1 ... T29 and T13b (also t17, 17)."""

FIXED_POINTS_DESCRIPTION = """Fixed points of a derived system at the given numbers, with the condition
under which each exists, the Jacobian eigenvalues and the classification for THAT system:
parabola = T16 (1-D, on s = p^2/alpha_p at fixed tau), plane = T11-T12 ((p, s) at fixed tau),
full = T11-T13 ((p, s, tau) with EMA rate beta), euclidean / isoloss = T22 / T23 (closed-form
predictor Wp = (W W^T)^alpha, weight decay r). Data under A2 (X = I, X' = sigma2 I); eta_p = eta."""

# flag -> (lower bound, open?, meaning) as in Config's checks
_RANGES = {
    "sigma2": (0.0, False, "augmentation variance, X' = sigma2 I"),
    "eta": (0.0, False, "weight decay on W and Wp, T11-T12"),
    "tau": (0.0, False, "target/online ratio w_a/w, held fixed (parabola, plane)"),
    "alpha_p": (0.0, True, "predictor relative rate, T2"),
    "beta": (0.0, True, "EMA rate, T13 (full system)"),
    "alpha": (0.0, True, "closed-form predictor power, T21"),
    "r": (0.0, False, "weight decay with the closed-form predictor, §7"),
}
_USED = {
    "parabola": ("sigma2", "eta", "tau"),
    "plane": ("sigma2", "eta", "tau", "alpha_p"),
    "full": ("sigma2", "eta", "alpha_p", "beta"),
    "euclidean": ("sigma2", "alpha", "r"),
    "isoloss": ("sigma2", "alpha", "r"),
}


def add_theory_parser(subparsers) -> None:
    parser = subparsers.add_parser("theory", help="symbolic derivations: fixed points, derived flows",
                                   description=DESCRIPTION)
    sub = parser.add_subparsers(dest="theory_command", required=True, metavar="SUBCOMMAND")

    fp = sub.add_parser("fixed-points", help="fixed points, existence conditions and stability",
                        description=FIXED_POINTS_DESCRIPTION)
    fp.add_argument("--system", choices=SYSTEMS, default="parabola",
                    help="which derived system (default: parabola, the 1-D system T16 of T17)")
    fp.add_argument("--sigma2", type=float, default=0.5, help="augmentation variance (default: 0.5)")
    fp.add_argument("--eta", type=float, default=0.01, help="weight decay, eta_p = eta (default: 0.01)")
    fp.add_argument("--tau", type=float, default=1.0, help="fixed tau for parabola/plane (default: 1)")
    fp.add_argument("--alpha-p", dest="alpha_p", type=float, default=1.0,
                    help="predictor relative rate (default: 1)")
    fp.add_argument("--beta", type=float, default=0.5, help="EMA rate, full system (default: 0.5)")
    fp.add_argument("--alpha", type=float, default=0.5, help="predictor power, euclidean/isoloss (default: 0.5)")
    fp.add_argument("--r", type=float, default=0.0, help="weight decay, euclidean/isoloss (default: 0)")
    fp.add_argument("--tol", type=float, default=1e-9, help="|Re eigenvalue| <= tol counts as zero")
    fp.add_argument("--symbolic", action="store_true", help="also print the symbolic fixed points (LaTeX-free text)")
    fp.set_defaults(handler=run_fixed_points)

    dv = sub.add_parser("derive", help="print the flow derived from T1 and its eigenmode reductions",
                        description="Derive (T2)-(T5) from the loss (T1) for one gradient path, then one mode "
                                    "(T13b), (p, s, tau) (T11-T13) and, where it applies, the parabola (T16).")
    dv.add_argument("--predictor", choices=("trained", "symmetric", "identity"), default="trained")
    dv.add_argument("--target", choices=("ema", "online"), default="ema")
    dv.add_argument("--stop-gradient", dest="stop_gradient", choices=("target", "none", "online"), default="target")
    dv.add_argument("--loss", choices=("euclidean", "isoloss_euclidean"), default="euclidean",
                    help="T1 (euclidean) or IsoLoss (z1 receives dL/dp, §7)")
    dv.add_argument("--latex", action="store_true", help="print LaTeX (one equation per line, tagged)")
    dv.set_defaults(handler=run_derive)

    sh = sub.add_parser("show", help="print an equation (T1-T29): formula, meaning, paper, implemented/checked in",
                        description=SHOW_DESCRIPTION)
    sh.add_argument("ids", nargs="*", metavar="ID", help="equation ids, e.g. T17 T13b (none: list them all)")
    sh.set_defaults(handler=run_show)


def _check(args: argparse.Namespace) -> dict[str, float]:
    from ..symbolic import MAGNITUDE_RANGE

    values = {}
    small, large = MAGNITUDE_RANGE
    for name in _USED[args.system]:
        value = getattr(args, name)
        lo, lo_open, why = _RANGES[name]
        bad = not (value > lo if lo_open else value >= lo) or math.isinf(value)
        if bad:
            relation = ">" if lo_open else ">="
            raise ConfigError(name, value, f"must be {relation} {lo:g} and finite ({why})")
        if value != 0 and not small <= abs(value) <= large:
            zero = " (use 0 for the limit)" if not lo_open else ""
            raise ConfigError(name, value, f"must be 0 or between {small:g} and {large:g}{zero}: the fixed points are "
                              "solved exactly, and more extreme numbers make the solve very slow and their "
                              f"eigenvalues fall below the resolution of --tol ({why})")
        values[name] = value
    if args.system in ("parabola", "plane", "full"):
        values["eta_p"] = values["eta"]
    if not args.tol >= 0:
        raise ConfigError("tol", args.tol, "must be >= 0")
    return values


def _number(z) -> str:
    if isinstance(z, complex):
        return f"{z.real:.4g}{z.imag:+.4g}j"
    try:
        return f"{float(z):.4g}"
    except TypeError:
        import sympy as sp

        return sp.sstr(sp.N(z, 4))


def _condition_text(cond) -> str:
    import sympy as sp

    if cond in (True, sp.true):
        return "always"
    parts = []
    for rel in sp.And.make_args(cond):
        if isinstance(rel, sp.Ne):
            parts.append(f"{sp.sstr(rel.lhs)} != {sp.sstr(rel.rhs)}")
        else:
            parts.append(sp.sstr(rel))
    return " and ".join(parts)


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def run_fixed_points(args: argparse.Namespace) -> int:
    values = _check(args)
    import sympy as sp

    from ..symbolic import fixed_points, named_system, stability, thresholds
    from ..symbolic import format_number

    system = named_system(args.system)
    shown = " ".join(f"{k}={v:g}" for k, v in values.items() if k != "eta_p")
    print(f"system {system.name} ({system.theory}): {system.description}")
    print(f"state ({', '.join(x.name for x in system.state)}); parameters: {shown}")
    rows = []
    for point in fixed_points(system, values):
        verdict = stability(system, point, values, tol=args.tol)
        coords = []
        for x, v in point.coordinates:
            coords.append(f"{x.name} free" if x in point.free else f"{x.name}={format_number(v)}")
        cond_text = _condition_text(point.condition)
        eig = ", ".join(_number(e) for e in verdict.eigenvalues)
        label = verdict.classification + (f" ({verdict.note})" if verdict.note else "")
        rows.append([point.name, ", ".join(coords), cond_text, label, eig])
    print(_table(rows, ["name", "value(s)", "exists if", "classification", "eigenvalues"]))
    print(f"verdicts are for the {system.name} system: {', '.join(x.name for x in system.state)} "
          f"({system.theory})")
    found = {n for p in fixed_points(system, values) for n in p.name.split(" = ")}
    missing = [p for p in fixed_points(system) if p.name not in found]
    absent = [p.name for p in missing if p.exists(values) is False]
    merged = [p.name for p in missing if p.exists(values) is not False]
    if absent:
        print(f"absent at these numbers: {', '.join(absent)} (existence condition fails)")
    if merged:
        print(f"part of the sets above at these numbers: {', '.join(merged)} (degenerate parameters)")
    subs = {sp.Symbol(k, positive=True): sp.nsimplify(v, rational=True) for k, v in values.items()}
    for name, expr in thresholds(system).items():
        value = expr.subs(subs)
        text = f"threshold {name} = {sp.sstr(expr)}"
        if value.is_number and not expr.is_number:
            text += f" = {_number(sp.N(value))}"
        print(text)
    if args.symbolic:
        print("symbolic fixed points (generic positive parameters):")
        for point in fixed_points(system):
            coords = ", ".join(f"{x.name} = {sp.sstr(v)}" for x, v in point.coordinates if x not in point.free)
            cond = "" if point.condition in (True, sp.true) else f"   if {_condition_text(point.condition)}"
            verdict = stability(system, point)
            note = f" ({verdict.note})" if verdict.note else ""
            print(f"  {point.name}: {coords}{cond}   -> {verdict.classification}{note}")
    return 0


def run_derive(args: argparse.Namespace) -> int:
    from ..symbolic import derived_equations, to_latex, to_text

    equations = derived_equations(args.predictor, args.target, args.stop_gradient, loss=args.loss)
    print(to_latex(equations) if args.latex else to_text(equations))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from .. import theory

    if not args.ids:
        print(theory.summary())
        print("\nssl-dynamics theory show ID prints one (formula, meaning, paper, where implemented and checked).")
        return 0
    chosen = []
    for eq_id in args.ids:
        try:
            chosen.append(theory.equation(eq_id).id)
        except KeyError:
            raise ConfigError("ID", eq_id, f"is not an equation; known: {', '.join(theory.EQUATIONS)}") from None
    print("\n\n".join(theory.show(eq_id) for eq_id in chosen))
    return 0
