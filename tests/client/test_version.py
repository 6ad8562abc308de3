"""The version has one home, `oai_magics/_version.py`: the package root, the User-Agent and the
packaging metadata all read it, and the client reaches no module above it to do so."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

from setuptools.config.expand import read_attr

import oai_magics
from oai_magics import _version
from oai_magics.client import Client

ROOT = Path(oai_magics.__file__).parent


def test_the_package_root_and_the_user_agent_give_the_one_version(client: Client, recorder: Any) -> None:
    client.models.list()
    assert oai_magics.__version__ == _version.__version__
    assert recorder.last.headers["User-Agent"] == f"oai-magics/{_version.__version__} (python-requests)"


def test_packaging_reads_the_version_from_its_home() -> None:
    pyproject = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "oai_magics._version.__version__"
    assert read_attr(attr, root_dir=ROOT.parent) == oai_magics.__version__  # as setuptools reads it, unimported


def _imported(path: Path) -> set[str]:
    """The modules `path` imports, relative ones resolved against its package."""
    package = path.relative_to(ROOT.parent).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *(node.module.split(".") if node.module else ())))
            names.update([module] if node.module else [f"{module}.{alias.name}" for alias in node.names])
    return names


def test_the_client_imports_nothing_of_ours_outside_itself_but_the_version() -> None:
    upward = {}
    for path in sorted((ROOT / "client").rglob("*.py")):
        ours = {name for name in _imported(path) if name == "oai_magics" or name.startswith("oai_magics.")}
        outside = {name for name in ours if not name.startswith("oai_magics.client")} - {"oai_magics._version"}
        if outside:
            upward[str(path.relative_to(ROOT))] = sorted(outside)
    assert upward == {}
