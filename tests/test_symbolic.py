"""`dynamics.symbolic`: the flows, mode reductions, fixed points and stability derived with sympy are
checked against THEORY.md's closed forms (typed here, independently: the library derives them) and
against the hand-written vector fields of `dynamics.flows`; dynamics confirm the classifications."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import dynamics.symbolic as S
from dynamics.config import ConfigError
from dynamics.flows import (BYOLState, FlowArgs, GradientPath, ModeArgs, ModeState, byol_flow,
                            mode_flow)

sigma2, eta, eta_p, alpha_p, beta, tau = (S.symbol(n) for n in ("sigma2", "eta", "eta_p", "alpha_p", "beta", "tau"))
lam_d, lam_s, alpha, r = (S.symbol(n) for n in ("lam_d", "lam_s", "alpha", "r"))
p, s, lam = S.symbol("p"), S.symbol("s"), S.symbol("lambda")
w, w_p, w_a = S.symbol("w"), S.symbol("w_p"), S.symbol("w_a")
c = 1 + sigma2

PATHS = [GradientPath(t, sg, pr) for t, sg, pr in itertools.product(
    ("ema", "online"), ("target", "none", "online"), ("trained", "symmetric", "identity"))]
PATHS += [GradientPath(t, sg, "trained", loss="isoloss_euclidean") for t, sg in itertools.product(
    ("ema", "online"), ("target", "none"))]


def is_zero(expr) -> bool:
    return sp.simplify(sp.expand(expr)) == 0


def is_zero_matrix(M) -> bool:
    return all(sp.expand(e) == 0 for e in M)


# ------------------------------------------------------------------ 1. the flow from the loss (T1)

def t2_t5_closed_forms(flow):
    """THEORY.md (T2)-(T5) typed from the text, on the flow's own symbolic matrices."""
    W, Wp, Wa, X, Xp = flow.W, flow.Wp, flow.Wa, flow.X, flow.Xprime
    XS, I = X + Xp, sp.eye(Wp.shape[0])
    T2 = alpha_p * (-Wp * W * XS + Wa * X) * W.T - eta_p * Wp
    T3 = Wp.T * (-Wp * W * XS + Wa * X) - eta * W
    T4 = beta * (W - Wa)
    T5 = -(Wp.T * Wp + I) * W * Xp - (Wp - I).T * (Wp - I) * W * X - eta * W
    return T2, T3, T4, T5


@pytest.mark.parametrize("n1, n2", [(2, 2), (3, 2)])
def test_derived_flow_with_stop_gradient_on_target_is_T2_T3_T4(n1, n2):
    flow = S.derive_flow("trained", "ema", "target", n1=n1, n2=n2)
    T2, T3, T4, _ = t2_t5_closed_forms(flow)
    assert is_zero_matrix(flow.dWp - T2) and is_zero_matrix(flow.dW - T3) and is_zero_matrix(flow.dWa - T4)


def test_derived_simsiam_flow_without_stop_gradient_is_T5():
    flow = S.derive_flow("trained", "online", "none", n1=2, n2=2)
    _, T3, _, T5 = t2_t5_closed_forms(flow)
    assert is_zero_matrix(flow.dW - T5)
    assert not is_zero_matrix(flow.dW - T3)  # negative control: the stop-gradient matters


def test_isoloss_path_drops_the_Wp_transpose_in_the_online_gradient():
    flow = S.derive_flow("trained", "ema", "target", loss="isoloss_euclidean", n1=2, n2=2)
    T2, T3, _, _ = t2_t5_closed_forms(flow)
    R = -flow.Wp * flow.W * (flow.X + flow.Xprime) + flow.Wa * flow.X
    assert is_zero_matrix(flow.dW - (R - eta * flow.W)) and is_zero_matrix(flow.dWp - T2)
    assert not is_zero_matrix(flow.dW - T3)


