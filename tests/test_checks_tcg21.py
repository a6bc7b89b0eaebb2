"""The [TCG21] claims of `dynamics.checks` (THEORY.md §1-§5): each passes at its quick sizes, and each
fails when the model it measures is perturbed (its negative control).

The perturbations change the model where the claim's pipeline looks it up — the rates or data
moments handed to the vector field (`dynamics.flows.flow_args`, `dynamics.flows.ModeArgs`), the
SGD settings (`dynamics.stochastic.simulate_sgd`) or the derived system
(`dynamics.symbolic.parabola_system`) — while the claim's prediction keeps the nominal values. Most
change arrays, not vector fields, so the compiled solves are reused and the file stays fast; the
Theorem 3 bound needs a structural change (a changed rate is compensated by the growth of F or Wp in
K, so the bound still holds), and its control flips the sign of the predictor's flow.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)

import dynamics.flows as flows  # noqa: E402
import dynamics.stochastic as stochastic  # noqa: E402
import dynamics.symbolic as symbolic  # noqa: E402
from dynamics.checks import Context, registry, verdict  # noqa: E402


def _flow_args(**changes):
    """Patch for `flows.flow_args`: the built FlowArgs with `field -> fn(value, args)` applied."""
    original = flows.flow_args

    def patched(config, *a, **kw):
        args = original(config, *a, **kw)
        for name, fn in changes.items():
            value = np.asarray(fn(getattr(args, name), args))
            args = eqx.tree_at(lambda x, name=name: getattr(x, name), args, value)
        return args

    return "flow_args", patched


def _mode_args(**changes):
    """Patch for `flows.ModeArgs` (called with keywords): `field -> fn(value)` applied first."""
    original = flows.ModeArgs

    def patched(**kw):
        for name, fn in changes.items():
            kw[name] = fn(np.asarray(kw[name]))
        return original(**kw)

    return "ModeArgs", patched


def _sgd_with_predictor_decay_equal_to_wd():
    original = stochastic.simulate_sgd

    def patched(config, settings, *, key):  # wd_p = wd instead of wd/alpha_p: T2 gets -alpha_p eta Wp
        return original(config, settings.replace(predictor_weight_decay=settings.weight_decay), key=key)

    return "simulate_sgd", patched


def _predictor_against_its_gradient():
    """Patch for `byol_flow`: dWp/dt sign-flipped (the predictor runs away from alignment, T8)."""
    original = flows.byol_flow

    def patched(t, y, args):
        d = original(t, y, args)
        return flows.BYOLState(d.W, -d.Wp, d.Wa)

    return "byol_flow", patched


def _parabola_with_larger_eta():
    original = symbolic.parabola_system

    def patched():
        eta = symbolic.symbol("eta")
        return original().subs({eta: 1.2 * eta}, name="parabola")

    return "parabola_system", patched


_MODULES = {"byol_flow": flows, "flow_args": flows, "ModeArgs": flows, "simulate_sgd": stochastic,
            "parabola_system": symbolic}

# claim id -> the perturbation that must make it fail (what changes, and why it must be detected)
PERTURBATIONS = {
    "tcg21.thm1.flow": _flow_args(eta_p=lambda v, a: 2 * v),                   # eta_p != eta breaks T6
    "tcg21.thm1.sgd": _sgd_with_predictor_decay_equal_to_wd(),                  # O(1) residual, slope ~ 0
    "tcg21.thm2.vec_convention": _flow_args(eta=lambda v, a: 2 * v),            # flow != -H vec(W)
    "tcg21.thm2.collapse_bound": _flow_args(eta=lambda v, a: v - 0.5),          # decays slower than lambda0
    "tcg21.thm2.no_predictor": _flow_args(eta=lambda v, a: 3 * v),              # not the predicted rate
    "tcg21.thm3.commutator_bound": _predictor_against_its_gradient(),           # (a rate change is compensated)
    "tcg21.thm3.misalignment": _flow_args(eta=lambda v, a: v + 0.3, eta_p=lambda v, a: v + 0.3),  # K > 0
    "tcg21.thm3.fixed_point": _flow_args(eta_p=lambda v, a: 2 * v),             # Wp* has eta_p/alpha_p
    "tcg21.appd.fixed_point": _flow_args(XS=lambda v, a: 2 * v - a.X),          # X' doubled in the flow
    "tcg21.t14.invariant": _mode_args(eta_p=lambda v: 2 * v),                   # T14 needs eta_p = eta
    "tcg21.t17.example": _mode_args(eta=lambda v: 1.3 * v),
    "tcg21.t17.symbolic": _parabola_with_larger_eta(),
    "tcg21.t17.basin": _mode_args(eta=lambda v: 1.3 * v),                       # p*- moves by more than 2%
    "tcg21.t17.threshold": _mode_args(eta=lambda v: 1.2 * v),                   # 0.95 eta* -> 1.14 eta*
    # monotone observations: the swept parameter is handed to the flow in reverse order
    "tcg21.obs1.alpha_p_shrinks_basin": _mode_args(alpha_p=lambda v: 4.25 - v),
    "tcg21.obs2.large_alpha_p_stalls": _mode_args(alpha_p=lambda v: 1001.0 - v),
    "tcg21.obs3.decay_reaches_parabola": _mode_args(eta=lambda v: 0.1 - v),
    "tcg21.obs4.eta_grows_basin": _mode_args(eta=lambda v: 0.11 - v),
    "tcg21.obs5.past_eta_star_all_collapse": _mode_args(eta=lambda v: 2.2 / 6 - v),
    "tcg21.obs6.alpha_p_loosens_t18": _flow_args(alpha_p=lambda v, a: 4.5 - v),
    "tcg21.obs7.eta_loosens_t18": _flow_args(eta=lambda v, a: 0.1 - v, eta_p=lambda v, a: 0.1 - v),
    "tcg21.obs8.ema_curriculum": _mode_args(lam_s=lambda v: 1.5 * v),          # p tracks tau/(1.5(1+s2))
    "tcg21.obs9.slow_ema_slows_training": _mode_args(beta=lambda v: 0.31 - v),
    "tcg21.obs10.small_tau_traps_modes": _mode_args(beta=lambda v: 0.303 - v),
}


def test_every_tcg21_claim_has_a_negative_control():
    ids = {i for i, c in registry().items() if c.paper == "TCG21"}
    assert ids == set(PERTURBATIONS)
    assert len(ids) >= 20


@pytest.mark.parametrize("claim_id", sorted(PERTURBATIONS))
def test_claim_passes_and_its_negative_control_fails(claim_id, monkeypatch):
    c = registry()[claim_id]
    with jax.enable_x64(True):
        ev = c.run(Context(quick=True))
    assert verdict(ev), f"{claim_id} failed unperturbed: {ev}"
    name, patched = PERTURBATIONS[claim_id]
    monkeypatch.setattr(_MODULES[name], name, patched)
    with jax.enable_x64(True):
        bad = c.run(Context(quick=True))
    assert not verdict(bad), f"{claim_id} passed with a perturbed model: {bad}"


def test_t17_example_numbers_are_the_closed_form():
    """The printed example (tau = 1, sigma2 = 0.5, eta = 0.01) is (T17) rounded to 4 digits."""
    from dynamics.checks._claims_tcg21 import _p_star

    p_minus, p_plus = _p_star(1.0, 0.5, 0.01)
    assert float(f"{p_plus:.4g}") == 0.6565 and float(f"{p_minus:.4g}") == 0.01015
