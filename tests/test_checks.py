"""The claim framework (`dynamics.checks`) and `ssl-dynamics check`: verdicts, selection, failures and
errors as results, the report, the figures, the exit codes; and the quick subset of every paper
passes (run once through the CLI, recorded in the report)."""

from __future__ import annotations

import json
import math

import jax
import pytest

jax.config.update("jax_enable_x64", True)

from dynamics import checks  # noqa: E402
from dynamics.checks import Context, Evidence, claim, registry, verdict  # noqa: E402
from dynamics.checks import _registry  # noqa: E402
from dynamics.cli._main import main  # noqa: E402


# ------------------------------------------------------------------------------------ verdict
@pytest.mark.parametrize("compare, measured, predicted, tol, ok", [
    ("abs", 1.05, 1.0, 0.1, True), ("abs", 1.2, 1.0, 0.1, False), ("abs", 0.85, 1.0, 0.1, False),
    ("rel", 2.1, 2.0, 0.1, True), ("rel", 2.3, 2.0, 0.1, False), ("rel", 1e-3, 0.0, 0.5, False),
    ("le", 0.5, 1.0, 0.0, True), ("le", 1.05, 1.0, 0.1, True), ("le", 1.2, 1.0, 0.1, False),
    ("ge", 1.5, 1.0, 0.0, True), ("ge", 0.95, 1.0, 0.1, True), ("ge", 0.8, 1.0, 0.1, False),
    ("abs", math.nan, 0.0, 1.0, False), ("le", -math.inf, 0.0, 1.0, False), ("ge", 1.0, math.nan, 1.0, False),
])
def test_verdict_follows_each_comparison(compare, measured, predicted, tol, ok):
    assert verdict(Evidence(measured, predicted, tol, compare)) is ok


def test_evidence_rejects_bad_comparison_and_negative_tolerance():
    with pytest.raises(ValueError, match="compare"):
        Evidence(0.0, 0.0, 1.0, "near")
    with pytest.raises(ValueError, match="tolerance"):
        Evidence(0.0, 0.0, -1.0)
    with pytest.raises(ValueError, match="tolerance"):
        Evidence(0.0, 0.0, math.nan)


# --------------------------------------------------------------------------- registry, select
def test_registry_holds_at_least_30_claims_with_well_formed_ids():
    table = registry()
    assert len(table) >= 30
    for cid, c in table.items():
        assert cid == cid.lower() and cid.count(".") >= 2 and cid.split(".")[0] == c.paper.lower()
        assert c.statement and c.tolerance_reason and c.source


def test_select_by_prefix_and_quick_and_unknown_id():
    tcg = checks.select(["tcg21."])
    assert tcg and all(c.id.startswith("tcg21.") for c in tcg)
    assert all(c.quick for c in checks.select(None, quick=True))
    with pytest.raises(ValueError, match="tcg21.no_such_claim"):
        checks.select(["tcg21.no_such_claim"])


@pytest.fixture
def scratch_claims(monkeypatch):
    """Two throwaway claims registered for one test (a failing one and a raising one)."""
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))

    @claim("test.scratch.fails", source="none", paper="TEST", quick=True, tolerance_reason="a test")
    def fails(ctx: Context) -> Evidence:
        """A claim that fails: 2 is not 1."""
        return Evidence(measured=2.0, predicted=1.0, tolerance=0.5, detail="fails on purpose",
                        series={"y": ([0, 1, 2], [1.0, 0.1, 0.01])}, log_y=True)

    @claim("test.scratch.raises", source="none", paper="TEST", quick=True, tolerance_reason="a test")
    def raises(ctx: Context) -> Evidence:
        """A claim whose experiment raises."""
        raise RuntimeError("the experiment broke")

    @claim("test.scratch.passes", source="none", paper="TEST", quick=True, tolerance_reason="a test")
    def passes(ctx: Context) -> Evidence:
        """A claim that passes."""
        return Evidence(measured=1.0 + ctx.seed, predicted=1.0 + ctx.seed, tolerance=0.0)

    return ["test.scratch.fails", "test.scratch.raises", "test.scratch.passes"]