def test_other_stop_gradient_settings_and_predictors():
    wrong = S.derive_flow("trained", "ema", "online", n1=2, n2=2)  # only the target branch: §7 ablation
    W, Wp, Wa, X, Xp = wrong.W, wrong.Wp, wrong.Wa, wrong.X, wrong.Xprime
    assert is_zero_matrix(wrong.dW - (Wp * W * X - Wa * (X + Xp) - eta * W))
    assert is_zero_matrix(wrong.dWp + eta_p * Wp)  # Wp gets only weight decay
    sym = S.derive_flow("symmetric", "ema", "target", n1=2, n2=2)
    T2, _, _, _ = t2_t5_closed_forms(sym)
    G = T2 + eta_p * sym.Wp
    assert is_zero_matrix(sym.dWp - ((G + G.T) / 2 - eta_p * sym.Wp))
    ident = S.derive_flow("identity", "ema", "target", n1=2, n2=2)
    assert is_zero_matrix(ident.dWp)
    assert is_zero_matrix(ident.dW - (-ident.W * (ident.X + ident.Xprime) + ident.Wa * ident.X - eta * ident.W))


@pytest.mark.parametrize("path", [GradientPath("ema", "target", "trained"), GradientPath("online", "none", "trained"),
                                  GradientPath("ema", "online", "symmetric"), GradientPath("ema", "target", "identity"),
                                  GradientPath("ema", "none", "trained", loss="isoloss_euclidean")], ids=str)
def test_matrix_calculus_form_equals_entrywise_derivation(path):
    flow = S.derive_flow(path, n1=2, n2=2)
    form = S.matrix_flow(path, n1=2, n2=2)
    for expr, entries in ((form.dW, flow.dW), (form.dWp, flow.dWp), (form.dWa, flow.dWa)):
        assert is_zero_matrix(S.explicit(expr, form, flow) - entries)


def test_symbolic_size_matrix_form_reads_as_T3():
    form = S.matrix_flow("trained", "ema", "target")
    text = str(form.dW)
    assert "W_p.T*W_a*X" in text and "W_p.T*W_p*W*X'" in text and "eta" in text


def random_flow_inputs(rng, path, n1, n2):
    W, Wp, Wa = rng.normal(size=(n2, n1)), rng.normal(size=(n2, n2)), rng.normal(size=(n2, n1))
    if path.target == "online":
        Wa = W
    A, B = rng.normal(size=(n1, n1)), rng.normal(size=(n1, n1))
    X = A @ A.T
    XS = X + B @ B.T
    rates = rng.uniform(0.01, 1.0, size=4)
    return BYOLState(*map(jnp.asarray, (W, Wp, Wa))), FlowArgs(jnp.asarray(X), jnp.asarray(XS), *map(jnp.asarray, rates),
                                                                path=path)


@pytest.mark.parametrize("path", PATHS, ids=str)
def test_generated_matrix_flow_matches_byol_flow_on_random_inputs(path):
    rng = np.random.default_rng(7)
    n1, n2 = (3, 2) if path == GradientPath() else (2, 2)  # one non-square case; the rest 2 x 2 (sympy time)
    f = S.flow_vector_field(path, n1=n1, n2=n2)
    for _ in range(3):
        y, args = random_flow_inputs(rng, path, n1, n2)
        for got, want in zip(f(0.0, y, args), byol_flow(0.0, y, args)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)  # same arithmetic, reordered


# ------------------------------------------------------------------ 2. eigenmodes

def test_scalar_flow_is_T13b():
    one = S.scalar_flow("trained", "ema", "target")
    T13b = (alpha_p * (w_a * lam_d - w_p * w * lam_s) * w - eta_p * w_p,
            w_p * (w_a * lam_d - w_p * w * lam_s) - eta * w,
            beta * (w - w_a))
    assert one.state == (w_p, w, w_a)
    assert all(is_zero(a - b) for a, b in zip(one.rhs, T13b))


def test_mode_system_is_T11_T12_T13_general_and_under_A2():
    modes = S.mode_system("trained", "ema", "target")
    gap = tau * lam_d - p * lam_s
    T11 = alpha_p * s * gap - eta_p * p
    T12 = 2 * s * (p * gap - eta)
    T13 = beta * (1 - tau) - tau * T12 / (2 * s)
    assert all(is_zero(a - b) for a, b in zip(modes.rhs, (T11, T12, T13)))
    iso = S.mode_system("trained", "ema", "target", isotropic=True)
    A2 = {lam_d: 1, lam_s: c}
    assert all(is_zero(a - b.subs(A2)) for a, b in zip(iso.rhs, (T11, T12, T13)))


