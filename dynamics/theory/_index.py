"""Where each equation is implemented and checked, read from the code itself.

Every module, claim and test cites the equations it implements or checks by number ("(T17)",
"T11-T13b", "match_T17"). `citations` scans the installed package's sources (and the repository's
`tests/` folder when it sits beside the package) and maps each equation to the functions,
classes, claims and tests whose code, docstring or decorator cites it. Nothing is kept by hand,
so the lists cannot drift from the code.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from ._equations import EQUATIONS

__all__ = ["Citations", "citations", "cited_ids", "PACKAGE_ROOT"]

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the `dynamics` package
_ORDER = list(EQUATIONS)
# "T17", "(T17)", "T13b", "(T2)-(T5)", "T11-T13b", "match_T17"; not "XT17", "T170", "T17x"
_CITE = re.compile(r"(?<![A-Za-z0-9])\(?T(\d{1,2})(b?)\)?(?:\s*[-–]\s*\(?T(\d{1,2})(b?)\)?)?(?![A-Za-z0-9])")
# folders of the package that cite equations without implementing them
_SKIP = ("cli", "theory")


@dataclass
class Citations:
    """Where one equation is cited.

    - `implemented`: {file relative to the repository: [function or class, ...]} in the package
      (outside plots, checks and the command line); "(module)" for a module docstring.
    - `drawn`: the same for `dynamics/plots` (figures that draw the equation's levels or lines).
    - `claims`: ids of `ssl-dynamics check` claims whose source, docstring or code cite it.
    - `tests`: "tests/test_x.py::test_name" (only in a source checkout, where tests/ exists).
    """

    implemented: dict[str, list[str]] = field(default_factory=dict)
    drawn: dict[str, list[str]] = field(default_factory=dict)
    claims: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)


def cited_ids(text: str) -> list[str]:
    """The equation ids cited in `text`, ranges expanded ("(T2)-(T4)" -> T2, T3, T4), in order of
    first appearance, without duplicates."""
    out: list[str] = []
    for m in _CITE.finditer(text):
        for eq in _expand(m):
            if eq not in out:
                out.append(eq)
    return out


def _expand(m: re.Match) -> list[str]:
    first = f"T{int(m.group(1))}{m.group(2)}"
    if first not in EQUATIONS:
        return []
    if m.group(3) is None:
        return [first]
    last = f"T{int(m.group(3))}{m.group(4)}"
    if last not in EQUATIONS:
        return [first]
    i, j = _ORDER.index(first), _ORDER.index(last)
    return _ORDER[i:j + 1] if i <= j else [first, last]


def _scopes(tree: ast.Module) -> list[tuple[int, int, str, ast.AST]]:
    """(first line incl. decorators, last line, qualified name, node) of every def and class."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                name = f"{prefix}{child.name}"
                out.append((start, child.end_lineno or child.lineno, name, child))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def _claim_id(node: ast.AST) -> str | None:
    for deco in getattr(node, "decorator_list", []):
        if isinstance(deco, ast.Call) and getattr(deco.func, "id", getattr(deco.func, "attr", "")) == "claim":
            if deco.args and isinstance(deco.args[0], ast.Constant) and isinstance(deco.args[0].value, str):
                return deco.args[0].value
    return None


def _file_hits(path: Path) -> list[tuple[str, str | None, list[str]]]:
    """(scope name or "(module)", claim id or None, cited ids) for every scope of a file that
    cites an equation (innermost scope of each citing line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if not _CITE.search(text):
        return []
    try:
        scopes = _scopes(ast.parse(text))
    except SyntaxError:
        return []
    by_scope: dict[str, tuple[str | None, list[str]]] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        ids = cited_ids(line)
        if not ids:
            continue
        inner = [s for s in scopes if s[0] <= number <= s[1]]
        if inner:
            start, end, name, node = max(inner, key=lambda s: s[0])
            outer_claim = next((_claim_id(s[3]) for s in inner if _claim_id(s[3])), None)
            claim = _claim_id(node) or outer_claim
        else:
            name, claim = "(module)", None
        seen = by_scope.setdefault(name, (claim, []))[1]
        seen.extend(i for i in ids if i not in seen)
    return [(name, claim, ids) for name, (claim, ids) in by_scope.items()]


def tests_folder() -> Path | None:
    """The repository's tests/ folder beside the package (a source checkout), else None."""
    folder = PACKAGE_ROOT.parent / "tests"
    return folder if folder.is_dir() and any(folder.glob("test_*.py")) else None


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, Citations]:
    index = {eq: Citations() for eq in EQUATIONS}
    repo = PACKAGE_ROOT.parent
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        parts = path.relative_to(PACKAGE_ROOT).parts
        if parts[0] in _SKIP:
            continue
        rel = path.relative_to(repo).as_posix()
        is_claims = parts[0] == "checks" and path.name.startswith("_claims_")
        for name, claim, ids in _file_hits(path):
            if name == "(module)" and path.name == "__init__.py":
                continue  # a package's overview, not an implementation
            for eq in ids:
                entry = index[eq]
                if is_claims:
                    if claim and claim not in entry.claims:
                        entry.claims.append(claim)
                elif parts[0] == "checks":
                    continue
                else:
                    where = entry.drawn if parts[0] == "plots" else entry.implemented
                    names = where.setdefault(rel, [])
                    if name not in names:
                        names.append(name)
    tests = tests_folder()
    if tests is not None:
        for path in sorted(tests.glob("test_*.py")):
            for name, _, ids in _file_hits(path):
                top = name.split(".")[0]
                if top.startswith("Test"):
                    label = f"tests/{path.name}::{name.replace('.', '::')}"
                elif top.startswith("test"):
                    label = f"tests/{path.name}::{top}"
                else:  # the module docstring or a helper
                    label = f"tests/{path.name}"
                for eq in ids:
                    if label not in index[eq].tests:
                        index[eq].tests.append(label)
    for entry in index.values():  # a file's helpers only where none of its tests is listed
        files_with_tests = {t.split("::")[0] for t in entry.tests if "::" in t}
        entry.tests = [t for t in entry.tests if "::" in t or t not in files_with_tests]
    return index


def citations(eq_id: str) -> Citations:
    """Where equation `eq_id` ("T17", "T13b") is implemented, drawn, claimed and tested, read from
    the sources (cached per process).

    **Raises:** `KeyError` for an unknown id."""
    if eq_id not in EQUATIONS:
        raise KeyError(eq_id)
    return _index()[eq_id]
