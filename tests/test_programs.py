"""Stored solve programs (`jax.export`, `dynamics.integrate._programs`): a solve through a stored program
gives the traced solve's result, is reused by a new process without tracing (diffrax is not even
imported), gets a new program when anything static changes, survives a damaged file, and is refused where
its key could not name the program.

Tolerance: the stored program is the same StableHLO, compiled inside a wrapper, so XLA may fuse it
differently; results agree to the last few bits (rtol 1e-12, 4 orders below the solver's rtol 1e-8), with
the same accepted steps and status.
"""

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics import Config
import importlib

cli_main = importlib.import_module("dynamics.cli._main")
from dynamics.cli._cache import program_cache_dir
from dynamics.config import save_times
from dynamics.flows import byol_flow, flow_args, initial_state
from dynamics.integrate import solve
from dynamics.integrate import _programs
from dynamics.integrate._programs import PROGRAM_SUFFIX, program_key, program_path
from dynamics.results import read_netcdf

CONTROLS = tuple(jnp.asarray(v, jnp.float64) for v in (1e-8, 1e-10, 1e6))


def _problem(beta=0.4, n1=4):
    config = Config.from_dict(dict(n1=n1, n2=2, t_max=20.0, beta=beta, eta=0.01))
    return initial_state(config, np.float64), flow_args(config, np.float64), save_times(config)


def _same(a, b):
    assert int(a.status) == int(b.status) and int(a.num_steps) == int(b.num_steps)
    np.testing.assert_array_equal(np.asarray(a.reached), np.asarray(b.reached))
    for x, y in zip(jax.tree_util.tree_leaves(a.ys), jax.tree_util.tree_leaves(b.ys)):
        np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=1e-12, atol=1e-14)


def _key(y0, args, ts, fn=byol_flow, **kw):
    settings = dict(solver="tsit5", max_steps=200_000) | kw
    return program_key(fn, y0, args, jnp.asarray(ts), CONTROLS, **settings)


# A fresh interpreter: solve through the stored program with new values, report the result and whether
# diffrax was imported (JAX_COMPILATION_CACHE_DIR and EQX_ON_ERROR come from the test session).
REUSE = r"""
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np
from dynamics import Config
from dynamics.config import save_times
from dynamics.flows import byol_flow, flow_args, initial_state
from dynamics.integrate import solve
c = Config.from_dict(dict(n1=4, n2=2, t_max=20.0, beta=0.7, eta=0.01))
t = solve(byol_flow, initial_state(c, np.float64), flow_args(c, np.float64), save_times(c), program_cache=sys.argv[1])
print(json.dumps({"W": np.asarray(t.ys[0]).tolist(), "steps": int(t.num_steps), "diffrax": "diffrax" in sys.modules}))
"""


def test_a_stored_program_gives_the_traced_result_and_a_new_process_reuses_it_without_tracing(tmp_path):
    y0, args, ts = _problem()
    first = solve(byol_flow, y0, args, ts, program_cache=tmp_path)
    files = sorted(tmp_path.glob("*" + PROGRAM_SUFFIX))
    assert files == [program_path(tmp_path, _key(y0, args, ts))]
    _same(solve(byol_flow, y0, args, ts), first)

    proc = subprocess.run([sys.executable, "-c", REUSE, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["diffrax"] is False  # the program came from the file: nothing was traced
    assert sorted(tmp_path.glob("*" + PROGRAM_SUFFIX)) == files
    y0, args, ts = _problem(beta=0.7)
    expected = solve(byol_flow, y0, args, ts)
    assert out["steps"] == int(expected.num_steps)
    np.testing.assert_allclose(np.asarray(out["W"]), np.asarray(expected.ys[0]), rtol=1e-12, atol=1e-14)


def test_the_key_names_shapes_and_static_settings_not_values():
    y0, args, ts = _problem()
    key = _key(y0, args, ts)
    assert _key(*_problem(beta=0.9)) == key  # new values, same program
    assert key["function"] == "dynamics.flows._flow.byol_flow" or key["function"].endswith(".byol_flow")
    changed = [_key(*_problem(n1=5)), _key(y0, args, ts, max_steps=1000), _key(y0, args, ts, solver="dopri5"),
               _key(y0, args, ts[:-1]), _key(jax.tree_util.tree_map(lambda a: np.asarray(a, np.float32), y0), args, ts)]
    assert all(other != key for other in changed)
    with jax.enable_x64(False):
        assert _key(y0, args, ts)["float64"] is False
    assert len(key["source"]) == 64 and set(key["versions"]) >= {"jax", "jaxlib", "diffrax", "equinox"}


def _outside(t, y, args):  # a vector field outside the package: its code is not in the source digest
    return byol_flow(t, y, args)


def test_a_solve_the_key_cannot_name_is_refused(monkeypatch):
    y0, args, ts = _problem()
    scale = 1.0
    assert _key(y0, args, ts, fn=_outside) is None
    assert _key(y0, args, ts, fn=lambda t, y, a: jax.tree_util.tree_map(lambda v: scale * v, y)) is None
    seen = []
    jax.make_jaxpr(lambda y: seen.append(_key(y, args, ts)) or y)(y0)
    assert seen == [None]  # under a trace (jit, vmap): the arrays are tracers
    import equinox._errors as eqx_errors

    monkeypatch.setattr(eqx_errors, "EQX_ON_ERROR", "raise")  # host callbacks: jax.export refuses them
    assert _key(y0, args, ts) is None


def test_a_damaged_or_foreign_program_file_is_traced_again(tmp_path):
    y0, args, ts = _problem(beta=0.55)
    path = program_path(tmp_path, _key(y0, args, ts))
    path.write_bytes(b"not a program")
    _same(solve(byol_flow, y0, args, ts), solve(byol_flow, y0, args, ts, program_cache=tmp_path))
    assert path.read_bytes().startswith(_programs._MAGIC)
    good = path.read_bytes()
    foreign = good.replace(b'"solver":"tsit5"', b'"solver":"dopri8"', 1)  # same file name, another key
    assert foreign != good
    path.write_bytes(foreign)
    assert _programs._read(path, _programs._key_text(_key(y0, args, ts))) is None


def test_the_command_line_stores_programs_beside_its_compile_cache_and_matches_no_cache(tmp_path):
    flags = ["--n1", "4", "--n2", "2", "--t-max", "20", "--beta", "0.45", "--no-plot"]
    assert cli_main.main(["simulate", *flags, "--out", str(tmp_path / "a.nc")]) == 0
    assert cli_main.main(["--no-compile-cache", "simulate", *flags, "--out", str(tmp_path / "b.nc")]) == 0
    a, b = read_netcdf(tmp_path / "a.nc"), read_netcdf(tmp_path / "b.nc")
    assert a.attrs["num_steps"] == b.attrs["num_steps"]
    np.testing.assert_allclose(a["W"].values, b["W"].values, rtol=1e-12, atol=1e-14)
    folder = program_cache_dir(cli_main.build_parser().parse_args(["simulate"]))
    assert folder == type(folder)(jax.config.jax_compilation_cache_dir) / "programs"
    stored = [p.read_bytes() for p in folder.glob("*" + PROGRAM_SUFFIX)]
    assert any(b"byol_flow" in blob[:4000] for blob in stored)
    assert program_cache_dir(cli_main.build_parser().parse_args(["--no-compile-cache", "simulate"])) is None