def test_simsiam_mode_system_at_tau_1_is_the_simsiam_derivation():
    for sg in ("target", "none"):
        frozen = S.mode_system("trained", "online", sg)
        simsiam = S.scalar_flow("trained", "online", sg)  # derived with W_a = W
        dwp, dw = simsiam.rhs
        assert frozen.derivative("tau") == 0
        assert is_zero(frozen.derivative("s").subs(tau, 1) - (2 * w * dw).subs({w: sp.sqrt(s), w_p: p}))
        assert is_zero(frozen.derivative("p").subs(tau, 1) - dwp.subs({w: sp.sqrt(s), w_p: p}))


@pytest.mark.parametrize("path", [GradientPath("ema", "target", "trained"), GradientPath("ema", "none", "trained"),
                                  GradientPath("online", "target", "symmetric")], ids=str)
def test_aligned_diagonal_weights_decouple_into_modes_with_their_own_tau(path):
    assert all(is_zero_matrix(R) for R in S.decoupling_residual(path, n=2))


@pytest.mark.parametrize("path", PATHS, ids=str)
def test_generated_mode_flow_matches_mode_flow_under_jit_and_vmap(path):
    rng = np.random.default_rng(3)
    batch, m = 4, 3
    u = lambda *shape: jnp.asarray(rng.uniform(0.05, 2.0, size=shape))  # noqa: E731
    y = ModeState(u(batch, m), u(batch, m), u(batch, m))
    args = ModeArgs(u(batch, m), u(batch, m) + 1.0, u(batch), u(batch), u(batch) * 0.1, u(batch) * 0.1, path=path)
    batched = lambda f: jax.jit(jax.vmap(f, in_axes=(None, 0, 0)))  # noqa: E731
    got, want = batched(S.derived_mode_flow)(0.0, y, args), batched(mode_flow)(0.0, y, args)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_mode_vector_field_rejects_another_path():
    f = S.mode_vector_field("trained", "ema", "target")
    y = ModeState(jnp.ones(2), jnp.ones(2), jnp.ones(2))
    args = ModeArgs(jnp.ones(2), jnp.ones(2) * 1.5, *(jnp.asarray(0.1),) * 4, path=GradientPath("online"))
    with pytest.raises(ValueError, match="path"):
        f(0.0, y, args)


def test_parabola_reduction_is_T16():
    (dp,) = S.parabola_system().rhs
    assert is_zero(dp - (p**2 * (tau - c * p) - eta * p))


def test_closed_form_predictor_modes_are_T22_T23_and_their_weight_decay_forms():
    euclid, iso = S.closed_form_system("euclidean").rhs[0], S.closed_form_system("isoloss").rhs[0]
    a = lam**alpha
    assert is_zero(sp.powsimp(euclid - 2 * lam * (a * (1 - c * a) - r), force=True))
    assert is_zero(sp.powsimp(iso - 2 * lam * (1 - r - c * a), force=True))
    assert is_zero(sp.powsimp(euclid.subs(r, 0) - 2 * lam ** (1 + alpha) * (1 - c * a), force=True))  # T22
    assert is_zero(sp.powsimp(iso.subs(r, 0) - 2 * lam * (1 - c * a), force=True))  # T23
    ema = S.closed_form_system("euclidean", "ema").rhs[0]  # with an EMA target the bracket's 1 becomes tau
    assert is_zero(sp.powsimp(ema - 2 * lam * (a * (tau - c * a) - r), force=True))


def test_closed_form_predictor_ablations_of_section_7():
    a = lam**alpha
    none = S.closed_form_system("euclidean", "online", "none").rhs[0].subs(r, 0)
    wrong = S.closed_form_system("euclidean", "online", "online").rhs[0].subs(r, 0)
    assert is_zero(sp.powsimp(none + 2 * lam * (c * (1 + a**2) - 2 * a), force=True))
    assert is_zero(sp.powsimp(wrong - 2 * lam * (a - c), force=True))
    no_predictor = S.closed_form_system("euclidean").rhs[0].subs({r: 0, alpha: 0})  # Wp = I
    assert is_zero(no_predictor + 2 * sigma2 * lam)


