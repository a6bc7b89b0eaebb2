"""The package's layers run one way: no import cycle between modules or subpackages, every
subpackage imports alone, and modules stay short.

The walker reads the import statements of every module of `dynamics` with `ast` (those inside
functions too: a lazy import is still a dependency; those under `if TYPE_CHECKING:` are not, since
they never run), plus the lazy exports of a package `__init__` (a module-level dict whose string
values name its own submodules, resolved by `__getattr__`). The layer order is the one of issue 16:
config -> flows -> integrate -> results -> objectives -> stochastic -> simulate -> sweep -> plots,
checks, cli; each subpackage may import only subpackages below it.
"""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dynamics"

#: Each layer may import the layers before it (and itself); a subpackage listed in a later layer
#: never reaches one listed earlier back. Units are the top-level subpackages and modules of
#: `dynamics` (`_simulate` is the `simulate` layer, `__init__` the package's public face).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version",),
    ("config", "theory"),
    ("flows",),
    ("integrate",),
    ("results",),
    ("objectives", "symbolic"),
    ("stochastic", "issl"),
    ("_sampled",),
    ("_simulate",),
    ("sweep",),
    ("__init__",),
    ("plots", "bridge"),
    ("compare", "checks"),
    ("cli",),
    ("__main__",),
)

#: Modules may be longer than MAX_LINES only when listed here and when their docstring says why
#: (a paragraph starting "Length:").
MAX_LINES = 400
LONG_MODULES = {
    "dynamics/checks/_claims_tcg21.py",   # one claim module per paper
    "dynamics/config/_config.py",         # `Config`: every field and its check in one class
    "dynamics/bridge/_config.py",         # `TrainConfig`: likewise
    "dynamics/plots/_phase.py",           # phase diagrams: shared axis handling of the map kinds
    "dynamics/plots/_portrait.py",        # phase portraits: one set of axes
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of `dynamics` that module `name` imports (at any depth of its code)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()

    def resolve(target: str) -> None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target:
            found.add(target)
            # importing a module of another subpackage runs that subpackage's __init__ first
            common = os.path.commonprefix([name.split("."), target.split(".")])
            for depth in range(len(common) + 1, len(target.split("."))):
                found.add(".".join(target.split(".")[:depth]))

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "dynamics":
                    resolve(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] == "dynamics":
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    resolve(full if full in modules else source)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    if path.name == "__init__.py":  # lazy exports: {"name": "_module"} resolved by __getattr__
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
                for value in node.value.values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        target = f"{name}.{value.value.lstrip('.')}"
                        if target in modules:
                            found.add(target)
    found.discard(name)
    return found


@functools.lru_cache(maxsize=None)
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _unit(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_walker_sees_lazy_and_in_function_imports():
    # negative control: the walker must see an import inside a function and a lazy export
    graph = _graph()
    assert "dynamics.cli._check_cmd" in graph and "dynamics.checks" in graph["dynamics.cli._check_cmd"]
    assert "dynamics.bridge._train" in graph["dynamics.bridge"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_modules():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (modules that import each other, lazily or not):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_no_import_cycle_between_subpackages_and_layers_run_one_way():
    rank = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
    graph = _graph()
    units = {_unit(m) for m in graph}
    assert units <= set(rank), f"subpackages missing from LAYERS: {sorted(units - set(rank))}"
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                    if _unit(t) != _unit(m) and rank[_unit(t)] >= rank[_unit(m)])
    assert not upward, "imports that run up (or sideways) the layers:\n" + "\n".join(upward)
    collapsed = {u: {_unit(t) for m, ts in graph.items() if _unit(m) == u for t in ts} - {u} for u in units}
    assert not _cycles(collapsed)


#: Private modules of another subpackage that a module may still name, with the reason: the claims
#: call these modules' functions through the module so that their tests' negative controls can patch
#: a private helper (a truncated series, a probe) and see the claim fail.
PRIVATE_ALLOWED = {
    ("dynamics.checks._claims_rbr23", "dynamics.objectives._bessel"),
    ("dynamics.checks._claims_rbr23", "dynamics.objectives._entropy"),
    ("dynamics.checks._claims_rbr23", "dynamics.objectives._reconstruction"),
    ("dynamics.checks._claims_dhel22", "dynamics.issl._diagnostics"),
    ("dynamics.checks._claims_dhel22", "dynamics.issl._risk"),
    ("dynamics.checks._claims_dhel22", "dynamics.issl._train"),
}


def test_no_private_module_of_another_subpackage_is_imported():
    # a subpackage's private modules are its own; others use what its __init__ exports
    graph = _graph()
    private = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                     if _unit(t) != _unit(m) and any(part.startswith("_") for part in t.split(".")[2:])
                     and (m, t) not in PRIVATE_ALLOWED)
    assert not private, "private modules imported across subpackages:\n" + "\n".join(private)


_ALONE = r"""
import importlib, sys, types, warnings
warnings.simplefilter("ignore")
root, names = sys.argv[1], sys.argv[2:]
failed = []
for name in names:
    for key in [k for k in sys.modules if k == "dynamics" or k.startswith("dynamics.")]:
        del sys.modules[key]
    if name != "dynamics":  # the package's face is not run: `name` is the first module of dynamics to load
        face = types.ModuleType("dynamics")
        face.__path__ = [root + "/dynamics"]
        sys.modules["dynamics"] = face
    try:
        importlib.import_module(name)
    except Exception as err:
        failed.append(f"{name}: {type(err).__name__}: {err}")
print("\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_subpackage_imports_alone_in_a_fresh_interpreter():
    # one fresh interpreter; before each import every `dynamics` module is dropped and the package's
    # __init__ is skipped, so each subpackage is the first of the package to load; then the package
    names = sorted({".".join(m.split(".")[:2]) for m in _modules()} - {"dynamics", "dynamics.__main__"})
    names += ["dynamics", "dynamics.cli", "dynamics.checks"]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", _ALONE, str(ROOT), *names], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]


def test_no_module_over_400_lines_without_a_reason_in_its_docstring():
    lines = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    long = {p for p, n in lines.items() if n > MAX_LINES}
    assert long <= LONG_MODULES, f"modules over {MAX_LINES} lines: {sorted((p, lines[p]) for p in long - LONG_MODULES)}"
    for path in sorted(LONG_MODULES):
        doc = ast.get_docstring(ast.parse((ROOT / path).read_text())) or ""
        assert "\nLength: " in doc, f"{path} ({lines[path]} lines) gives no reason for its length in its docstring"
