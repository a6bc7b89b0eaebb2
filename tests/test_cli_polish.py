"""README and CLI polish (issue #17): the check table says what it compares, counts come from the
registry, progress bars only when there is work, notebooks use the public API, and `import dynamics`
stays light (no notebook warning from tqdm, no dask or zarr until a store is used)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from dynamics.checks import Claim, Evidence, registry
from dynamics.checks._report import WHAT_WIDTH, format_table, measured_quantity
from dynamics.checks._run import ClaimResult
from dynamics.cli._main import main

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------ check table


def _experiment(ctx):
    """A residual stays at zero.

    Measured: the largest relative residual of $\\hat H$ over the saved times. The rest of the text."""


def _claim(claim_id: str, statement: str, run=_experiment) -> Claim:
    return Claim(claim_id, "T6", "TCG21", statement, "integrator error", True, run)


def test_table_carries_the_statement_and_says_what_a_zero_prediction_compares():
    long_statement = "Theorem 1 holds along the flow, whatever the target does, " * 4
    results = [
        ClaimResult(_claim("x.residual", "A residual stays at zero."), Evidence(3e-12, 0.0, 1e-8), True, 0.1),
        ClaimResult(_claim("x.level", long_statement), Evidence(0.6565, 0.6565, 1e-4, "rel"), True, 0.2),
        ClaimResult(_claim("x.broken", "It fails.", run=lambda ctx: None), None, False, 0.0, error="ValueError: boom"),
    ]
    table = format_table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["claim", "source", "measured", "predicted", "tolerance", "verdict", "s", "what"]
    assert "measured = the largest relative residual of H over the saved times" in lines[2]
    row = next(line for line in lines if line.startswith("x.level"))
    assert "Theorem 1 holds along the flow" in row and row.endswith("…")
    assert len(row.split("  ")[-1].strip()) <= WHAT_WIDTH
    assert "  x.broken: ValueError: boom" in table and "2/3 claims passed" in table
    verbose = format_table(results, verbose=True)
    assert "    claim:     Theorem 1 holds along the flow" in verbose
    assert "    measured:  the largest relative residual" in verbose
    assert "    tolerance: integrator error" in verbose
    assert "    compared:  |measured − predicted| ≤ tolerance·|predicted|" in verbose


def _zero_prediction_claims() -> set[str]:
    """Claims whose experiment returns `Evidence(..., predicted=0.0, ...)`, read from the sources."""
    ids = set()
    for path in sorted((ROOT / "dynamics" / "checks").glob("_claims_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            cid = next((d.args[0].value for d in node.decorator_list if isinstance(d, ast.Call)
                        and getattr(d.func, "id", "") == "claim"), None)
            zero = any(isinstance(c, ast.Call) and getattr(c.func, "id", "") == "Evidence" and any(
                k.arg == "predicted" and isinstance(k.value, ast.Constant) and k.value.value == 0 for k in c.keywords)
                for c in ast.walk(node))
            if cid and zero:
                ids.add(cid)
    return ids


#: Claims compared with 0 whose experiment's docstring has no "Measured: ..." sentence yet (their
#: table row then reads "measured = the error of: <statement>"). New claims must not join the list.
WITHOUT_MEASURED_SENTENCE = {"tcg21.thm1.flow", "tcg21.thm2.vec_convention", "tcg21.thm3.fixed_point"}


def test_every_claim_compared_with_zero_says_what_it_measures():
    table = registry()
    zero = _zero_prediction_claims()
    assert len(zero) >= 20 and zero <= set(table)
    missing = {cid for cid in zero if not measured_quantity(table[cid])}
    assert missing <= WITHOUT_MEASURED_SENTENCE, sorted(missing - WITHOUT_MEASURED_SENTENCE)


def test_readme_claims_table_and_counts_come_from_the_registry():
    """README's claims table lists exactly the registered claims (`*`: not quick), and any count of
    claims it states equals the registry's (so the numbers cannot drift by hand)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed: dict[str, bool] = {}
    for line in text.splitlines():
        m = re.match(r"\| [A-Z0-9]+ \(`([a-z0-9]+\.)`\) \| (.*) \|$", line)
        if m:
            for name, star in re.findall(r"`([^`]+)`(\*?)", m.group(2)):
                listed[m.group(1) + name] = not star
    claims = registry()
    assert listed == {cid: c.quick for cid, c in claims.items()}
    counts = {len(claims), sum(c.quick for c in claims.values())}
    for number in re.findall(r"(\d+) claims", text):
        assert int(number) in counts, f"README says {number} claims; the registry has {sorted(counts)}"


# ------------------------------------------------------------------------------------------ progress bars

ARGS = ["sweep", "--model", "modes", "--n1", "2", "--n2", "2", "--p0", "0.3,1", "--s0", "0.05,1", "--tau0", "0.5",
        "--t-max", "2", "--n-save", "3", "--no-plot", "--param", "beta=list:0.1,1", "--param", "eta=list:0,0.1",
        "--points-per-chunk", "2"]


def test_progress_bar_only_when_there_is_work(tmp_path, capsys):
    store = str(tmp_path / "s.zarr")
    assert main([*ARGS, "--out", store]) == 0
    assert "traj" in capsys.readouterr().err  # the bar of a sweep that computes
    assert main([*ARGS, "--out", store, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "traj" not in err and "%|" not in err, err  # a no-op resume: no bar
    assert main([*ARGS, "--sigma2", "0.3", "--out", store, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different sweep" in err and "%" not in err, err  # the error alone


# ------------------------------------------------------------------------------------------ notebooks

_PRIVATE = re.compile(r"\bdynamics(?:\.[A-Za-z0-9]\w*)*\._\w+")


def test_notebooks_use_only_the_public_api():
    sources = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        sources += [(path.name, c.source) for c in nb.cells if c.cell_type == "code"]
    assert sources
    offenders = [(name, m.group(0)) for name, src in sources for m in _PRIVATE.finditer(src)]
    assert offenders == []


def test_import_dynamics_stays_light_and_quiet():
    """`import dynamics` (the notebooks' first cell) loads no tqdm.auto (it warns "IProgress not
    found" in a kernel without ipywidgets) and neither dask.array nor zarr (slow; only stores need
    them), and prints nothing."""
    code = ("import sys, warnings\nwarnings.simplefilter('error')\nimport dynamics\n"
            "print(json.dumps([m for m in ('tqdm.auto', 'dask.array', 'zarr') if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == [] and proc.stderr == ""


def test_output_into_a_closed_pipe_is_no_traceback():
    """`ssl-dynamics theory show | head -1`: the reader goes away; the command stops quietly (it used to print a
    BrokenPipeError traceback and exit 1)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, deterministically
    proc = subprocess.run([sys.executable, "-m", "dynamics", "theory", "show"], stdout=write_end,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_readme_figures_exist_and_each_plot_kind_has_one():
    """README shows one example of each kind of figure; every image it links is in the repository."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) >= 6
    for image in images:
        assert (ROOT / image).is_file(), f"README links {image}, which is missing"
    for kind in ("outcome", "trajectories", "portrait", "compare"):
        assert any(kind in Path(image).stem for image in images), kind
