"""The shape of the package: no import circles, imports only down the layers, every module importable
on its own, none over 400 lines.

Layers, bottom to top (a module may import its own part of the package and any lower layer):

    0  `_version`          the version string; imports nothing of ours, so anything may take it
    0  `local_errors`      the base of the errors oai_magics raises itself; imports nothing of ours,
                           so every layer may raise them
    1  `client`            the request layer
    1  `sandbox`           the embedded server; beside `client`, and neither imports the other (a bug
                           shared by both would hide itself)
    2  everything else     assistants, jobs, embeddings, display, frames, tools, chat memory, mcp, ...:
                           the middle layer, whose parts may use one another (without circles)
    3  `widgets`
    4  `magics`
    5  the package root and `demo`   entry points: `oai_magics/__init__.py` holds the extension hooks,
                           which load `magics`, and lazy exports of `client`; `demo.py` runs notebooks
                           in kernels. Nothing of ours may import them.

The graph is read from the source (`tests.helpers.import_graph`): imports inside functions and under
`if TYPE_CHECKING:` count, since both are a dependency on the module named. A module's `__main__`
(it runs a program when imported) is left out of the import-alone check only.

The tests have a rule of their own: no test module imports another; what tests share lives in
tests/helpers/ and its fixtures come through conftest.py.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.import_graph import ROOT, circles, import_graph, module_files

MAX_LINES = 400
MID = 2
LAYERS = {"_version": 0, "local_errors": 0, "client": 1, "sandbox": 1, "widgets": 3, "magics": 4, "": 5, "demo": 5}

FILES = module_files()
GRAPH = import_graph()


def unit(module: str) -> str:
    """The part of the package a module belongs to: "client", "magics", "tools", "" for the root."""
    return module.split(".")[1] if "." in module else ""


def layer(module: str) -> int:
    return LAYERS.get(unit(module), MID)


def may_import(module: str, target: str) -> bool:
    same_part = unit(module) == unit(target)
    return same_part or layer(target) < layer(module) or layer(target) == layer(module) == MID


def test_no_import_circle() -> None:
    found = circles(GRAPH)
    assert not found, "modules that import one another round a circle: " + "; ".join(
        " <-> ".join(sorted(circle)) for circle in found)


@pytest.mark.parametrize("module", sorted(FILES))
def test_imports_only_its_own_part_and_lower_layers(module: str) -> None:
    upward = sorted(target for target in GRAPH[module] if not may_import(module, target))
    assert not upward, f"{module} (layer {layer(module)}) imports " + ", ".join(
        f"{target} (layer {layer(target)})" for target in upward)


@pytest.fixture(scope="module")
def imported_alone() -> dict[str, str]:
    """{module: "" or why it failed}, each module imported first in a process of its own."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    modules = [module for module in FILES if not module.endswith(".__main__")]
    done = subprocess.run([sys.executable, "-m", "tests.helpers.import_alone", *modules], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", sorted(m for m in FILES if not m.endswith(".__main__")))
def test_imports_on_its_own_in_a_fresh_interpreter(module: str, imported_alone: dict[str, str]) -> None:
    assert imported_alone[module] == "", f"python -c 'import {module}': {imported_alone[module]}"


@pytest.mark.parametrize("module", sorted(FILES))
def test_no_module_over_400_lines(module: str) -> None:
    lines = len(FILES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{Path(FILES[module]).relative_to(ROOT)}: {lines} lines (split it by job)"


def test_no_test_module_imports_another() -> None:
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                named = [node.module or ""] + [f"{node.module or ''}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                continue
            if any(name.rpartition(".")[2].startswith("test_") for name in named):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "a test module imported by another (move what they share to tests/helpers/): " + ", ".join(found)
