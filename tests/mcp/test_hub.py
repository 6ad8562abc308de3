"""The hub against the tests' own MCP server, over stdio and over streamable HTTP: real processes,
real sockets, one background loop."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from oai_magics.mcp.hub import McpHub
from oai_magics.mcp.servers import McpError, ServerSpec
from tests.helpers.mcp_servers import TOOLBOX, http_toolbox
from tests.helpers.rawserver import answer

STDIO = (sys.executable, str(TOOLBOX))


@pytest.fixture
def hub() -> Iterator[McpHub]:
    running = McpHub()
    yield running
    running.close()


def test_tools_are_listed_with_their_read_only_hint(hub: McpHub) -> None:
    hub.add(ServerSpec("box", command=STDIO))
    tools = {t.name: t for t in hub.tools("box")}
    assert {"add", "shout", "fail", "crash", "hang", "process_id"} <= set(tools)
    assert tools["add"].read_only and not tools["shout"].read_only
    assert tools["add"].input_schema["properties"].keys() == {"a", "b"} and tools["add"].description == "Add two whole numbers."


def test_a_call_over_stdio_and_over_http(hub: McpHub) -> None:
    hub.add(ServerSpec("box", command=STDIO))
    assert hub.call("box", "add", {"a": 2, "b": 40}).text == "42"
    with http_toolbox() as url:
        hub.add(ServerSpec("web", url=url))
        outcome = hub.call("web", "shout", {"text": "over http"})
    assert outcome.text == "OVER HTTP" and not outcome.is_error


def test_a_tool_error_is_its_text(hub: McpHub) -> None:
    hub.add(ServerSpec("box", command=STDIO))
    outcome = hub.call("box", "fail", {"reason": "no such table"})
    assert outcome.is_error and "refused: no such table" in outcome.text


def test_a_server_that_dies_mid_call_is_one_line_with_its_stderr_and_starts_again(hub: McpHub) -> None:
    hub.add(ServerSpec("box", command=STDIO))
    with pytest.raises(McpError) as caught:
        hub.call("box", "crash", {"note": "disk on fire"})
    line = caught.value.line()
    assert "'box'" in line and "calling crash" in line and "toolbox crashing: disk on fire" in line and "\n" not in line
    assert hub.call("box", "add", {"a": 1, "b": 1}).text == "2"  # the next use starts it afresh


def test_a_server_that_ended_while_idle_is_started_afresh_for_the_next_call(hub: McpHub) -> None:
    from oai_magics.mcp.hub import _ended

    hub.add(ServerSpec("box", command=STDIO))
    pid = int(hub.call("box", "process_id", {}).text)
    os.kill(pid, signal.SIGKILL)  # killed (out of memory, by hand) between two calls
    deadline = time.monotonic() + 10
    while not _ended(hub._live["box"]) and time.monotonic() < deadline:
        time.sleep(0.05)  # the hub's loop reads the end of its stdout: no event of it reaches this thread
    assert hub.call("box", "add", {"a": 1, "b": 2}).text == "3"  # not one failed call first
    assert int(hub.call("box", "process_id", {}).text) != pid


def test_a_server_that_hangs_is_bounded_by_its_timeout(hub: McpHub) -> None:
    hub.add(ServerSpec("box", command=STDIO, timeout=1.5))
    hub.tools("box")  # started within the limit first: what is bounded below is the call
    with pytest.raises(McpError, match=r"did not answer within 1.5 s \(calling hang\)"):
        hub.call("box", "hang", {"note": "x"})
    assert hub.call("box", "add", {"a": 1, "b": 2}).text == "3"  # the server still serves other calls


def test_ctrl_c_stops_waiting_for_a_call(hub: McpHub, tmp_path: Path) -> None:
    fifo = tmp_path / "called"
    os.mkfifo(fifo)

    def interrupt_once_called() -> None:
        with open(fifo) as pipe:  # opens when the tool does, and reads what it writes: the call has arrived
            pipe.read()
        os.kill(os.getpid(), signal.SIGINT)

    hub.add(ServerSpec("box", command=STDIO, timeout=60))
    hub.tools("box")
    threading.Thread(target=interrupt_once_called, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        hub.call("box", "signal_then_hang", {"fifo": str(fifo)})
    assert hub.call("box", "add", {"a": 2, "b": 2}).text == "4"  # the hung call was given up, the server serves on


def test_ctrl_c_while_a_server_hangs_at_start_stops_it(hub: McpHub, tmp_path: Path) -> None:
    fifo = tmp_path / "pid"
    os.mkfifo(fifo)
    pids: list[int] = []

    def interrupt_once_running() -> None:
        with open(fifo) as pipe:  # the would-be server writes its pid here, then never speaks MCP
            pids.append(int(pipe.read()))
        os.kill(os.getpid(), signal.SIGINT)

    mute = f"import os, threading; open({str(fifo)!r}, 'w').write(str(os.getpid())); threading.Event().wait()"
    hub.add(ServerSpec("mute", command=(sys.executable, "-c", mute)))
    threading.Thread(target=interrupt_once_running, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        hub.tools("mute")
    with pytest.raises(ProcessLookupError):  # the handshake was given up and the process stopped
        os.kill(pids[0], 0)


def test_a_command_that_is_no_server_is_one_line(hub: McpHub) -> None:
    hub.add(ServerSpec("bad", command=(sys.executable, "-c", "import sys; print('no', 'MCP', 'here', file=sys.stderr)")))
    with pytest.raises(McpError) as caught:
        hub.tools("bad")
    assert "could not start" in caught.value.line() and "it wrote: no MCP here" in caught.value.line()


def test_a_command_that_prints_no_mcp_on_stdout_is_quoted_in_one_line_not_a_traceback(
        hub: McpHub, capfd: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # no logging set up, as in a fresh kernel (pytest sets some)
    noisy = "import time; print('Welcome to my tool!', flush=True); time.sleep(0.5)"  # then ends, never speaking MCP
    hub.add(ServerSpec("noisy", command=(sys.executable, "-c", noisy)))
    with pytest.raises(McpError) as caught:
        hub.tools("noisy")
    assert "could not start" in caught.value.line() and "not MCP: 'Welcome to my tool!'" in caught.value.line()
    assert capfd.readouterr().err == ""  # the SDK's log of it is kept for the line, not written as a traceback


@pytest.mark.parametrize(("status", "body", "kind", "said"), [
    ("401 Unauthorized", b'{"error": "unauthorized"}', b"application/json", "HTTP 401 Unauthorized"),
    ("200 OK", b"<html>Sign in</html>", b"text/html", "Unexpected content type: text/html"),
])
def test_a_url_that_refuses_or_answers_html_says_so_in_one_line_without_its_token(
        hub: McpHub, serve: Any, status: str, body: bytes, kind: bytes, said: str) -> None:
    server = serve(answer(body, status, b"Content-Type: " + kind + b"\r\n"))
    hub.add(ServerSpec("web", url=f"http://me:tok-in-url@127.0.0.1:{server.port}/mcp", headers={"Authorization": "tok-typed"}))
    with pytest.raises(McpError) as caught:
        hub.tools("web")
    line = caught.value.line()
    assert "could not start" in line and said in line and line.count(said) == 1
    assert "tok-in-url" not in line and "tok-typed" not in line


def test_remove_stops_the_process(hub: McpHub) -> None:
    hub.add(ServerSpec("box", command=STDIO))
    pid = int(hub.call("box", "process_id", {}).text)
    os.kill(pid, 0)  # running
    assert hub.remove("box") and not hub.remove("box")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(McpError, match="no MCP server named 'box'"):
        hub.tools("box")


def test_header_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from oai_magics.mcp.servers import resolved_headers

    monkeypatch.setenv("TOOLBOX_TOKEN", "tok-123")
    assert resolved_headers({"Authorization": "$TOOLBOX_TOKEN", "X-Plain": "v"}) == {"Authorization": "tok-123", "X-Plain": "v"}
    monkeypatch.delenv("TOOLBOX_TOKEN")
    with pytest.raises(McpError, match=r"names \$TOOLBOX_TOKEN, which is not set"):
        resolved_headers({"Authorization": "$TOOLBOX_TOKEN"})


def test_a_token_in_a_header_or_the_url_is_never_shown() -> None:
    spec = ServerSpec("web", url="https://user:tok-in-url@mcp.example/mcp", headers={"Authorization": "Bearer tok-typed"})
    assert "tok-typed" not in repr(spec) and "tok-in-url" not in repr(spec) and "mcp.example" in repr(spec)
    assert spec.where == "https://***@mcp.example/mcp"


def test_the_servers_stop_when_the_interpreter_ends(tmp_path: Path) -> None:
    script = (f"from oai_magics.mcp.hub import McpHub\nfrom oai_magics.mcp.servers import ServerSpec\n"
              f"hub = McpHub()\nhub.add(ServerSpec('box', command={STDIO!r}))\n"
              f"print(hub.call('box', 'process_id', {{}}).text, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    pid = int(done.stdout.strip())
    with pytest.raises(ProcessLookupError):  # stopped (and reaped) at exit, not left behind
        os.kill(pid, 0)