def test_no_predictor_remark_of_section_3():
    for sg, expected in (("target", lambda W, Xp: -W * Xp), ("none", lambda W, Xp: -2 * W * Xp)):
        flow = S.derive_flow("identity", "online", sg, n1=2, n2=2)
        dW = flow.dW.subs(dict(zip(flow.Wp, sp.eye(2)))).subs(eta, 0)
        assert is_zero_matrix(dW - expected(flow.W, flow.Xprime))


def test_T22_matrix_form_from_the_derived_flow_with_symmetric_closed_form_predictor():
    flow = S.derive_flow("trained", "online", "target", n1=2, n2=2)
    Wp_sym = {flow.Wp[1, 0]: flow.Wp[0, 1]}
    A2 = {**{flow.X[i, j]: int(i == j) for i in range(2) for j in range(2)},
          **{flow.Xprime[i, j]: sigma2 * int(i == j) for i in range(2) for j in range(2)}}
    W, Wp = flow.W, flow.Wp.subs(Wp_sym)
    T22 = Wp * (W - c * Wp * W)
    assert is_zero_matrix(flow.dW.subs(Wp_sym).subs(A2).subs(eta, 0) - T22)


# ------------------------------------------------------------------ per-sample losses (§7)

def test_isoloss_gradient_for_z1_is_dL_dp_not_T1s_gradient():
    g = S.isoloss_sample_gradient(2)
    assert is_zero_matrix(g.grad_iso - g.grad_p)
    assert is_zero_matrix(g.grad_p - (g.Wp * g.z1 - g.z2))
    assert not is_zero_matrix(g.grad_iso - g.grad_T1)  # T1's own gradient has the Wp^T factor
    assert is_zero_matrix(g.grad_T1 - g.Wp.T * (g.Wp * g.z1 - g.z2))
    assert sp.expand(g.loss_iso - g.loss) == 0  # same value


def test_expected_isoloss_flow_drops_the_Wp_transpose_and_has_T1s_value():
    flow = S.isoloss_flow(2, 2)
    XS = flow.X + flow.Xprime
    assert is_zero_matrix(flow.dW - (-(flow.Wp * flow.W * XS - flow.Wa * flow.X) - eta * flow.W))
    assert S.isoloss_value_matches_T1(2, 2)


def test_cosine_loss_gradient_is_orthogonal_to_W_per_sample_T24():
    g = S.cosine_sample_gradient(2, 2)
    assert g.euler == 0 and g.scale_change == 0
    # negative control: the Euclidean per-sample loss is not scale invariant
    pred, z2 = g.Wp * g.W * g.x1, sp.Matrix(sp.symbols("z1:3", real=True))
    euclid = ((pred - z2).T * (pred - z2))[0, 0] / 2
    assert sp.expand(sum(e * sp.diff(euclid, e) for e in g.W)) != 0
    # and numerically: the gradient at random numbers is orthogonal to W
    rng = np.random.default_rng(0)
    numbers = {sym: rng.normal() for sym in g.loss.free_symbols}
    grad = np.array(g.grad_W.subs(numbers).evalf(), dtype=float)
    Wn = np.array(g.W.subs(numbers), dtype=float)
    assert abs(np.sum(grad * Wn)) < 1e-12 and np.linalg.norm(grad) > 1e-3


# ------------------------------------------------------------------ 4. invariants

@pytest.mark.parametrize("target", ["ema", "online"])
def test_theorem1_balance_decays_as_exp_minus_2eta_t(target):
    assert is_zero_matrix(S.balance_residual("trained", target, "target", n1=2, n2=2))


def test_theorem1_fails_without_stop_gradient_or_with_the_symmetrized_predictor():  # negative controls
    assert not is_zero_matrix(S.balance_residual("trained", "online", "none", n1=2, n2=2))
    assert not is_zero_matrix(S.balance_residual("symmetric", "ema", "target", n1=2, n2=2))


def test_mode_integral_T14_is_conserved():
    assert S.mode_integral_residual() == 0
    assert S.mode_integral_residual(S.mode_system(isotropic=True)) == 0
    # negative control: without the e^{2 eta t} factor the quantity is not conserved
    modes = S.mode_system()
    drift = sp.expand(modes.derivative("s") - 2 * p * modes.derivative("p") / alpha_p).subs(eta_p, eta)
    assert drift != 0


# ------------------------------------------------------------------ 3. fixed points and stability

