"""The sandbox as a program and as a thread: start-up line, signals, independence from the client."""

from __future__ import annotations

import ast
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import oai_magics.sandbox


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_command_line_prints_its_url_and_stops_on_a_signal(stop: int, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "oai_magics.sandbox", "--port", "0", "--data-dir", str(tmp_path),
                             "--api-key", "sk-cli"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:") and line.endswith("/v1")
        answer = requests.get(line + "/models", headers={"Authorization": "Bearer sk-cli"}, timeout=10)
        assert answer.status_code == 200
        proc.send_signal(stop)
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
    assert (tmp_path / "sandbox.sqlite3").exists()


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "oai_magics.sandbox", "--port", str(port)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and result.stderr.strip().startswith(f"cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_sandbox_imports_nothing_from_the_client() -> None:
    folder = Path(oai_magics.sandbox.__file__).parent
    for source in folder.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                ours = node.level > 0 or module.startswith("oai_magics")  # the mcp SDK's own client is no matter
                assert not (ours and "client" in module), f"{source.name} imports {module}"
            elif isinstance(node, ast.Import):
                assert not any("oai_magics" in alias.name for alias in node.names), source.name


def test_answers_are_not_held_back_by_nagles_algorithm() -> None:
    """Each connection the sandbox accepts has TCP_NODELAY set, so an answer's body does not wait
    for the ACK of its headers (about 40 ms per request on loopback otherwise)."""
    with oai_magics.sandbox.start() as sandbox:
        session = requests.Session()
        session.get(sandbox.base_url + "/models", headers={"Authorization": f"Bearer {sandbox.api_key}"}, timeout=10)
        connections = list(sandbox._server.server_state.connections)
        assert connections
        for protocol in connections:
            sock = protocol.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        session.close()


def test_a_running_sandbox_keeps_its_key_out_of_its_repr(sandbox: oai_magics.sandbox.Sandbox) -> None:
    assert sandbox.api_key and sandbox.api_key not in repr(sandbox) and sandbox.base_url in repr(sandbox)
