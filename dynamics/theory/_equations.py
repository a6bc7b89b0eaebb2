"""The equations T1-T29 (and T13b) that the code cites, as data: plain-text formula, meaning,
section, source paper, and the corrections and refinements the project keeps.

docs/theory.md is the long form of the same material (each equation block there is this
module's `text`, word for word; `tests/test_theory_show.py` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Paper", "Equation", "PAPERS", "SECTIONS", "EQUATIONS"]


@dataclass(frozen=True)
class Paper:
    """A cited paper: `key` as used in the code ([TCG21]), authors, title, venue and link."""

    key: str
    authors: str
    title: str
    venue: str
    url: str

    def citation(self) -> str:
        return f'[{self.key}] {self.authors}, "{self.title}", {self.venue}, {self.url}'


@dataclass(frozen=True)
class Equation:
    """One numbered equation.

    - `id`: "T1" ... "T29", "T13b"; `section`: "§1" ... "§10" (see `SECTIONS`).
    - `title`: a few words; `text`: the formula in plain text (one or more lines).
    - `meaning`: what it says, its symbols and when it holds.
    - `paper`: the key of the source in `PAPERS`; `where`: the place in that paper.
    - `notes`: corrections of the printed form and refinements the project measured.
    """

    id: str
    section: str
    title: str
    text: str
    meaning: str
    paper: str
    where: str = ""
    notes: str = ""


PAPERS: dict[str, Paper] = {p.key: p for p in (
    Paper("TCG21", "Yuandong Tian, Xinlei Chen, Surya Ganguli",
          "Understanding Self-supervised Learning Dynamics without Contrastive Pairs", "ICML 2021",
          "https://arxiv.org/abs/2102.06810"),
    Paper("HLZ23", "Manu Srinath Halvagal, Axel Laborieux, Friedemann Zenke",
          "Implicit variance regularization in non-contrastive SSL", "NeurIPS 2023",
          "https://arxiv.org/abs/2212.04858"),
    Paper("RTT23", "Pierre H. Richemond, Allison Tam, Yunhao Tang, Florian Strub, Bilal Piot, Felix Hill",
          "The Edge of Orthogonality: A Simple View of What Makes BYOL Tick", "ICML 2023",
          "https://arxiv.org/abs/2302.04817"),
    Paper("RBR23", "Borja Rodríguez-Gálvez, Arno Blaas, Pau Rodríguez, Adam Goliński, Xavier Suau, Jason Ramapuram, "
          "Dan Busbridge, Luca Zappella",
          "The Role of Entropy and Reconstruction in Multi-View Self-Supervised Learning", "ICML 2023",
          "https://arxiv.org/abs/2307.10907"),
    Paper("DHEL22", "Yann Dubois, Tatsunori Hashimoto, Stefano Ermon, Percy Liang",
          "Improving Self-Supervised Learning by Characterizing Idealized Representations", "NeurIPS 2022",
          "https://arxiv.org/abs/2209.06235"),
    Paper("WCDT21", "Xiang Wang, Xinlei Chen, Simon S. Du, Yuandong Tian",
          "Towards Demystifying Representation Learning with Non-contrastive Self-supervision (DirectCopy)",
          "arXiv preprint 2021", "https://arxiv.org/abs/2110.04947"),
    Paper("GSA20", "Jean-Bastien Grill, Florian Strub, Florent Altché, et al.",
          "Bootstrap Your Own Latent: A New Approach to Self-Supervised Learning (BYOL)", "NeurIPS 2020",
          "https://arxiv.org/abs/2006.07733"),
    Paper("CH21", "Xinlei Chen, Kaiming He", "Exploring Simple Siamese Representation Learning (SimSiam)",
          "CVPR 2021", "https://arxiv.org/abs/2011.10566"),
)}

SECTIONS: dict[str, str] = {
    "§1": "Two-layer linear BYOL and SimSiam: the loss and its gradient flow",
    "§2": "Theorem 1: weight decay balances the predictor and the online network",
    "§3": "Theorem 2: without the stop-gradient the representation collapses",
    "§4": "Theorem 3: the predictor aligns with the representation",
    "§5": "Decoupled eigenmodes, their fixed points and the collapse threshold",
    "§6": "DirectPred and DirectCopy: predictors set from statistics",
    "§7": "Implicit variance regularization and IsoLoss",
    "§8": "The orthogonal-projection view of the predictor",
    "§9": "Entropy and reconstruction",
    "§10": "Idealized representations: CISSL and DISSL",
    "§11": "Refinements measured by the project",
}

_A = ("A1: the target is a multiple of the online network, Wa = τ W; A2: isotropic data, X = I and X' = σ² I; "
      "A3: the predictor is symmetric (its flow symmetrized).")

_EQUATIONS = (
    # ------------------------------------------------------------------ §1
    Equation(
        "T1", "§1", "BYOL loss of a two-layer linear network",
        "J(W, Wp) = ½ E[ ‖Wp W x1 − StopGrad(Wa x2)‖² ]",
        "The online encoder W (n2 × n1) and a linear predictor Wp (n2 × n2) predict, from one augmented view x1, "
        "the target network's output Wa x2 on the other view x2 of the same input; no gradient passes through the "
        "target branch. The data enter through two matrices: X = E[x̄ x̄ᵀ], the correlation of the "
        "augmentation-averaged inputs x̄ (equal to E[x1 x2ᵀ]), and X' = E[Cov_aug(x | x̄)], the covariance the "
        "augmentations add, so that E[x1 x1ᵀ] = X + X'.",
        "TCG21", "Sec. 2"),
    Equation(
        "T2", "§1", "predictor flow",
        "dWp/dt = α_p ( −Wp W (X + X') + Wa X ) Wᵀ − η Wp",
        "Gradient flow of (T1) for the predictor in the limit of large batches and small steps: α_p is the "
        "predictor's learning rate relative to the encoder's, η the weight decay (on Wp as on W). Time t is the "
        "effective learning rate times the number of steps.",
        "TCG21", "Sec. 2",
        "Discrete training maps to the flow as: plain SGD with learning rate a and L2 weight decay wd: t = a k, "
        "η = wd, β = (1 − γ)/a for EMA momentum γ; with heavy-ball momentum μ the effective rate is a/(1 − μ), "
        "so t = a k/(1 − μ) and β = (1 − γ)(1 − μ)/a. The predictor, trained at rate a α_p, needs weight decay "
        "wd/α_p to give −η Wp (the same wd gives −α_p η Wp, and (T6) then fails); decoupled decay d per step "
        "gives η = d/a. The paper's text uses another convention; this one matches its code and was checked "
        "against simulated discrete runs (the error shrinks in proportion to a)."),
    Equation(
        "T3", "§1", "online-network flow",
        "dW/dt = Wpᵀ ( −Wp W (X + X') + Wa X ) − η W",
        "Gradient flow of (T1) for the online encoder W; with the stop-gradient only the prediction branch "
        "carries gradient.",
        "TCG21", "Sec. 2"),
    Equation(
        "T4", "§1", "EMA target",
        "dWa/dt = β ( W − Wa )",
        "The target network follows the online network as an exponential moving average with rate β. SimSiam "
        "uses the online network itself as target (Wa ≡ W, the limit β → ∞) and keeps the stop-gradient. "
        "Averaging the loss over both view orders gives the same flow in this limit.",
        "TCG21", "Sec. 2"),
    Equation(
        "T5", "§1", "flow without the stop-gradient (Wa = W)",
        "dW/dt = −(Wpᵀ Wp + I) W X' − (Wp − I)ᵀ (Wp − I) W X − η W",
        "When the target is the online network and the gradient also flows through the target branch, (T3) "
        "becomes this: both terms shrink W (see T7).",
        "TCG21", "Sec. 2"),
    # ------------------------------------------------------------------ §2
    Equation(
        "T6", "§2", "Theorem 1 (balance)",
        "W(t) W(t)ᵀ − α_p⁻¹ Wp(t)ᵀ Wp(t) = e^{−2ηt} C,   C = W(0) W(0)ᵀ − α_p⁻¹ Wp(0)ᵀ Wp(0)",
        "Whatever the target does, the flow (T2)-(T3) keeps this combination of the online network and the "
        "predictor fixed up to a uniform exponential decay: with weight decay the two layers become balanced, "
        "W Wᵀ → α_p⁻¹ Wpᵀ Wp. Exact for the gradient flow (with the predictor's weight decay equal to η), "
        "approximate for finite steps.",
        "TCG21", "Theorem 1"),
    # ------------------------------------------------------------------ §3
    Equation(
        "T7", "§3", "Theorem 2 (collapse without stop-gradient)",
        "H(t) = X' ⊗ (Wpᵀ Wp + I) + X ⊗ (Wp − I)ᵀ (Wp − I) + η I",
        "Without the stop-gradient and with Wa = W the flow is d vec(W)/dt = −H(t) vec(W) with H positive "
        "semi-definite; if λ_min(H(t)) ≥ λ0 > 0 at all times then ‖W(t)‖_F ≤ e^{−λ0 t} ‖W(0)‖_F → 0: the "
        "representation collapses. The Kronecker order is for column-stacking vec (vec(A X B) = (Bᵀ ⊗ A) vec X, "
        "numpy order='F'); for numpy's row-major reshape the factors swap: "
        "(Wpᵀ Wp + I) ⊗ X' + (Wp − I)ᵀ (Wp − I) ⊗ X + η I.",
        "TCG21", "Theorem 2",
        "Without a predictor (Wp = I) and with Wa = W, W decays even with the stop-gradient: "
        "dW/dt = −W (X' + η I) (the paper's supplement prints the two factors in the other order); without the "
        "stop-gradient as well, dW/dt = −2 W X' − η W."),
    # ------------------------------------------------------------------ §4
    Equation(
        "T8", "§4", "symmetric predictor flow under A1-A3",
        "dWp/dt = −(α_p/2)(1+σ²) {Wp, F} + α_p τ F − η Wp",
        "With F = W X Wᵀ (= W Wᵀ under A2) and {A, B} = AB + BA. " + _A,
        "TCG21", "Sec. 3"),
    Equation(
        "T9", "§4", "flow of F under A1-A3",
        "dF/dt = −(1+σ²) {Wp², F} + τ {Wp, F} − 2η F",
        "The correlation F = W X Wᵀ of the representation evolves in closed form together with (T8). " + _A,
        "TCG21", "Sec. 3"),
    Equation(
        "T10", "§4", "Theorem 3 (alignment)",
        "K(t) = (1+σ²) [ (α_p/2) F + Wp² − (τ/(1+σ²)) Wp ] + (3/2) η I",
        "The commutator L = [F, Wp] obeys dL/dt = −L K − K L; if λ_min(K(t)) ≥ λ0 > 0 at all times then "
        "‖[F, Wp]‖_F ≤ e^{−2λ0 t} ‖[F(0), Wp(0)]‖_F: the predictor's eigenvectors align with those of F. With "
        "negative eigenvalues of K (small η, large τ) the alignment can be lost for a while. Under A1-A2 with "
        "η > 0 the fixed point of (T2) is symmetric: Wp* = U diag( τ s_j / ((1+σ²) s_j + η/α_p) ) Uᵀ where "
        "F = U diag(s_j) Uᵀ.",
        "TCG21", "Theorem 3"),
    # ------------------------------------------------------------------ §5
    Equation(
        "T11", "§5", "eigenmode flow: predictor eigenvalue",
        "dp_j/dt = α_p s_j [ τ_j − (1+σ²) p_j ] − η p_j",
        "When Wp = U diag(p_j) Uᵀ and F = U diag(s_j) Uᵀ share eigenvectors (isotropic data), U stays fixed and "
        "every mode j evolves on its own: p_j is the predictor's eigenvalue, s_j the eigenvalue of F, "
        "τ_j = w_a,j / w_j the target-to-online ratio of the mode (one τ per mode: the exact flow keeps no "
        "shared τ, so A1 is an approximation, and with a τ per mode (T11)-(T13) reproduce the aligned matrix "
        "flow exactly). (T11)-(T13) are the scalar case n1 = n2 = 1 of (T2)-(T4) with s = W², p = Wp, "
        "τ = Wa/W.",
        "TCG21", "Eq. 11"),
    Equation(
        "T12", "§5", "eigenmode flow: eigenvalue of F",
        "ds_j/dt = 2 p_j s_j [ τ_j − (1+σ²) p_j ] − 2η s_j",
        "The mode grows while its predictor eigenvalue is below τ_j/(1+σ²) and weight decay does not win.",
        "TCG21", "Eq. 12"),
    Equation(
        "T13", "§5", "eigenmode flow: EMA ratio",
        "dτ_j/dt = β (1 − τ_j) − τ_j (ds_j/dt) / (2 s_j)",
        "The EMA target of mode j relaxes towards the online weight at rate β while the online weight moves "
        "away; SimSiam has τ_j ≡ 1.",
        "TCG21", "Eq. 13"),
    Equation(
        "T13b", "§5", "eigenmode flow for non-isotropic data (weights)",
        "dw_p/dt = α_p (w_a λ_d − w_p w λ_s) w − η w_p\n"
        "dw/dt   = w_p (w_a λ_d − w_p w λ_s) − η w\n"
        "dw_a/dt = β (w − w_a)",
        "The same reduction written in the weights of one mode (s = w², τ = w_a/w) when X and X' share "
        "eigenvectors with the initial weights: λ_d is the mode's eigenvalue of X, λ_s that of X + X' "
        "(isotropic data: λ_d = 1, λ_s = 1 + σ²). The −η w_p term is the predictor's weight decay of (T2); "
        "drop it only when the predictor has none. This is the form the simulator integrates "
        "(`model = modes`).",
        "TCG21", "Eqs. 11-13, generalized by the project"),
    Equation(
        "T14", "§5", "conserved quantity of a mode",
        "s_j(t) = α_p⁻¹ p_j(t)² + e^{−2ηt} c_j,   c_j = s_j(0) − α_p⁻¹ p_j(0)²",
        "The one-mode form of (T6): with η > 0 every trajectory approaches the invariant parabola "
        "s_j = p_j² / α_p.",
        "TCG21", "Sec. 5",
        "Correction: the paper's main text prints c_j with the opposite sign; this is the form that the flow "
        "conserves (checked symbolically and numerically)."),
    Equation(
        "T15", "§5", "EMA ratio on the parabola, τ(0) = 0",
        "τ(t) = p_j(t)⁻¹ β e^{−βt} ∫₀ᵗ p_j(t') e^{βt'} dt'",
        "On the parabola (c_j = 0) and with the target started at zero, τ is a weighted running average of the "
        "predictor eigenvalue: it rises from 0 towards 1 on the time scale 1/β (the EMA acts as a curriculum).",
        "TCG21", "Sec. 5",
        "Measured refinement (observation #8): p_j tracks τ/(1+σ²) with an absolute lag of at most β, with a "
        "large relative error just after τ starts to rise."),
    Equation(
        "T16", "§5", "one-dimensional flow on the parabola",
        "dp_j/dt = p_j² [ τ − (1+σ²) p_j ] − η p_j = −(1+σ²) p_j (p_j − p*₋)(p_j − p*₊)",
        "(T11) with s_j = p_j²/α_p at fixed τ: a cubic with the three roots of (T17).",
        "TCG21", "Sec. 5"),
    Equation(
        "T17", "§5", "fixed points of a mode and the collapse threshold",
        "p*± = [ τ ± √( τ² − 4η(1+σ²) ) ] / [ 2(1+σ²) ],   p*₀ = 0      (0 < η ≤ τ² / (4(1+σ²)))",
        "On the parabola (T16) p*₀ = 0 and p*₊ are stable and p*₋ is unstable: a mode started below p*₋ "
        "collapses, one above it settles at p*₊ with s* = p*₊²/α_p. In the (p, s) plane at fixed τ "
        "(T11)-(T12), p*₋ is a saddle whose stable manifold bounds the collapse basin (at σ² = 0.5, η = 0.01 "
        "its Jacobian eigenvalues are −0.02 and +0.00985). Past the threshold η > τ²/(4(1+σ²)) only p = 0 is "
        "left and every mode collapses; at τ = 1 the threshold is η* = 1/(4(1+σ²)) (1/6 at σ² = 0.5). At η = 0 "
        "the surviving modes form a line p_j = τ/(1+σ²) of non-hyperbolic fixed points for any s_j, and a mode "
        "started above the parabola does not collapse. Example (τ = 1, σ² = 0.5, η = 0.01): p*₊ = 0.6565, "
        "p*₋ = 0.01015. A smaller τ raises p*₋ and traps more modes.",
        "TCG21", "Eqs. 14-17"),
    Equation(
        "T18", "§5", "condition for the alignment to be stable",
        "Δ_j < ½ [ α_p (1+σ²) s_j + η ],   Δ_j = p_j [ τ − (1+σ²) p_j ] − η",
        "On the parabola dp_j/dt = p_j Δ_j, and the eigenvalue of K (T10) on mode j is "
        "α_p (1+σ²) s_j / 2 − Δ_j + η/2; it is positive, and the alignment stable, under this condition. A "
        "larger α_p or η loosens it (observations #6, #7).",
        "TCG21", "Sec. 5",
        "Measured refinement: a larger η loosens (T18) early and for small modes only (observation #7)."),
    # ------------------------------------------------------------------ §6
    Equation(
        "T19", "§6", "DirectPred's running correlation",
        "F̂ ← ρ F̂ + (1 − ρ) E_batch[ f fᵀ ]",
        "DirectPred does not train the predictor: it keeps an exponential average of the uncentred correlation "
        "of the predictor's inputs f (both views) and sets Wp from it (T20) every `freq` steps. Recommended "
        "ρ = 0.3. In the expected flow the average is W (X + X') Wᵀ.",
        "TCG21", "Sec. 4"),
    Equation(
        "T20", "§6", "DirectPred's predictor",
        "F̂ = Û diag(s_j) Ûᵀ,   p_j = √( max(s_j, 0) / max_k s_k ) + ε,   Wp = Û diag(p_j) Ûᵀ",
        "The predictor gets the eigenvectors of F̂ (a symmetric eigensolver on the symmetrized F̂) and "
        "eigenvalues proportional to the square roots of its eigenvalues, normalized by the largest, plus ε "
        "(0.1 recommended). The generalized power uses (s_j / max s)^α + ε (α = ½ is DirectPred); a second "
        "convention, from [HLZ23]'s code, adds ε before the power. DirectCopy [WCDT21] is the α = 1 case "
        "without an eigendecomposition: Wp = F̂ / ‖F̂‖₂ + ε I (ε ≈ 0.25). In the linear flow the DirectPred "
        "predictor is the normalized closed form of W (X + X') Wᵀ, which equals (W X Wᵀ)^α after normalization "
        "only when X' ∝ X.",
        "TCG21", "Sec. 4",
        "The paper prints p_j = √s_j + ε·max_j s_j; its code computes (T20), which is scale-invariant and equal "
        "to the printed form with ε scaled by √(max s); the project follows (T20). Measured refinement: a "
        "predictor normalized by its top eigenvalue makes the Euclidean toy model collapse at the rate 2σ² only "
        "at ε = 0; with ε added after the power the rate is 2(1+ε)[(1+σ²)(1+ε) − 1] (1.43 at σ² = 0.5, "
        "ε = 0.1)."),
    # ------------------------------------------------------------------ §7
    Equation(
        "T21", "§7", "closed-form power predictor",
        "Wp = (W Wᵀ)^α = U diag(λ_m^α) Uᵀ,   W Wᵀ = U diag(λ_m) Uᵀ",
        "The analytic model of [HLZ23]: inputs x ~ N(0, I), views x + σ ε (so X = I, X' = σ² I), and a "
        "predictor recomputed from the weights at every step with no gradient through it. It is built from "
        "the clean-data correlation W X Wᵀ = W Wᵀ; building it from the augmented input's correlation "
        "(1+σ²) W Wᵀ instead moves the fixed point of (T22) to (1+σ²)^{−(1+α)/α}.",
        "HLZ23"),
    Equation(
        "T22", "§7", "Euclidean loss with the power predictor",
        "dW/dt = Wp [ W − (1+σ²) Wp W ];   dλ_m/dt = 2 λ_m^{1+α} [ 1 − (1+σ²) λ_m^α ]",
        "SimSiam (target W) with the Euclidean loss (T1) and the predictor (T21): every non-zero eigenvalue of "
        "W Wᵀ goes to the same λ* = (1+σ²)^{−1/α}, whatever its start: the representation becomes isotropic "
        "(implicit variance regularization). λ = 0 is unstable but small modes escape slowly (rate ∝ λ^{1+α}): "
        "the eigenvalues act as learning-rate multipliers.",
        "HLZ23", "",
        "With weight decay r (dW/dt gains −r W): dλ/dt = 2λ[λ^α (1 − (1+σ²) λ^α) − r], with roots "
        "a± = [1 ± √(1 − 4r(1+σ²))] / (2(1+σ²)) for a = λ^α; modes below a₋ collapse and all collapse when "
        "r > 1/(4(1+σ²)) (compare T17). With an EMA target the bracket's 1 becomes τ. Ablations: without "
        "stop-gradient dλ/dt = −2λ[(1+σ²)(1 + λ^{2α}) − 2λ^α] < 0 for σ > 0 (collapse); stop-gradient on the "
        "wrong side, dλ/dt = 2λ[λ^α − (1+σ²)] (modes above (1+σ²)^{1/α} diverge, the others collapse); no "
        "predictor, dλ/dt = −2σ²λ. [HLZ23]'s code uses squared errors without the ½, so its flows are twice "
        "these (a rescaling of time)."),
    Equation(
        "T23", "§7", "IsoLoss",
        "dW/dt = W − (1+σ²) Wp W;   dλ_m/dt = 2 λ_m [ 1 − (1+σ²) λ_m^α ]",
        "IsoLoss, L_iso = ½ ‖z1 − StopGrad(z2 − (Wp − I) z1)‖², has the value of (T1) but hands z1 the "
        "gradient with respect to the prediction (∂L_iso/∂z1 = ∂L/∂p = p − z2, where (T1) gives Wpᵀ (p − z2)). "
        "Same fixed point λ* as (T22), but every small mode grows at the same relative rate ≈ 2. With α = 1, "
        "σ = 0 and step ½ one step is the Newton-Schulz orthonormalization W ← (3/2) W − ½ W Wᵀ W. With weight "
        "decay r: dλ/dt = 2λ[1 − r − (1+σ²) λ^α], λ* = ((1 − r)/(1+σ²))^{1/α}, every mode recruited for "
        "r < 1.",
        "HLZ23"),
    Equation(
        "T24", "§7", "cosine loss conserves the trace",
        "d/dt tr(W Wᵀ) = 0",
        "The cosine loss −E[pᵀ z2 / (‖p‖ ‖z2‖)] does not change when W is scaled, so its gradient is orthogonal "
        "to W and the flow keeps the total variance.",
        "HLZ23"),
    Equation(
        "T25", "§7", "cosine loss, mean field",
        "dλ_m/dt ≈ 2 λ_m^{1+α} [ 1 − λ_m^α S₁/S₂ ] / ( (1+σ²) √(S₀ S₂) ),   S_k = Σ_m λ_m^{1+kα}",
        "In the limit of many dimensions (‖p‖ and ‖z2‖ replaced by their root-mean-square values), with the "
        "power predictor: every isotropic spectrum is a fixed point, and the level is set by the initial trace "
        "tr(W0 W0ᵀ)/M (T24), not by σ.",
        "HLZ23"),
    # ------------------------------------------------------------------ §8
    Equation(
        "T26", "§8", "least-squares predictor",
        "Wp* = argmin ‖Z_o Wp − Z_t‖²_F = (Z_oᵀ Z_o)⁻¹ Z_oᵀ Z_t = C_oo⁻¹ C_ot,   Z_o Wp* = P_o Z_t",
        "For online features Z_o and targets Z_t (samples as rows), the optimal linear predictor projects the "
        "targets onto the span of the online features (P_o = Z_o Z_o⁺, an orthogonal projector); ridge form "
        "(C_oo + ε I)⁻¹ C_ot, pseudo-inverse when Z_o is rank deficient. In (T1)'s column convention "
        "(p = Wp z) the predictor is C_to C_oo⁻¹. In the linear model with augmentation noise its eigenvalues "
        "are 0 and τ/(1+σ²): near {0, 1} after normalization. Not every closed-form predictor avoids collapse "
        "under every loss; the project establishes each one's outcome (learns, collapses, stalls, diverges) "
        "under the Euclidean and the cosine loss. This is standard linear algebra written for [RTT23]'s claim, "
        "not a formula quoted from the paper.",
        "RTT23", "derived here from the paper's statement",
        "Measured refinements: the eigenvalues {0, 1/(1+σ²)} hold without weight decay; with η_p > 0 a trained "
        "predictor converges to the ridge predictor with ε = η_p/α_p (still {0, 1} after normalization). The "
        "exact least-squares predictor with the Euclidean loss stalls (dW/dt = 0). For the symmetric "
        "orthonormalization C^{−1/2} the unstable point λ = 1+σ² is the ε = 0 limit; with ε it is "
        "((1+σ²)² − ε)/(1+σ²)."),
    # ------------------------------------------------------------------ §9
    Equation(
        "T27", "§9", "entropy + reconstruction bound",
        "I(Z1; Z2) ≥ H(Z2) + E[ log q(Z2 | Z1) ]",
        "The mutual information between the two views' projections is bounded below by an entropy term and a "
        "reconstruction term. On the unit sphere with q = vMF(z2; z1, κ) (normalizer "
        "C_d(κ) = κ^{d/2−1} / ((2π)^{d/2} I_{d/2−1}(κ))), the reconstruction loss is (κ/2) times BYOL's "
        "normalized loss plus a constant: BYOL keeps the reconstruction term. The ER objective minimizes "
        "rec − Ĥ with the entropy on an online quantity.",
        "RBR23", "",
        "Measured refinement: \"BYOL keeps the entropy stable\" needs every mode outside the collapse basin of "
        "(T17); from a random predictor some modes can collapse, and the entropy ends at the value of the "
        "surviving rank."),
    Equation(
        "T28", "§9", "kernel entropy estimate",
        "ℓ_i = −log( (1/k) Σ_j C_d(κ) exp(κ z_iᵀ z_j) ),   Ĥ = (1/k) Σ_i ℓ_i",
        "A von Mises-Fisher kernel density estimate of the entropy over a batch of k unit vectors (self term "
        "included; default κ = 10; a plug-in variant weights by softmax(−ℓ)). The estimate includes log C_d(κ) "
        "(about −130.5 for random unit vectors at d = 128); its dynamic range, spread minus collapsed, is at "
        "most log k. Compute log C_d(κ) in log space: the exponentially scaled Bessel function of common "
        "libraries underflows to 0 for d ≳ 480 at κ = 10 (log C_512(10) = 867.8705).",
        "RBR23", "",
        "Measured refinement: the bound Ĥ(spread) − Ĥ(collapsed) ≤ log k − κ − log C_d(κ) evaluates to 6.205 at "
        "d = 128, k = 512 (6.21 is the large-d limit; log 512 = 6.24) and 5.93 at d = 16."),
    # ------------------------------------------------------------------ §10
    Equation(
        "T29", "§10", "DISSL objective",
        "L = CE(t_v, s_v') − λ H( mean_batch t_v ) + β CE(t_v, t_v')",
        "Over pairs of views v ≠ v' (averaged): a teacher distribution t = softmax(MLP head(z)/0.5) over C "
        "classes, a linear student s = softmax(linear head(z)), a cross-entropy distilling the teacher into the "
        "student across views, an entropy bonus on the batch-mean teacher (maximality, λ = 2.3) and a teacher "
        "consistency term (β = 0.8); the theory asks λ ≥ 1 + β. No EMA and no stop-gradient. An encoder is "
        "ideal for linear probes on every invariant task when it is invariant, linearly predicts the class and "
        "spans at least C − 1 dimensions; the class codes then form a simplex equiangular tight frame, and the "
        "worst-case risk with n labels is (1 − 1/C)^n.",
        "DHEL22", "DISSL objective; Theorem 1, Prop. 2"),
)

#: Every equation by id, in order (T1, ..., T13, T13b, T14, ..., T29).
EQUATIONS: dict[str, Equation] = {eq.id: eq for eq in _EQUATIONS}
