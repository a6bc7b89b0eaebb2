"""The [HLZ23] (THEORY.md §7) and [RTT23] (§8) claims of `dynamics.checks`: each passes at quick sizes,
and each fails when the model it measures is perturbed (a negative control per claim).

The perturbations wrap the vector field (or the closed-form predictor) at the place the claim's
pipeline looks it up: `dynamics._simulate.mode_weight_flow` / `byol_flow` for runs through
`dynamics.simulate`, `dynamics.flows.byol_flow` for the (T23) iteration and
`dynamics.flows.closed_form_predictor` for the least-squares eigenvalues. Each is small
(a 1-10% change of one coefficient, or one term of the gradient path) and changes exactly the number
that the claim compares with its closed form."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

import dynamics._simulate as simulate_module
import dynamics.flows as flows_module
from dynamics.checks import Context, registry, verdict

MINE = sorted(i for i in registry() if i.startswith(("hlz23.", "rtt23.")))


# ------------------------------------------------------------------ perturbations
def _mode_flow(change):
    """Patch the eigenmode flow that `simulate` integrates with `change(t, y, args, f)`."""
    f = simulate_module.mode_weight_flow

    def perturbed(t, y, args):
        return change(t, y, args, f)

    return lambda mp: mp.setattr(simulate_module, "mode_weight_flow", perturbed)


def extra_decay(k):
    """dw/dt gains -k w: an extra weight decay k on the online weights."""
    def change(t, y, args, f):
        out = f(t, y, args)
        dw = out.w - k * y.w
        return out._replace(w=dw, wa=dw if args.path.target == "online" else out.wa)
    return _mode_flow(change)


def scale_lam_s(k):
    """The flow sees X + X' scaled by k (the augmentation variance changed underneath the claim)."""
    return _mode_flow(lambda t, y, args, f: f(t, y, dataclasses.replace(args, lam_s=k * args.lam_s)))


def swap_path(**changes):
    """The flow uses another gradient path (loss, stop-gradient, ...) than the config says."""
    return _mode_flow(lambda t, y, args, f: f(t, y, dataclasses.replace(
        args, path=dataclasses.replace(args.path, **changes))))


def mode_dependent_rate(spread):
    """Mode j's velocity multiplied by 1 + spread * j / m (a mode-dependent time change)."""
    def change(t, y, args, f):
        out = f(t, y, args)
        m = y.w.shape[-1]
        factor = 1.0 + spread * jnp.arange(m) / m
        return out._replace(w=factor * out.w, wa=factor * out.wa)
    return _mode_flow(change)


def _full_flow(change, module=simulate_module):
    f = module.byol_flow

    def perturbed(t, y, args):
        return change(t, y, args, f)

    return lambda mp: mp.setattr(module, "byol_flow", perturbed)


def full_extra_decay(k, module=simulate_module):
    def change(t, y, args, f):
        out = f(t, y, args)
        dW = out.W - k * y.W
        return out._replace(W=dW, Wa=dW if args.path.target == "online" else out.Wa)
    return _full_flow(change, module)


def predictor_decay_doubled():
    """The trained predictor decays at 2 eta_p instead of eta_p (T2's -eta_p Wp doubled)."""
    return _full_flow(lambda t, y, args, f: f(t, y, args)._replace(Wp=f(t, y, args).Wp - args.eta_p * y.Wp))


def full_predictor_eps(eps):
    """The closed-form predictor in the flow uses epsilon `eps` instead of the config's."""
    return _full_flow(lambda t, y, args, f: f(t, y, dataclasses.replace(args, predictor_eps=jnp.asarray(eps))))


def lstsq_eps(eps):
    f = flows_module.closed_form_predictor

    def perturbed(kind, stats, alpha, e, convention="after_power"):
        return f(kind, stats, alpha, jnp.asarray(eps), convention)

    return lambda mp: mp.setattr(flows_module, "closed_form_predictor", perturbed)


#: One negative control per claim: the perturbation and why it must fail the claim.
NEGATIVE_CONTROLS = {
    "hlz23.lambda_star.power_euclidean": scale_lam_s(1.1),  # lambda* moves to 1.65^(-1/alpha)
    "hlz23.isoloss.lambda_star": extra_decay(0.05),  # lambda* moves to ((1 - 0.05)/1.5)^(1/alpha)
    "hlz23.isoloss.early_rates": swap_path(loss="euclidean"),  # IsoLoss slopes become Euclidean ones
    "hlz23.cosine.trace_conserved": full_extra_decay(0.01),  # the trace decays
    "hlz23.cosine.isotropic_mean_field": mode_dependent_rate(0.5),  # trace not conserved, level moves
    "hlz23.ablation.no_stop_gradient": scale_lam_s(1.1),  # collapse rate 2 * 1.65
    "hlz23.ablation.wrong_side_stop_gradient": scale_lam_s(1.1),  # threshold moves by 10%
    "hlz23.ablation.no_predictor": extra_decay(0.01),  # rate 2 sigma2 + 0.02
    "hlz23.weight_decay.euclidean_above_threshold": extra_decay(0.01),  # rate 2(r + 0.01)
    "hlz23.weight_decay.euclidean_below_threshold": scale_lam_s(1.05),  # a_- and a_+ move
    "hlz23.weight_decay.isoloss_lambda_star": extra_decay(0.01),  # lambda*_r moves
    "rtt23.lstsq.projector_eigenvalues": lstsq_eps(0.3),  # ridge eigenvalues tau c/(c + 0.3)
    "rtt23.trained_predictor.approaches_ridge": predictor_decay_doubled(),  # fixed point at eps = 2 eta_p
    "rtt23.isoloss_iteration.orthonormalizes": full_extra_decay(0.1, flows_module),  # W W^T -> 0.9/(1+s2)
    "rtt23.table.power_normalized_euclidean": scale_lam_s(1.1),  # rate 2(1.65 - 1)
    "rtt23.table.directpred_euclidean": scale_lam_s(1.1),  # rate 2(1+eps)(1.65(1+eps) - 1)
    "rtt23.table.inverse_sqrt_euclidean": scale_lam_s(1.1),  # lambda_u moves by 11%
    "rtt23.table.ridge_lstsq_euclidean": full_predictor_eps(0.1),  # ridge eps > 0: W moves
}


def test_every_claim_has_a_negative_control_and_is_quick():
    assert sorted(NEGATIVE_CONTROLS) == MINE
    for cid in MINE:
        c = registry()[cid]
        assert c.quick and c.tolerance_reason and c.statement and c.paper in ("HLZ23", "RTT23")


@pytest.mark.parametrize("cid", MINE)
def test_claim_passes_at_quick_sizes(cid):
    ev = registry()[cid].run(Context(quick=True))
    assert verdict(ev), (cid, ev.measured, ev.predicted, ev.tolerance, ev.detail)
    assert np.isfinite(ev.measured)


@pytest.mark.parametrize("cid", MINE)
def test_claim_fails_when_the_model_is_perturbed(cid, monkeypatch):
    NEGATIVE_CONTROLS[cid](monkeypatch)
    ev = registry()[cid].run(Context(quick=True))
    assert not verdict(ev), (cid, ev.measured, ev.predicted, ev.tolerance, ev.detail)
