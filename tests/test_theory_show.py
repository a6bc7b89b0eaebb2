"""The theory travels with the project (issue #17): the equations T1-T29 ship in `dynamics.theory`,
docs/theory.md states the same ones word for word, and `ssl-dynamics theory show ID` prints one with
where it is implemented and checked, read from the code (so the lists cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dynamics import theory
from dynamics.cli._main import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "theory.md"
IDS = [f"T{k}" for k in range(1, 14)] + ["T13b"] + [f"T{k}" for k in range(14, 30)]


def test_every_equation_ships_with_its_meaning_and_paper():
    assert list(theory.EQUATIONS) == IDS
    for eq in theory.EQUATIONS.values():
        assert eq.text.strip() and len(eq.meaning) > 40 and eq.title, eq.id
        assert eq.section in theory.SECTIONS, eq.id
        paper = theory.PAPERS[eq.paper]
        assert re.fullmatch(r"https://arxiv\.org/abs/\d{4}\.\d{5}", paper.url), paper
    arxiv = {p.key: p.url.rsplit("/", 1)[1] for p in theory.PAPERS.values()}
    assert arxiv["TCG21"] == "2102.06810" and arxiv["HLZ23"] == "2212.04858" and arxiv["RTT23"] == "2302.04817"
    assert arxiv["RBR23"] == "2307.10907" and arxiv["DHEL22"] == "2209.06235"


def test_corrections_and_refinements_are_kept():
    notes = {k: eq.notes for k, eq in theory.EQUATIONS.items()}
    assert "opposite sign" in notes["T14"]  # the paper's c_j sign
    assert "2(1+ε)[(1+σ²)(1+ε) − 1]" in notes["T20"]  # normalized predictor, eps > 0
    assert "((1+σ²)² − ε)/(1+σ²)" in notes["T26"] and "ε = η_p/α_p" in notes["T26"]
    assert "6.205" in notes["T28"]
    assert "other order" in notes["T7"]  # the supplement's factor order


def _doc_blocks() -> dict[str, str]:
    blocks = {}
    for body in re.findall(r"```text\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.S):
        m = re.match(r"\((T\d+b?)\)  ", body)
        if m:
            blocks[m.group(1)] = body
    return blocks


def test_docs_state_every_equation_word_for_word():
    """Each equation block of docs/theory.md is the shipped formula, and the document names every
    paper with its link and never points to notes outside the project."""
    blocks = _doc_blocks()
    assert sorted(blocks, key=IDS.index) == IDS
    for eq in theory.EQUATIONS.values():
        lines = eq.text.splitlines()
        expected = "\n".join([f"({eq.id})  {lines[0]}"] + [" " * (len(eq.id) + 4) + line for line in lines[1:]])
        assert blocks[eq.id] == expected, eq.id
    text = DOC.read_text(encoding="utf-8")
    for paper in theory.PAPERS.values():
        assert paper.url in text, paper.key
    assert "shared/" not in text and "THEORY.md" not in text
    for k in range(1, 12):
        assert re.search(rf"^## {k}\. ", text, flags=re.M), k


def test_no_file_of_the_package_points_outside_the_project():
    package = ROOT / "dynamics"
    offenders = [str(p.relative_to(ROOT)) for p in package.rglob("*.py")
                 if "shared/THEORY" in p.read_text(encoding="utf-8") or "/work/shared" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_cited_ids_expand_ranges():
    assert theory.cited_ids("(T2)-(T4) and T13b, T11-T13b") == ["T2", "T3", "T4", "T13b", "T11", "T12", "T13"]
    assert theory.cited_ids("match_T17; T170 XT1 T17x (T6)") == ["T17", "T6"]


def test_claims_are_found_from_their_sources():
    """Every claim whose registered `source` cites an equation is listed under that equation, and
    every equation is cited somewhere in the package (implemented, drawn or checked)."""
    from dynamics.checks import registry

    for claim in registry().values():
        for eq in theory.cited_ids(claim.source):
            assert claim.id in theory.citations(eq).claims, (claim.id, eq)
    for eq in IDS:
        c = theory.citations(eq)
        assert c.implemented or c.drawn or c.claims, eq


def test_theory_show_prints_the_equation_and_where_it_lives(capsys):
    assert main(["theory", "show", "t17"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("(T17)  p*± = [ τ ± √( τ² − 4η(1+σ²) ) ] / [ 2(1+σ²) ]")
    assert "Meaning:" in out and "https://arxiv.org/abs/2102.06810" in out and "Tian, Xinlei Chen, Surya Ganguli" in out
    assert re.search(r"dynamics/sweep/_outcome\.py: .*stable_fixed_point", out)
    assert "dynamics/symbolic/_fixed_points.py" in out
    assert "tcg21.t17.example" in out and "tcg21.t17.threshold" in out
    assert "tests/test_sweep.py::test_outcomes_of_a_known_grid_match_T17" in out
    assert "docs/theory.md" in out


def test_theory_show_lists_and_refuses(capsys):
    assert main(["theory", "show"]) == 0
    listing = capsys.readouterr().out
    assert all(re.search(rf"^{eq}\s", listing, flags=re.M) for eq in IDS)
    assert main(["theory", "show", "T13b", "T6"]) == 0
    out = capsys.readouterr().out
    assert out.index("(T13b)") < out.index("(T6)") and "dw_a/dt = β (w − w_a)" in out
    assert main(["theory", "show", "T30"]) == 2
    err = capsys.readouterr().err
    assert "T30" in err and "T13b" in err and "Traceback" not in err


@pytest.mark.parametrize("eq", ["T1", "T13b", "T23", "T29"])
def test_show_works_for_every_kind_of_equation(eq):
    text = theory.show(eq)
    assert text.startswith(f"({eq})") and "Source:" in text and theory.PAPERS[theory.EQUATIONS[eq].paper].url in text
