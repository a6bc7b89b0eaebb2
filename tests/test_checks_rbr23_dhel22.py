"""The [RBR23] (THEORY.md §9) and [DHEL22] (§10) claims of `dynamics.checks`: each passes at quick
sizes, and each FAILS under a negative control, a perturbation of the model at the place the
claim's pipeline looks it up (a library function, a vector field in `dynamics._simulate`, or the
claim module's own settings).

The DISSL claims share training runs through `_claims_dhel22._trained` (an lru_cache keyed on the
settings and the seed). The DISSL perturbations change the settings (so the key) or act after
training (the probe); the one that retrains clears the cache before and after
(`fresh_issl_cache`), so no test sees a stale run. A perturbation of training code itself would
also need a fresh jit of `dynamics.issl._train._run` around a new function object (JAX caches
traces per function, so `jax.jit(_run.__wrapped__)` would reuse the unpatched trace).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import ive, logsumexp

jax.config.update("jax_enable_x64", True)

import dynamics._simulate as simulate_module  # noqa: E402
import dynamics.issl._diagnostics as issl_diagnostics  # noqa: E402
import dynamics.objectives._bessel as bessel  # noqa: E402
import dynamics.objectives._entropy as entropy  # noqa: E402
import dynamics.objectives._reconstruction as reconstruction  # noqa: E402
from dynamics.checks import Context, registry, verdict  # noqa: E402
from dynamics.checks import _claims_dhel22 as dhel22  # noqa: E402

QUICK = Context(quick=True)
RBR23 = ["rbr23.rec.byol_identity", "rbr23.log_c.mpmath", "rbr23.log_c.d512", "rbr23.entropy.range_bound",
         "rbr23.entropy.range_d128", "rbr23.entropy.range_d16", "rbr23.byol.entropy_band",
         "rbr23.byol.entropy_end", "rbr23.no_sg.entropy_falls", "rbr23.no_sg_identity.entropy_constant"]
DHEL22 = ["dhel22.dissl.invariance", "dhel22.dissl.rank", "dhel22.dissl.etf", "dhel22.dissl.probe",
          "dhel22.narrow.probe_fails", "dhel22.prop2.worst_case_risk"]


def _evidence(claim_id):
    return registry()[claim_id].run(QUICK)


@pytest.fixture
def fresh_issl_cache():
    dhel22._trained.cache_clear()
    yield
    dhel22._trained.cache_clear()


def test_registry_entries():
    table = registry()
    mine = [i for i in table if i.startswith(("rbr23.", "dhel22."))]
    assert sorted(mine) == sorted(RBR23 + DHEL22)
    for cid in mine:
        c = table[cid]
        assert c.paper == cid.split(".")[0].upper() and c.tolerance_reason and c.statement
    assert not table["dhel22.narrow.probe_fails"].quick  # a second DISSL compile: full runs only
    assert all(table[cid].quick for cid in mine if cid != "dhel22.narrow.probe_fails")


@pytest.mark.parametrize("claim_id", RBR23 + DHEL22)
def test_claim_passes_at_quick_sizes(claim_id):
    ev = _evidence(claim_id)
    assert verdict(ev), ev


# ------------------------------------------------------------------------------ perturbations: RBR23
def _vmf_reconstruction_unnormalized_prediction(z1, z2, kappa=10.0):
    """Forgets to normalize the prediction (the vMF mean)."""
    z2 = z2 / jnp.linalg.norm(z2, axis=-1, keepdims=True)
    return -kappa * jnp.mean(jnp.sum(z1 * z2, axis=-1)) - bessel.log_vmf_normalizer(int(z1.shape[-1]), kappa)


def _log_bessel_iv_scaled_scipy(nu, x):
    """The textbook log(ive) + x, which underflows to -inf at large order."""
    with np.errstate(divide="ignore"):
        return np.log(ive(nu, x)) + np.asarray(x, np.float64)


def _kernel_entropy_leave_one_out(z, kappa=10.0, plugin=False):
    """The kernel density estimate without its self term: unbounded above."""
    k, d = z.shape
    zn = np.asarray(z) / np.linalg.norm(np.asarray(z), axis=1, keepdims=True)
    gram = kappa * zn @ zn.T
    np.fill_diagonal(gram, -np.inf)
    return float(np.mean(-bessel.log_vmf_normalizer(d, kappa) + math.log(k - 1) - logsumexp(gram, axis=1)))


def _kernel_entropy_wrong_dimension(z, kappa=10.0, plugin=False):
    """log C_{d-1} in place of log C_d (an off-by-one in the sphere's dimension)."""
    k, d = z.shape
    zn = np.asarray(z) / np.linalg.norm(np.asarray(z), axis=1, keepdims=True)
    return float(np.mean(-bessel.log_vmf_normalizer(d - 1, kappa) + math.log(k) - logsumexp(kappa * zn @ zn.T, axis=1)))


def _with_stop_gradient(value):
    original = simulate_module.byol_flow

    def flow(t, y, args):
        return original(t, y, dataclasses.replace(args, path=dataclasses.replace(args.path, stop_gradient=value)))

    return flow


def _with_anisotropic_decay():
    """An extra decay of W along the input axes at different rates (0 ... 0.2): the modes no
    longer shrink at one rate."""
    original = simulate_module.byol_flow

    def flow(t, y, args):
        d = original(t, y, args)
        rates = jnp.linspace(0.0, 0.2, y.W.shape[1])
        return d._replace(W=d.W - y.W * rates, Wa=d.Wa - y.W * rates)

    return flow


# claim -> (module, attribute, factory of the perturbed value, called with the unpatched module)
RBR23_CONTROLS = {
    "rbr23.rec.byol_identity": (reconstruction, "vmf_reconstruction",
                                lambda: _vmf_reconstruction_unnormalized_prediction),
    "rbr23.log_c.mpmath": (bessel, "_U", lambda: bessel._U[:1]),  # Debye series cut after U_1
    "rbr23.log_c.d512": (bessel, "log_bessel_iv", lambda: _log_bessel_iv_scaled_scipy),
    "rbr23.entropy.range_bound": (entropy, "kernel_entropy", lambda: _kernel_entropy_leave_one_out),
    "rbr23.entropy.range_d128": (entropy, "kernel_entropy", lambda: _kernel_entropy_wrong_dimension),
    "rbr23.entropy.range_d16": (entropy, "kernel_entropy", lambda: _kernel_entropy_wrong_dimension),
    "rbr23.byol.entropy_band": (simulate_module, "byol_flow", lambda: _with_stop_gradient("none")),
    "rbr23.byol.entropy_end": (simulate_module, "byol_flow", _with_anisotropic_decay),
    "rbr23.no_sg.entropy_falls": (simulate_module, "byol_flow", lambda: _with_stop_gradient("target")),
    "rbr23.no_sg_identity.entropy_constant": (simulate_module, "byol_flow", _with_anisotropic_decay),
}


@pytest.mark.parametrize("claim_id", RBR23)
def test_rbr23_claim_fails_under_its_negative_control(claim_id, monkeypatch):
    module, name, factory = RBR23_CONTROLS[claim_id]
    monkeypatch.setattr(module, name, factory())
    ev = _evidence(claim_id)
    assert not verdict(ev), ev


# ------------------------------------------------------------------------------ perturbations: DHEL22
def _quadratic_probe_accuracy(z_train, y_train, z_test, y_test, n_classes=None, ridge=1e-8):
    """A probe on quadratic features (outside Theorem 1's linear family): separates any labeling of
    distinct codes once there are enough features."""
    def features(z):
        z = np.asarray(z)
        i, j = np.triu_indices(z.shape[1])
        return np.hstack([z, z[:, i] * z[:, j]])

    return _LINEAR_PROBE(features(z_train), y_train, features(z_test), y_test, n_classes, ridge)


_LINEAR_PROBE = issl_diagnostics.linear_probe_accuracy


@pytest.mark.parametrize("claim_id", ["dhel22.dissl.rank", "dhel22.dissl.etf", "dhel22.dissl.probe",
                                      "dhel22.prop2.worst_case_risk"])
def test_dhel22_claims_fail_for_an_encoder_narrower_than_c_minus_1(claim_id, monkeypatch):
    """Violate condition (iii): n2 = 3 < C - 1. (The settings are part of the cache key, so these
    runs are the narrow claim's own, not a stale wide one.)"""
    monkeypatch.setattr(dhel22, "WIDE", {**dhel22.WIDE, "n2": dhel22.NARROW_N2})
    ev = _evidence(claim_id)
    assert not verdict(ev), ev


def test_dhel22_narrow_probe_claim_fails_for_a_nonlinear_probe(monkeypatch):
    """Theorem 1 is about linear probes: quadratic features realize every labeling of the narrow
    codes (the cached narrow runs are reused: the probe is post-processing)."""
    monkeypatch.setattr(issl_diagnostics, "linear_probe_accuracy", _quadratic_probe_accuracy)
    ev = _evidence("dhel22.narrow.probe_fails")
    assert not verdict(ev), ev


def test_dhel22_invariance_fails_without_the_two_view_terms(monkeypatch, fresh_issl_cache):
    """Drop the two-view terms of (T29): beta = 0 and a student so hot (temperature 1e6) that the
    distillation term has no gradient. Only the maximality term is left, nothing asks for
    invariance, and the teacher spreads over the within-class directions too. (Runs last: it
    clears the DISSL cache.)"""
    monkeypatch.setattr(dhel22, "WIDE", {**dhel22.WIDE, "beta_det_inv": 0.0, "temperature_student": 1e6})
    ev = _evidence("dhel22.dissl.invariance")
    assert not verdict(ev), ev
    assert ev.measured > 0.1  # measured ~0.5: as mixed as at initialization
