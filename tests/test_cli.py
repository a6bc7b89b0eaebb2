"""`ssl-dynamics simulate`: good input writes a readable file and a PNG; bad input exits 2 and
writes nothing."""

import subprocess
import sys

import numpy as np
import pytest

from dynamics import Config
from dynamics.cli._main import main
from dynamics.results import read_netcdf

SMALL = ["--n1", "4", "--n2", "3", "--t-max", "20", "--n-save", "5"]


def test_simulate_writes_netcdf_and_png_and_round_trips_config(tmp_path, capsys):
    out = tmp_path / "run.nc"
    code = main(["simulate", *SMALL, "--alpha-p", "1", "--eta", "0.01", "--beta", "0.5", "--sigma2", "0.5",
                 "--out", str(out)])
    assert code == 0
    assert out.exists() and (tmp_path / "run.png").stat().st_size > 10_000
    ds = read_netcdf(out)
    for name in ("W", "Wp", "Wa", "eig_F", "eig_Wp", "tau", "loss", "balance_residual", "status"):
        assert name in ds
    assert set(ds.coords) >= {"time", "mode", "i", "j"}
    cfg = Config.from_dataset(ds)
    assert (cfg.n1, cfg.n2, cfg.t_max, cfg.alpha_p, cfg.eta) == (4, 3, 20.0, 1.0, 0.01)
    assert ds.attrs["theory"].startswith("T1 T2 T3 T4")
    assert ds.attrs["rtol"] == 1e-8 and ds.attrs["dtype"] == "float64"
    assert ds.W.dtype == np.float64
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_config_file_with_flag_override(tmp_path):
    toml = tmp_path / "cfg.toml"
    toml.write_text('model = "modes"\nn1 = 3\nn2 = 3\np0 = [0.1, 0.5, 1.0]\ns0 = [0.01, 0.25, 1.0]\n'
                    't_max = 50.0\nn_save = 5\nbeta = 0.1\n')
    out = tmp_path / "modes.nc"
    assert main(["simulate", "--config", str(toml), "--beta", "0.7", "--p0", "0.2,0.5,1", "--out", str(out),
                 "--no-plot"]) == 0
    cfg = Config.from_dataset(read_netcdf(out))
    assert cfg.model == "modes" and cfg.beta == 0.7 and cfg.p0 == (0.2, 0.5, 1.0)


@pytest.mark.parametrize(
    "argv, field",
    [
        (["--beta", "-1"], "beta"),
        (["--sigma2", "-0.5"], "sigma2"),
        (["--alpha-p", "0"], "alpha_p"),
        (["--n1", "0"], "n1"),
        (["--model", "modes", "--n1", "2", "--n2", "3"], "n2"),
    ],
)
def test_bad_flag_exits_2_naming_the_field_and_writes_nothing(tmp_path, capsys, argv, field):
    code = main(["simulate", *argv, "--out", str(tmp_path / "x.nc")])
    assert code == 2
    assert f"{field} = " in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_unknown_key_in_config_file_exits_2(tmp_path, capsys):
    toml = tmp_path / "cfg.toml"
    toml.write_text("n1 = 4\nbeeta = 0.3\n")
    assert main(["simulate", "--config", str(toml), "--out", str(tmp_path / "x.nc")]) == 2
    assert "beeta" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


def test_console_script_exit_status_for_bad_input(tmp_path):
    """The installed entry point (python -m dynamics) exits 2 without a traceback."""
    proc = subprocess.run([sys.executable, "-m", "dynamics", "simulate", "--eta", "-1", "--out",
                           str(tmp_path / "x.nc")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "eta = -1.0: must be >= 0" in proc.stderr and "Traceback" not in proc.stderr


def test_divergent_run_exits_1_and_plot_is_marked(tmp_path):
    np.savetxt(tmp_path / "W0.txt", np.eye(2))
    np.savetxt(tmp_path / "Wp0.txt", 3 * np.eye(2))
    out = tmp_path / "div.nc"
    code = main(["simulate", "--n1", "2", "--n2", "2", "--target", "online", "--stop-gradient", "online",
                 "--init", "given", "--W0", str(tmp_path / "W0.txt"), "--Wp0", str(tmp_path / "Wp0.txt"),
                 "--eta", "0", "--t-max", "50", "--n-save", "51", "--out", str(out)])
    assert code == 1
    ds = read_netcdf(out)
    assert ds.attrs["status_name"] == "diverged"
    assert (tmp_path / "div.png").exists()