def test_a_raising_experiment_is_a_failed_claim_with_its_error(scratch_claims):
    seen = []
    results = checks.run(scratch_claims, seed=3, on_result=lambda r, k, n: seen.append((r.id, k, n)))
    by_id = {r.id: r for r in results}
    assert seen == [(i, k, 3) for k, i in enumerate(scratch_claims)]
    assert not by_id["test.scratch.fails"].passed and by_id["test.scratch.fails"].error is None
    broken = by_id["test.scratch.raises"]
    assert not broken.passed and broken.evidence is None and "the experiment broke" in broken.error
    assert broken.as_dict()["measured"] is None and "RuntimeError" in broken.as_dict()["error"]
    assert by_id["test.scratch.passes"].passed and by_id["test.scratch.passes"].evidence.measured == 4.0
    with pytest.raises(ValueError, match="claim id 'test.scratch.fails' is registered twice"):
        claim("test.scratch.fails", source="x", paper="TEST", tolerance_reason="x")(lambda ctx: None)


# ----------------------------------------------------------------------------------------- CLI
def test_cli_failing_claim_exits_1_with_report_and_figures(scratch_claims, tmp_path, capsys):
    report, figs = tmp_path / "r.json", tmp_path / "figs"
    code = main(["check", "--only", "test.scratch.", "--report", str(report), "--figures", str(figs)])
    assert code == 1
    out, err = capsys.readouterr()
    assert "test.scratch.fails" in out and "FAIL" in out and "PASS" in out and "the experiment broke" in out
    assert "[1/3]" in err and "[3/3]" in err
    data = json.loads(report.read_text())
    assert data["n_claims"] == 3 and data["n_failed"] == 2
    assert {row["id"] for row in data["claims"]} == set(scratch_claims)
    for name in scratch_claims:
        assert (figs / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".r.json.*"))  # written atomically: no temporary left behind


def test_cli_unknown_claim_exits_2_naming_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--only", "tcg21.nope"]) == 2
    assert "tcg21.nope" in capsys.readouterr().err
    assert main(["check", "--quick", "--only", "tcg21.thm1.sgd"]) == 2  # not in the quick subset
    assert "quick" in capsys.readouterr().err
    assert not (tmp_path / "check-report.json").exists()


def test_cli_list_prints_one_line_per_claim(capsys):
    assert main(["check", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(registry())
    assert any(line.startswith("tcg21.thm1.flow ") and "T6" in line and "quick" in line for line in lines)
    assert main(["check", "--list", "--quick", "--only", "tcg21."]) == 0
    quick = capsys.readouterr().out.strip().splitlines()
    assert quick and all(" quick " in line for line in quick)


# ------------------------------------------------------------------- the quick subset, once
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`ssl-dynamics check --quick` once, with the report (the run's time is in the report header,
    recorded, not asserted). Figures are tested on the scratch claims above (a series, a bare
    measurement and an error): drawing ~50 more would cost ~10 s of this file's budget."""
    folder = tmp_path_factory.mktemp("check")
    report = folder / "check-report.json"
    code = main(["check", "--quick", "--seed", "0", "--report", str(report)])
    return code, json.loads(report.read_text())


def test_quick_subset_passes_through_the_cli(quick_run):
    code, data = quick_run
    failed = [(row["id"], row["measured"], row["predicted"], row["error"])
              for row in data["claims"] if not row["passed"]]
    assert failed == [] and code == 0
    assert data["quick"] is True and data["seed"] == 0 and data["n_claims"] == len(checks.select(None, quick=True))
    assert {"dynamics_version", "date", "machine", "total_seconds"} <= set(data)
    print(f"quick subset: {data['n_claims']} claims in {data['total_seconds']:.1f} s")
