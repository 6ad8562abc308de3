"""A JupyterLab server and Debian's Chromium for browser tests, isolated from the user's home.

The server listens on loopback with a random port and token, keeps every Jupyter, IPython and
matplotlib file under one scratch folder, and is stopped by process id together with its kernels.
Chromium is the system one (`/usr/bin/chromium`), driven by Playwright without a browser download;
every request that leaves the loopback interface is aborted and recorded (CI has no internet, and a
request that hangs would stall the page load).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"  # screenshots, for a person to look at
# The mark of every browser test module: without Chromium a test is skipped here, and fails in CI.
NEEDS_CHROMIUM = pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                    reason=f"{CHROMIUM} is missing (apt-get install -y chromium); in CI this fails instead")
NON_LOOPBACK = re.compile(r"^(https?)://(?!127\.0\.0\.1[:/])")
ISOLATED_DIRS = {"JUPYTER_CONFIG_DIR": "jupyter-config", "JUPYTER_DATA_DIR": "jupyter-data",
                 "JUPYTER_RUNTIME_DIR": "jupyter-runtime", "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "mpl"}


@dataclass
class Lab:
    """A running JupyterLab: its URL, token, notebook folder and log."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen
    _log_file: IO[bytes] = field(repr=False)

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(base: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the server (and so its kernels): nothing written under $HOME, and no
    stale user kernelspec taking the place of this virtualenv's."""
    env = dict(os.environ)
    for variable, name in ISOLATED_DIRS.items():
        (base / name).mkdir(parents=True, exist_ok=True)
        env[variable] = str(base / name)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("JUPYTER_TOKEN", None)
    env.update(extra or {})
    return env


def write_lab_settings(settings: Path) -> None:
    """Answer the news toast in advance: `news_url=None` alone does not stop it covering the page."""
    folder = settings / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def start_lab(base: Path, root: Path, env: dict[str, str], timeout: float = 90.0) -> Lab:
    """Start JupyterLab from this interpreter and wait until its API answers."""
    write_lab_settings(base / "settings")
    port, token = free_port(), secrets.token_hex(24)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--allow-root",  # CI runs as root; without it the server exits at once
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.workspaces_dir={base / 'workspaces'}", f"--LabApp.user_settings_dir={base / 'settings'}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    log = base / "lab.log"
    log_file = open(log, "wb")
    # Its own session: a Ctrl-C meant for pytest does not reach the server half-way through a test.
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log, process, log_file)
    try:
        _wait_ready(lab, timeout)
    except BaseException:
        stop_lab(lab)
        raise
    return lab


KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@contextlib.contextmanager
def lab_with(base: Path, notebooks: dict[str, list[str]], env: dict[str, str]) -> Iterator[Lab]:
    """A JupyterLab serving `notebooks` (file name -> the sources of its code cells) from a folder
    under `base`, its kernels given `env` beside the isolated folders; stopped afterwards. The
    kernels find a sandbox through `env`: a key is never written into a notebook."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    root = base / "notebooks"
    root.mkdir()
    for name, cells in notebooks.items():
        notebook = new_notebook(cells=[new_code_cell(source) for source in cells], metadata={"kernelspec": KERNELSPEC})
        nbformat.write(notebook, root / name)
    running = start_lab(base, root, isolated_env(base, env))
    try:
        yield running
    finally:
        stop_lab(running)


def _wait_ready(lab: Lab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(f"{lab.url}/api/status", headers={"Authorization": f"token {lab.token}"})
    last: Exception | None = None
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {lab.process.returncode}:\n{lab.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError as error:
            last = error
        time.sleep(0.2)  # polling a server that has no readiness event to wait on
    raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s ({last}):\n{lab.log_tail()}")


def stop_lab(lab: Lab, grace: float = 15.0) -> list[int]:
    """Stop the server and its kernels by process id; the ids that had to be killed.

    Kernels run in sessions of their own, so they are not in the server's process group: note them
    first, let the server shut them down, then kill any that are left.
    """
    import psutil

    try:
        children = psutil.Process(lab.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if lab.process.poll() is None:
        lab.process.send_signal(signal.SIGTERM)
        try:
            lab.process.wait(grace)
        except subprocess.TimeoutExpired:
            lab.process.kill()
            lab.process.wait(5)
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    lab._log_file.close()
    return [child.pid for child in alive]


def playwright_expect() -> Any:
    """Playwright's `expect` (the module is skipped without Playwright), waiting up to 60 s: its own
    5 s default, which set_default_timeout() leaves alone, is short for a kernel on a busy machine."""
    expect = pytest.importorskip("playwright.sync_api").expect
    expect.set_options(timeout=60_000)
    return expect


def launch_chromium(playwright: Any, profile: Path) -> Any:
    """Debian's Chromium with a fresh profile; its crash reports and caches stay beside the profile."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(profile.with_name(profile.name + "-config")),
               XDG_CACHE_HOME=str(profile.with_name(profile.name + "-cache")))
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, env=env, headless=True, viewport={"width": 1280, "height": 1400},
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"])


def block_external(context: Any) -> list[str]:
    """Abort every request that leaves loopback; the list they are recorded in."""
    blocked: list[str] = []

    def abort(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort()

    context.route(NON_LOOPBACK, abort)
    return blocked