def by_name(points):
    return {pt.name: pt for pt in points}


def test_fixed_points_on_the_parabola_are_T17_with_their_existence_condition():
    system = S.parabola_system()
    points = by_name(S.fixed_points(system))
    assert set(points) == {"p*0", "p*-", "p*+"}
    root = sp.sqrt(tau**2 - 4 * eta * c)
    for name, sign in (("p*+", 1), ("p*-", -1)):
        assert is_zero(points[name].as_dict()[p] - (tau + sign * root) / (2 * c))
        cond = points[name].condition
        assert isinstance(cond, sp.LessThan) and cond.lhs == eta and is_zero(cond.rhs - tau**2 / (4 * c))
    assert points["p*0"].condition == sp.true
    assert is_zero(S.thresholds(system)["eta*"] - tau**2 / (4 * c))
    assert is_zero(S.thresholds(S.named_system("full"))["eta*"] - 1 / (4 * c))  # tau = 1


def test_plane_fixed_points_lie_on_the_parabola():
    points = by_name(S.fixed_points(S.plane_system()))
    for name in ("p*+", "p*-"):
        at = points[name].as_dict()
        assert is_zero(at[s] - at[p] ** 2 / alpha_p)


def test_closed_form_fixed_points_lambda_star_and_isoloss_weight_decay():
    euclid = S.closed_form_system("euclidean").subs({r: 0})
    points = by_name(S.fixed_points(euclid))
    assert set(points) == {"lambda*0", "lambda*"}
    assert is_zero(points["lambda*"].as_dict()[lam] - c ** (-1 / alpha))
    iso = by_name(S.fixed_points(S.closed_form_system("isoloss")))
    assert is_zero(iso["lambda*"].as_dict()[lam] - ((1 - r) / c) ** (1 / alpha))
    assert iso["lambda*"].condition == sp.Le(r, 1)  # every mode recruited for r < 1
    wd = by_name(S.fixed_points(S.closed_form_system("euclidean")))
    for name, sign in (("lambda*+", 1), ("lambda*-", -1)):
        a = (1 + sign * sp.sqrt(1 - 4 * r * c)) / (2 * c)
        assert is_zero(wd[name].as_dict()[lam] - a ** (1 / alpha))
        cond = wd[name].condition
        assert isinstance(cond, sp.LessThan) and cond.lhs == r and is_zero(cond.rhs - 1 / (4 * c))


def test_symbolic_classification_depends_on_the_system():
    expected = {
        "parabola": {"p*0": "stable", "p*-": "unstable", "p*+": "stable"},
        "plane": {"p*0": "stable", "p*-": "saddle", "p*+": "stable"},
        "full": {"p*-": "saddle", "p*+": "stable"},
    }
    for name, verdicts in expected.items():
        system = S.named_system(name)
        points = by_name(S.fixed_points(system))
        for point, verdict in verdicts.items():
            result = S.stability(system, points[point])
            assert result.classification == verdict, (name, point, result)
            assert result.system.startswith(name) and result.method == "symbolic"
    full = S.named_system("full")
    collapsed = S.stability(full, by_name(S.fixed_points(full))["p*0"])
    assert collapsed.classification == "undetermined"  # depends on beta vs eta
    assert "stable where beta > eta" in collapsed.note and "saddle where beta < eta" in collapsed.note


def test_symbolic_eigenvalues_of_the_closed_form_fixed_points():
    euclid = S.closed_form_system("euclidean").subs({r: 0})
    points = by_name(S.fixed_points(euclid))
    star = S.stability(euclid, points["lambda*"])
    assert star.classification == "stable" and is_zero(star.eigenvalues[0] + 2 * alpha / c)
    zero = S.stability(euclid, points["lambda*0"])
    assert zero.classification == "non-hyperbolic" and "unstable for lambda > 0" in zero.note  # slow escape
    iso = S.closed_form_system("isoloss").subs({r: 0})
    iso_points = by_name(S.fixed_points(iso))
    assert is_zero(S.stability(iso, iso_points["lambda*"]).eigenvalues[0] + 2 * alpha)
    assert S.stability(iso, iso_points["lambda*0"]).classification == "unstable"


EXAMPLE = {"sigma2": 0.5, "eta": 0.01, "tau": 1.0, "alpha_p": 1.0}


