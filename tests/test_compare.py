"""Theory vs reality: the mapping against THEORY.md §1, the prediction of the theory's own network
(positive control) and of a deliberately wrong mapping (negative control), a collapsing run, bad runs,
the pre-flight prediction and the command line."""

import json

import numpy as np
import pytest

from dynamics import ConfigError, discrete_to_flow, simulate
from dynamics.bridge import TrainConfig, flow_config, train
from dynamics.cli._main import main
from dynamics.compare import COMPARE_TOLERANCES, compare, preflight

#: The theory's network started aligned (Wp(0) = 0.2 I commutes with W(0) W(0)^T, Wa(0) = W(0)): the
#: eigenmode model (T11)-(T13b) is then exact for it (THEORY.md §5), so the prediction from the measured
#: initial spectra must match to SGD accuracy (measured 0.12% median error at lr 0.01, batch 1024).
ALIGNED = dict(dataset="synthetic", input_dim=8, synthetic_train=4096, model="linear", feature_dim=4,
               predictor="linear", predictor_init="identity", predictor_init_scale=0.2, loss="euclidean",
               momentum=0.0, weight_decay=0.04, lr_schedule="constant", ema_schedule="constant",
               ema_momentum=0.999, lr=0.01, batch_size=1024, steps=1000, log_every=50, online_probe=False,
               linear_probe=False)


@pytest.fixture(scope="module")
def aligned_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("aligned") / "run"
    log = train(TrainConfig(**ALIGNED), out=out, progress=False)
    return out, log


def test_mapping_matches_theory_worked_example():
    # THEORY.md §1: lr 0.03, momentum 0.9, EMA 0.996, weight decay 4e-4 -> beta ~= 0.0133, eta = 4e-4
    rates = discrete_to_flow(0.03, momentum=0.9, ema_momentum=0.996, weight_decay=4e-4)
    assert rates.beta == pytest.approx(0.01333, abs=5e-5) and rates.eta == 4e-4
    assert rates.time_per_step == pytest.approx(0.3)
    config = TrainConfig(lr=0.03, momentum=0.9, ema_momentum=0.996, weight_decay=4e-4, loss="euclidean")
    assert config.flow_rates() == rates                  # the bridge uses the one mapping in code


def test_mapped_training_run_error_shrinks_in_proportion_to_lr():
    """The bridge's own training of the linear network (heavy-ball momentum, EMA, weight decay) against
    the flow of its mapped rates (`flow_config`): the error is first order in the learning rate."""
    errors = []
    for lr in (0.01, 0.005):
        steps = int(round(6.0 * (1 - 0.5) / lr))
        config = TrainConfig(**{**ALIGNED, "predictor_init": "random", "predictor_init_scale": 1.0, "lr": lr,
                                "momentum": 0.5, "ema_momentum": 1 - 0.1 * lr / (1 - 0.5), "steps": steps,
                                "log_every": steps // 4})
        log = train(config, progress=False)
        flow = simulate(flow_config(log))
        errors.append(np.max(np.abs(log.eig_F.values - flow.eig_F.values)) / np.max(flow.eig_F.values))
    slope = np.log(errors[0] / errors[1]) / np.log(2.0)
    assert 0.6 < slope < 1.4, errors          # order one in lr (minibatch noise is O(sqrt(lr / B)))


def test_theorys_own_network_is_predicted_and_a_wrong_mapping_is_not(aligned_run):
    _, log = aligned_run
    good = compare(log).summary
    assert good["predicted"] and good["median_relative_error"] < 0.01
    assert good["outcome_agreement"] == 1.0 and good["rank_correlation"] == pytest.approx(1.0)
    assert good["sigma2_estimate"] == pytest.approx(0.5, rel=1e-3)   # eig_C / eig_F on the moment-matched probe
    for scale in ({"beta": 10.0}, {"time": 2.0}):   # EMA rate off by 10x; time axis off by 2
        bad = compare(log, scale=scale).summary
        assert not bad["predicted"], scale
        assert bad["median_relative_error"] > 2 * COMPARE_TOLERANCES["relative"], scale


def test_simsiam_without_stop_gradient_is_predicted_collapsed():
    log = train(TrainConfig(**{**ALIGNED, "predictor": "auto", "predictor_init": "random"}, method="simsiam",
                            stop_gradient=False, target="online"), progress=False)
    summary = compare(log).summary
    assert summary["run_collapsed_measured"] and summary["run_collapsed_predicted"]
    assert summary["predicted_outcomes"]["collapsed"] == 4


def test_cli_compare_writes_table_json_and_figures(aligned_run, tmp_path, capsys):
    out, _ = aligned_run
    assert main(["compare", str(out), "--out", str(tmp_path / "c")]) == 0
    table = capsys.readouterr().out
    assert "PREDICTED" in table and "run" in table
    summary = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert summary["runs"][0]["predicted"] is True
    assert (tmp_path / "c" / "run_compare.png").stat().st_size > 10_000
    assert main(["compare", str(out), "--scale", "beta=10", "--out", str(tmp_path / "w"), "--no-plot"]) == 1
    assert "NOT PREDICTED" in capsys.readouterr().out


def test_bad_runs_exit_2_and_a_partial_run_is_marked(aligned_run, tmp_path, capsys):
    assert main(["compare", str(tmp_path / "missing"), "--out", str(tmp_path / "c")]) == 2
    assert "run = " in capsys.readouterr().err
    sim = tmp_path / "sim.nc"
    assert main(["simulate", "--n1", "3", "--n2", "2", "--t-max", "2", "--n-save", "3", "--no-plot",
                 "--out", str(sim)]) == 0
    assert main(["compare", str(sim), "--out", str(tmp_path / "c")]) == 2
    assert "not a training log" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
    _, log = aligned_run
    partial = log.isel(time=slice(0, 6)).assign_attrs(partial=1)
    summary = compare(partial).summary
    assert summary["partial"] and summary["rows"] == 6
    with pytest.raises(ConfigError, match="^log = "):
        compare(log.isel(time=slice(0, 1)))
    # a run that overflowed: compared on its finite rows, marked diverged and partial, never called collapsed
    overflowed = log.isel(time=slice(0, 8)).copy(deep=True).assign_attrs(status_name="nonfinite")
    for name in ("eig_F", "eig_F_initial_basis", "p", "tau", "eig_C"):
        overflowed[name][-2:] = np.nan
    summary = compare(overflowed).summary
    assert summary["run_diverged_measured"] and summary["partial"] and summary["rows"] == 6
    assert not summary["run_collapsed_measured"] and not summary["predicted"]
    with pytest.raises(ConfigError, match="status nonfinite before its second logged row"):
        compare(overflowed.isel(time=[0, 6, 7]))
    with pytest.raises(ConfigError, match="^method = .*no linear-theory flow"):   # ER, DISSL, CISSL logs
        compare(log.assign_attrs(flow_mapping="none (entropy + reconstruction)"))


def test_preflight_predicts_collapse_past_eta_star_and_none_below():
    below = preflight(TrainConfig(**{**ALIGNED, "weight_decay": 0.04}))
    above = preflight(TrainConfig(**{**ALIGNED, "weight_decay": 0.5, "steps": 3000}))
    assert below["eta_star"] == pytest.approx(1 / (4 * 1.5), rel=1e-3)  # T17 at tau = 1, sigma^2 = 0.5
    assert not below["eta_exceeds_eta_star"] and not below["collapses"]
    assert above["eta_exceeds_eta_star"] and above["collapses"]
    assert above["predicted_outcomes"]["collapsed"] >= 3          # the last one still decaying at t_max
