"""`ssl-dynamics theory`: fixed points with classification per system, derived equations; bad input
exits 2 naming the field."""

import pytest

from dynamics.cli._main import main


def run(capsys, *argv):
    code = main(["theory", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fixed_points_prints_T17_values_and_parabola_verdicts(capsys):
    code, out, _ = run(capsys, "fixed-points", "--sigma2", "0.5", "--eta", "0.01", "--tau", "1")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("p*")}
    assert "p=0.6565" in rows["p*+"] and "stable" in rows["p*+"]
    assert "p=0.01015" in rows["p*-"] and "unstable" in rows["p*-"]
    assert "stable" in rows["p*0"]
    assert "parabola" in out and "threshold eta* = tau**2/(4*(sigma2 + 1)) = 0.1667" in out


def test_fixed_points_in_the_plane_reports_the_saddle(capsys):
    code, out, _ = run(capsys, "fixed-points", "--sigma2", "0.5", "--eta", "0.01", "--tau", "1", "--alpha-p", "1",
                       "--system", "plane")
    assert code == 0
    (row,) = [line for line in out.splitlines() if line.startswith("p*-")]
    assert "saddle" in row and "-0.02" in row and "0.009845" in row


def test_above_threshold_reports_only_collapse(capsys):
    code, out, _ = run(capsys, "fixed-points", "--eta", "0.2")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines() if line.startswith("p*")] == ["p*0"]
    assert "absent at these numbers: p*-, p*+" in out


def test_full_and_closed_form_systems(capsys):
    code, out, _ = run(capsys, "fixed-points", "--system", "full", "--beta", "0.5")
    assert code == 0 and "tau=1" in out and "saddle" in out
    code, out, _ = run(capsys, "fixed-points", "--system", "isoloss", "--r", "0.5", "--alpha", "0.5")
    assert code == 0 and "lambda=0.1111" in out and "threshold r* = 1" in out


@pytest.mark.parametrize("argv, field", [
    (["--sigma2", "-1"], "sigma2"),
    (["--alpha-p", "0", "--system", "plane"], "alpha_p"),
    (["--eta", "nan"], "eta"),
    (["--system", "full", "--beta", "0"], "beta"),
])
def test_bad_values_exit_2_naming_the_field(capsys, argv, field):
    code, out, err = run(capsys, "fixed-points", *argv)
    assert code == 2 and f"{field} = " in err and out == ""


def test_derive_prints_the_derived_equations_as_text_and_latex(capsys):
    code, out, _ = run(capsys, "derive", "--predictor", "trained", "--target", "ema")
    assert code == 0 and "[T3]" in out and "[T11]" in out and "[T16]" in out
    code, out, _ = run(capsys, "derive", "--predictor", "trained", "--target", "ema", "--latex")
    assert code == 0 and r"\tag{T13}" in out and r"\frac{d p}{dt}" in out
    code, out, _ = run(capsys, "derive", "--target", "online", "--stop-gradient", "none")
    assert code == 0 and "[T5]" in out
