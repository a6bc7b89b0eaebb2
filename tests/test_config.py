"""Config validation: each bad value names its field and the allowed range (issue: Bad input)."""

import json

import numpy as np
import pytest

from dynamics import Config, ConfigError
from dynamics.config import config_from_file, data_statistics


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"n1": 0}, "n1"),
        ({"n2": -3}, "n2"),
        ({"sigma2": -0.1}, "sigma2"),
        ({"alpha_p": 0.0}, "alpha_p"),
        ({"alpha_p": -1.0}, "alpha_p"),
        ({"beta": -1.0}, "beta"),
        ({"eta": float("nan")}, "eta"),
        ({"eta_p": -0.5}, "eta_p"),
        ({"model": "banana"}, "model"),
        ({"stop_gradient": "both"}, "stop_gradient"),
        ({"t_max": 0.0}, "t_max"),
        ({"n_save": 1}, "n_save"),
        ({"data": "spectrum"}, "x_eigs"),
        ({"data": "spectrum", "n1": 2, "n2": 2, "x_eigs": (1.0, -1.0)}, "x_eigs"),
        ({"data": "spectrum", "n1": 2, "n2": 2, "x_eigs": (1.0,)}, "x_eigs"),
        ({"data": "spectrum", "n1": 2, "n2": 2, "x_eigs": (1.0, 1.0), "xprime_eigs": (0.1, -0.1)}, "xprime_eigs"),
        ({"data": "matrices", "n1": 2, "n2": 2, "X": ((1.0, 0.0), (0.0, 0.0)), "Xprime": ((0.0, 0.0), (0.0, 0.0))}, "X"),
        ({"data": "matrices", "n1": 2, "n2": 2, "X": ((1.0, 0.5), (0.0, 1.0)), "Xprime": ((0.0, 0.0), (0.0, 0.0))}, "X"),
        ({"data": "matrices", "n1": 2, "n2": 2, "X": ((1.0, 0.0), (0.0, 1.0)), "Xprime": ((-1.0, 0.0), (0.0, 0.0))}, "Xprime"),
        ({"data": "matrices", "n1": 3, "n2": 2, "X": ((1.0, 0.0), (0.0, 1.0)), "Xprime": ((0.0, 0.0), (0.0, 0.0))}, "X"),
        ({"init": "given", "n1": 2, "n2": 2, "W0": ((1.0, 0.0),), "Wp0": ((1.0, 0.0), (0.0, 1.0))}, "W0"),
        ({"init": "given", "n1": 2, "n2": 2}, "W0"),
        ({"model": "modes", "n1": 2, "n2": 3}, "n2"),
        ({"model": "modes", "n2": 2, "n1": 2, "p0": (1.0,)}, "p0"),
        ({"model": "modes", "n2": 2, "n1": 2, "s0": (1.0, -1.0)}, "s0"),
        ({"p0": (1.0,)}, "p0"),
        ({"target": "online", "tau0": 0.5}, "tau0"),
    ],
)
def test_bad_setting_names_the_field(changes, field):
    with pytest.raises(ConfigError, match=rf"^{field} = ") as info:
        Config(**changes)
    assert info.value.field == field


def test_unknown_key_is_rejected_with_a_hint():
    with pytest.raises(ConfigError, match=r"alpha-p.*unknown setting.*alpha_p"):
        Config.from_dict({"alpha-p": 1.0})


def test_eta_p_follows_eta_when_unset():
    assert Config(eta=0.03).eta_p_effective == 0.03
    assert Config(eta=0.03, eta_p=0.0).eta_p_effective == 0.0


def test_json_round_trip_is_identity():
    cfg = Config(model="modes", n1=3, n2=2, data="spectrum", x_eigs=[1.0, 2.0, 3.0], p0=[0.1, 0.2],
                 s0=[0.3, 0.4], eta_p=0.2)
    back = Config.from_json(cfg.to_json())
    assert back == cfg
    assert json.loads(cfg.to_json())["x_eigs"] == [1.0, 2.0, 3.0]


def test_toml_file_with_matrix_path(tmp_path):
    X = np.array([[2.0, 0.5], [0.5, 1.0]])
    np.save(tmp_path / "X.npy", X)
    (tmp_path / "run.toml").write_text(
        'data = "matrices"\nn1 = 2\nn2 = 2\nX = "X.npy"\nXprime = [[0.1, 0.0], [0.0, 0.2]]\nalpha-p = 2.0\n')
    cfg = config_from_file(tmp_path / "run.toml", beta=0.25)
    assert cfg.alpha_p == 2.0 and cfg.beta == 0.25
    stats = data_statistics(cfg)
    np.testing.assert_allclose(stats.X, X)
    np.testing.assert_allclose(stats.Xprime, np.diag([0.1, 0.2]))


def test_spectrum_in_random_basis_has_the_given_eigenvalues():
    cfg = Config(n1=4, n2=2, data="spectrum", x_eigs=[4.0, 3.0, 2.0, 1.0], xprime_eigs=[0.0, 0.1, 0.2, 0.3],
                 basis="random", data_seed=3)
    stats = data_statistics(cfg)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(stats.X)), [1.0, 2.0, 3.0, 4.0], atol=1e-12)
    np.testing.assert_allclose(stats.basis.T @ stats.Xprime @ stats.basis, np.diag([0.0, 0.1, 0.2, 0.3]),
                               atol=1e-12)
    assert not np.allclose(stats.X, np.diag(np.diag(stats.X)))  # really rotated
