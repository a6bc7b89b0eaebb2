"""The default main job: EMA rate x weight decay for the eigenmode model and a coarser full grid."""

from __future__ import annotations

from typing import NamedTuple

from ..config import Config

__all__ = ["MainJob", "main_jobs"]


class MainJob(NamedTuple):
    """One sweep of the main job: its store `group`, `base` configuration and `axes` strings."""

    group: str
    base: Config
    axes: list[str]


def main_jobs() -> list[MainJob]:
    """The sweeps `ssl-dynamics sweep --out PATH` runs when no `--param` is given.

    Both use isotropic data with sigma2 = 0.5, alpha_p = 1, an EMA target started at tau0 = 0
    (Wa(0) = 0, the curriculum case of T15), a trained predictor and eta_p = eta.

    - `modes`: four eigenmodes started on the parabola s = p^2 / alpha_p (T14) with
      s0 = (1e-3, 1e-2, 1e-1, 1), p0 = sqrt(s0); beta = geom:1e-3:10:64 x eta = lin:0:0.2:64;
      t_max = 3e4.
    - `full`: the matrix flow with n1 = 8, n2 = 4, random init (scale 1, seed 0);
      beta = geom:3e-2:10:12 x eta = lin:0:0.2:12; t_max = 1000.

    The run length: the EMA target catches up with the online network on the time scale 1/beta, so
    a cell is settled only after several 1/beta. Both grids give beta * t_max >= 30 at their
    smallest beta: every cell of `modes` and all but one (0.2%) of `full` converge. (At
    t_max = 1000 over beta from 1e-3, 4% of the `modes` cells and 6% of the `full` ones, a wedge at
    beta < 0.03, were still moving at the end: run length, not trapping.) The `modes` integrator
    adapts its steps per lane, so its long t_max costs nothing; the matrix flow's stiff beta = 10
    column is integrated in steps of about 1/beta, so its cost grows about in proportion to t_max
    (18 s at t_max = 1000, 36 s at 3000 on 2 CPU cores): `full` keeps t_max = 1000 and starts its
    beta axis at 3e-2.

    Both run with `sweep`'s default integrator "auto": `solve_lanes` for `modes`, `jit(vmap(diffrax))`
    for `full` (see `sweep`), at the config's rtol 1e-8 / atol 1e-10.
    """
    common = dict(sigma2=0.5, alpha_p=1.0, target="ema", predictor="trained", tau0=0.0)
    s0 = (1e-3, 1e-2, 1e-1, 1.0)
    modes = Config(model="modes", n1=4, n2=4, s0=s0, p0=tuple(v**0.5 for v in s0), t_max=3e4, **common)
    full = Config(model="full", n1=8, n2=4, init="random", init_scale=1.0, seed=0, t_max=1000.0, **common)
    return [
        MainJob("modes", modes, ["beta=geom:1e-3:10:64", "eta=lin:0:0.2:64"]),
        MainJob("full", full, ["beta=geom:3e-2:10:12", "eta=lin:0:0.2:12"]),
    ]
