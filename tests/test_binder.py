"""Binder, as far as this machine allows without repo2docker: a fresh virtual environment holding
what repo2docker's base image gives (JupyterLab and a kernel), then `binder/postBuild` run from a copy
of the repository, as repo2docker runs it. The notebooks must run there with no key, and the widgets'
front end must be present for the notebook server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.helpers.standalone import tracked_files

ROOT = Path(__file__).resolve().parents[1]
# What repo2docker's Python base environment provides before postBuild runs.
BASE_IMAGE = ["jupyterlab>=4", "ipykernel>=6.29"]


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the environment's prefix, the repository copy it was built from)."""
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    for path in tracked_files():
        target = repo / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    prefix = base / "env"
    venv.EnvBuilder(with_pip=True).create(prefix)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PATH": f"{prefix / 'bin'}:{os.environ['PATH']}",
           "NB_PYTHON_PREFIX": str(prefix), "KERNEL_PYTHON_PREFIX": str(prefix)}
    env.pop("PYTHONPATH", None)
    subprocess.run([str(prefix / "bin" / "python"), "-m", "pip", "install", "-q", *BASE_IMAGE], env=env, check=True,
                   timeout=900)
    subprocess.run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=env, check=True, timeout=900)
    return prefix, repo


def test_the_runtime_is_the_python_the_package_supports() -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}"


def test_the_widgets_front_end_is_there_for_the_server(binder_env: tuple[Path, Path]) -> None:
    prefix, _ = binder_env
    listed = subprocess.run([str(prefix / "bin" / "jupyter"), "labextension", "list"], capture_output=True, text=True,
                            timeout=120)
    text = listed.stdout + listed.stderr
    assert "@jupyter-widgets/jupyterlab-manager" in text and "enabled" in text and "OK" in text


def test_every_notebook_runs_there_with_no_key(binder_env: tuple[Path, Path], tmp_path: Path) -> None:
    prefix, repo = binder_env
    env = {key: value for key, value in os.environ.items() if key not in ("OPENAI_API_KEY", "PYTHONPATH")}
    env["PATH"] = f"{prefix / 'bin'}:{env['PATH']}"
    done = subprocess.run([str(prefix / "bin" / "python"), "-m", "oai_magics.demo", str(repo / "notebooks"),
                           "--out", str(tmp_path / "out")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    notebooks = sorted(p.name for p in (repo / "notebooks").glob("*.ipynb"))
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert f"{len(notebooks)} of {len(notebooks)} notebooks ran" in done.stdout
    imported = subprocess.run([str(prefix / "bin" / "python"), "-c", "import oai_magics; print(oai_magics.__file__)"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert str(prefix) in imported.stdout  # the package installed into the environment, not the test's own
