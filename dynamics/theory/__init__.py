"""The theory the simulator integrates, shipped with the package: the numbered equations T1-T29
(and T13b) with their meaning, source paper, corrections and the project's refinements
(`EQUATIONS`, `PAPERS`), and where each is implemented and checked, read from the code
(`citations`). `ssl-dynamics theory show T17` prints one; docs/theory.md in the repository is
the long form.

```python
from dynamics import theory
print(theory.show("T17"))                 # formula, meaning, paper, implemented in, checked by
theory.EQUATIONS["T17"].text              # "p*± = [ τ ± √( τ² − 4η(1+σ²) ) ] / [ 2(1+σ²) ], ..."
theory.citations("T17").claims            # ['tcg21.t17.example', ...]
```
"""

from __future__ import annotations

import textwrap

from ._equations import EQUATIONS as EQUATIONS
from ._equations import PAPERS as PAPERS
from ._equations import SECTIONS as SECTIONS
from ._equations import Equation as Equation
from ._equations import Paper as Paper
from ._index import Citations as Citations
from ._index import cited_ids as cited_ids
from ._index import citations as citations

__all__ = ["EQUATIONS", "PAPERS", "SECTIONS", "Equation", "Paper", "Citations", "cited_ids", "citations",
           "equation", "show", "summary"]


def equation(eq_id: str) -> Equation:
    """The equation with id `eq_id`: "T17", "t17", "17", "(T17)", "T13b".

    **Raises:** `KeyError` naming the known ids."""
    key = str(eq_id).strip().strip("()").upper().replace("B", "b")
    if not key.startswith("T"):
        key = "T" + key
    if key not in EQUATIONS:
        raise KeyError(f"unknown equation {eq_id!r}; known: {', '.join(EQUATIONS)}")
    return EQUATIONS[key]


def _wrap(text: str, indent: str = "  ", width: int = 100) -> str:
    return textwrap.fill(" ".join(text.split()), width=width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def _grouped(where: dict[str, list[str]], width: int = 100) -> list[str]:
    lines = []
    for path, names in where.items():
        lines.append(_wrap(f"{path}: {', '.join(names)}", "  ", width))
    return lines


def show(eq_id: str, *, width: int = 100) -> str:
    """The text `ssl-dynamics theory show ID` prints: the formula, its meaning, the paper (with
    its link), corrections and refinements, where it is implemented and drawn in the package, and
    which claims (`ssl-dynamics check --only ...`) and tests check it."""
    eq = equation(eq_id)
    paper = PAPERS[eq.paper]
    cites = citations(eq.id)
    formula = eq.text.splitlines()
    out = [f"({eq.id})  {formula[0]}"] + [" " * (len(eq.id) + 4) + line for line in formula[1:]]
    out += ["", f"{eq.title}. {eq.section} {SECTIONS[eq.section]}.", "", "Meaning:", _wrap(eq.meaning, width=width)]
    if eq.notes:
        out += ["", "Corrections and refinements:", _wrap(eq.notes, width=width)]
    source = f"{paper.citation()}" + (f" ({eq.where})" if eq.where else "")
    out += ["", "Source:", _wrap(source, width=width)]
    out += ["", "Implemented in (code or docstrings citing it):"]
    out += _grouped(cites.implemented, width) or ["  (none)"]
    if cites.drawn:
        out += ["", "Drawn by:"] + _grouped(cites.drawn, width)
    out += ["", "Checked by claims citing it (run one with ssl-dynamics check --only ID):"]
    out += [_wrap(", ".join(cites.claims), width=width)] if cites.claims else ["  (none)"]
    from ._index import tests_folder

    if tests_folder() is not None:
        out += ["", "Tests citing it:"] + ([_wrap(", ".join(cites.tests), width=width)] if cites.tests else ["  (none)"])
    out += ["", "Long form: docs/theory.md of the project's repository, " + eq.section + "."]
    return "\n".join(out)


def summary() -> str:
    """One line per equation: id, section and title (what `ssl-dynamics theory show` lists)."""
    width = max(len(k) for k in EQUATIONS)
    return "\n".join(f"{eq.id:<{width}}  {eq.section:<4} {eq.title}" for eq in EQUATIONS.values())
