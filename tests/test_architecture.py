"""The package layout: layers import only from the layers before them, and no module imports in a circle.

Imports are read with :mod:`ast`, so imports inside functions count (a lazy import is still a
dependency); imports under ``if TYPE_CHECKING:`` do not (they never run). A subpackage's face
(its ``__init__``) may re-export its own modules; the loop test looks at modules, not faces.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import qalamoun_sim

ROOT = Path(qalamoun_sim.__file__).parent

#: The layers of README.md's Layout, in order; modules at the top level (errors, io, _version) come first (0),
#: the command line last.
LAYERS = {"scenario": 1, "network": 2, "environment": 3, "engine": 4, "ensemble": 5, "analysis": 6, "plotting": 7}
TOP = {"cli": 9, "__main__": 9, "__init__": 9}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return TOP["__init__"]
    if parts[1] in TOP:
        return TOP[parts[1]]
    return LAYERS.get(parts[1], 0)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The package modules an ``from ... import ...`` names (a name may itself be a module)."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target] + [f"{target}.{a.name}" for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (function-level imports count, TYPE_CHECKING does not)."""
    files = {module_name(f): f for f in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        tree = ast.parse(path.read_text())
        skip = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = _resolve(mod, path.name == "__init__.py", node)
            else:
                continue
            graph[mod] |= {t for t in targets if t in files and t != mod}
    return graph


GRAPH = import_graph()
FACES = {m for m in GRAPH if (ROOT.parent / m.replace(".", "/") / "__init__.py").exists()}


def test_every_layer_is_a_subpackage() -> None:
    assert {m.split(".")[1] for m in FACES if m.count(".") == 1} >= set(LAYERS)


def test_no_module_imports_from_a_later_layer() -> None:
    upward = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets if layer(b) > layer(a))
    assert not upward


def test_no_import_loops_among_modules() -> None:
    g = nx.DiGraph([(a, b) for a, targets in GRAPH.items() for b in targets if a not in FACES and b not in FACES])
    assert not [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]


def test_the_checker_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    """The graph counts an import inside a function and skips one under TYPE_CHECKING."""
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..engine import x\n"
                     "def f():\n    from ..analysis import y\n")
    skip = _type_checking_nodes(tree)
    seen = [t for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and id(n) not in skip
            for t in _resolve("qalamoun_sim.network.routes", False, n)]
    assert "qalamoun_sim.analysis" in seen and "qalamoun_sim.engine" not in seen


@pytest.mark.parametrize("heavy", ["pandas", "simpy", "matplotlib"])
@pytest.mark.parametrize("what", ["qalamoun_sim; qalamoun_sim.load_scenario", "qalamoun_sim.analysis.claim",
                                  "qalamoun_sim.cli"])
def test_the_package_and_the_claim_path_load_no_heavy_library(what: str, heavy: str) -> None:
    """``import qalamoun_sim`` and what ``claim`` needs stay light: faces import their modules on first use."""
    code = f"import sys, {what}; print({heavy!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("face", sorted(FACES))
def test_every_public_name_of_a_face_resolves(face: str) -> None:
    module = importlib.import_module(face)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{face}.{name}"
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert qalamoun_sim.__version__ == version("qalamoun-sim")
    out = subprocess.run([sys.executable, "-m", "qalamoun_sim", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and qalamoun_sim.__version__ in out.stdout


def test_reprs_are_short_and_say_what_they_hold() -> None:
    scn = qalamoun_sim.load_scenario()
    net = qalamoun_sim.RouteNetwork.from_scenario(scn)
    shares = qalamoun_sim.claim_shares(scn, 2, 1)
    for obj, words in ((net, ["37 routes", "arsal"]), (shares, ["replications=2", "arsal"])):
        text = repr(obj)
        assert len(text) < 300 and all(w in text for w in words), text