def test_theory_example_numbers_and_plane_saddle_eigenvalues():
    plane = S.plane_system()
    points = by_name(S.fixed_points(plane, EXAMPLE))
    assert points["p*+"].evaluate(EXAMPLE)["p"] == pytest.approx(0.6565, abs=5e-5)
    assert points["p*-"].evaluate(EXAMPLE)["p"] == pytest.approx(0.01015, abs=5e-6)
    saddle = S.stability(plane, points["p*-"], EXAMPLE)
    assert saddle.classification == "saddle" and saddle.method == "numeric"
    assert sorted(saddle.eigenvalues) == pytest.approx([-0.02, 0.009845], abs=5e-6)  # THEORY: -0.02, +0.00985


def test_eta_zero_gives_non_hyperbolic_lines_and_above_threshold_only_collapse():
    plane = S.plane_system()
    at_zero = S.fixed_points(plane, {**EXAMPLE, "eta": 0.0})
    assert {pt.name for pt in at_zero} == {"line (p free)", "line (s free)"}
    assert all(S.stability(plane, pt, {**EXAMPLE, "eta": 0.0}).classification == "non-hyperbolic" for pt in at_zero)
    line = by_name(at_zero)["line (s free)"]
    assert line.evaluate({**EXAMPLE, "eta": 0.0})["p"] == pytest.approx(1 / 1.5)
    above = S.fixed_points(plane, {**EXAMPLE, "eta": 0.2})
    assert [pt.name for pt in above] == ["p*0"]
    at_threshold = by_name(S.fixed_points(S.parabola_system(), {**EXAMPLE, "eta": 1 / 6}))
    merged = at_threshold["p*+ = p*-"]
    assert S.stability(S.parabola_system(), merged, {**EXAMPLE, "eta": 1 / 6}).classification == "non-hyperbolic"


def integrate_modes(path, p0, s0, tau0, t_max, rates, dt=0.25):
    """Classic RK4 with a fixed step (dt * max rate << 1 here), vmapped over initial conditions, on the
    generated `derived_mode_flow`: an integrator independent of the adaptive `solve`, cheap to compile."""
    y0 = ModeState(*(jnp.asarray(v, dtype=float)[:, None] for v in (p0, s0, tau0)))
    args = ModeArgs(jnp.asarray([1.0]), jnp.asarray([1.5]), path=path, **{k: jnp.asarray(v) for k, v in rates.items()})
    f = lambda y: S.derived_mode_flow(0.0, y, args)  # noqa: E731
    add = lambda y, k, h: jax.tree_util.tree_map(lambda a, b: a + h * b, y, k)  # noqa: E731

    def step(y, _):
        k1 = f(y)
        k2 = f(add(y, k1, dt / 2))
        k3 = f(add(y, k2, dt / 2))
        k4 = f(add(y, k3, dt))
        incr = jax.tree_util.tree_map(lambda a, b, c_, d: (a + 2 * b + 2 * c_ + d) / 6, k1, k2, k3, k4)
        return add(y, incr, dt), None

    run = jax.jit(jax.vmap(lambda y: jax.lax.scan(step, y, None, length=int(t_max / dt))[0]))
    return run(y0)


def test_dynamics_confirm_the_parabola_and_plane_classification():
    """On the parabola (s = p^2/alpha_p, tau = 1 frozen, eta_p = eta): below p*- collapses, above
    recovers to p*+, near p*+ stays (T16-T17); off the parabola p*+ still attracts (plane)."""
    eta_v = 0.05
    values = {**EXAMPLE, "eta": eta_v}
    pts = {k: v.evaluate(values)["p"] for k, v in by_name(S.fixed_points(S.plane_system(), values)).items()}
    starts = [0.8 * pts["p*-"], 1.2 * pts["p*-"], 1.05 * pts["p*+"], 0.5]
    goals = [0.0, pts["p*+"], pts["p*+"], pts["p*+"]]
    s0 = [q**2 for q in starts[:3]] + [0.6]  # the last start is off the parabola
    ys = integrate_modes(GradientPath("online", "target", "trained"), starts, s0, [1.0] * 4, 1500.0,
                         dict(alpha_p=1.0, beta=0.0, eta=eta_v, eta_p=eta_v))
    np.testing.assert_allclose(ys.p[:, 0], goals, atol=1e-4)
    assert float(ys.s[3, 0]) == pytest.approx(pts["p*+"] ** 2, abs=1e-4)  # lands on the parabola


def test_dynamics_confirm_the_full_system_stable_point_and_saddle():
    full = S.named_system("full")
    values = {"sigma2": 0.5, "eta": 0.05, "alpha_p": 1.0, "beta": 0.5}
    points = by_name(S.fixed_points(full, values))
    star, saddle = points["p*+"].evaluate(values), points["p*-"].evaluate(values)
    assert S.stability(full, points["p*+"], values).classification == "stable"
    assert S.stability(full, points["p*-"], values).classification == "saddle"
    starts = ([1.1 * star["p"], 0.5 * saddle["p"]], [0.9 * star["s"], 0.25 * saddle["s"]], [0.9, 1.0])
    ys = integrate_modes(GradientPath("ema", "target", "trained"), *starts, 800.0,
                         dict(alpha_p=1.0, beta=0.5, eta=0.05, eta_p=0.05))
    assert [float(ys.p[0, 0]), float(ys.s[0, 0]), float(ys.tau[0, 0])] == pytest.approx(
        [star["p"], star["s"], star["tau"]], abs=1e-5)
    assert float(ys.p[1, 0]) < 1e-6  # below the saddle: collapse


def test_generic_jax_vector_field_of_a_system():
    f = S.jax_vector_field(S.parabola_system())
    (dp,) = jax.jit(f)(0.0, (jnp.array([0.1, 0.5]),), {"sigma2": 0.5, "eta": 0.01, "tau": 1.0})
    pv = np.array([0.1, 0.5])
    np.testing.assert_allclose(dp, pv**2 * (1.0 - 1.5 * pv) - 0.01 * pv, rtol=1e-14)


# ------------------------------------------------------------------ 6. export and bad input

def test_derived_equations_are_tagged_and_exported_as_latex():
    eqs = S.derived_equations("trained", "ema", "target")
    assert {e.tag for e in eqs} >= {"T2", "T3", "T4", "T13b", "T11", "T12", "T13", "T16"}
    tex = S.to_latex(eqs)
    assert r"\frac{d W}{dt}" in tex and r"\tag{T11}" in tex and r"\sigma^2" in tex and r"\tau" in tex
    assert "[T3]" in S.to_text(eqs)
    point = by_name(S.fixed_points(S.parabola_system()))["p*+"]
    assert r"\sqrt" in S.to_latex(point) and r"\eta" in S.to_latex(point)
    assert r"\tag{T16}" in S.to_latex(S.parabola_system())


def test_bad_choices_raise_config_error_naming_the_field():
    with pytest.raises(ConfigError, match="predictor = 'linear'"):
        S.mode_system("linear")
    with pytest.raises(ConfigError, match="stop_gradient"):
        S.derive_flow("trained", "ema", "both")
    with pytest.raises(ConfigError, match="n1 = 4"):
        S.derive_flow(n1=4)
    with pytest.raises(ConfigError, match="system"):
        S.named_system("cubic")
    with pytest.raises(ConfigError, match="loss"):
        S.closed_form_system("cosine")
    with pytest.raises(ConfigError, match="loss = 'cosine'"):  # not polynomial: not derived as a flow
        S.mode_system(GradientPath(loss="cosine"))
    with pytest.raises(ConfigError, match="expectation = 'sampled'"):
        S.derived_mode_flow(0.0, None, ModeArgs(jnp.ones(1), jnp.ones(1), *(jnp.asarray(0.1),) * 4,
                                                path=GradientPath(expectation="sampled")))


def test_symbolic_package_loads_sympy_lazily():
    """`import dynamics` imports `dynamics.symbolic`, whose __init__ imports nothing heavy at module
    level (the public names load on first use), so `import dynamics` stays fast."""
    import ast
    import inspect

    import dynamics.symbolic as package

    tree = ast.parse(inspect.getsource(package))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    modules = {alias.name for node in top_level if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module for node in top_level if isinstance(node, ast.ImportFrom)}
    assert modules <= {"__future__", "importlib", "typing"}
    assert set(package.__all__) <= set(dir(package)) and callable(package.fixed_points)
