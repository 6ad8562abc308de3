"""Ctrl-C during `%assistant run` as a notebook user gives it: a real SIGINT to a real kernel, on both
back ends, while the kernel polls a slow run (--no-stream) and while it reads a run's stream.

Each case asserts that the cell ends soon after (waiting for the kernel's reply, not sleeping), that
the run is cancelled on the server and the server answers nothing any more, that the text that
arrived is kept, and that the kernel runs the next cell. The kernel and the helpers are those of
`tests/helpers/kernels.py`, over a sandbox of this module whose runs are slow.
"""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from oai_magics.sandbox import Sandbox, start

from tests.helpers.kernels import (PROMPT, STOPS_WITHIN, TOKEN_DELAY, Kernel, assert_connection_closed,
                                      assert_kernel_usable, full_reply, interrupt, shown)
from tests.helpers.sandboxes import Server

pytestmark = pytest.mark.timeout(120)

RUN_DELAY = 20  # seconds a run of this sandbox spends queued, then in progress, unless cancelled
BACKENDS = ("assistants", "responses")
POLLS = 8  # requests while polling before the interrupt: the waits between polls have grown to a second


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Slow runs and slow streams, so that an interrupt lands while the kernel waits for either."""
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), token_delay=TOKEN_DELAY, run_delay=RUN_DELAY) as running:
        yield running


def shows(kernel: Kernel, text: str) -> Callable[[str], None]:
    """Wait (bounded) until the cell has displayed `text`: the reply has begun to stream."""
    def wait(msg_id: str) -> None:
        while True:
            message = kernel.client.get_iopub_msg(timeout=30)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            content = message["content"]
            if text in content.get("text", "") + content.get("data", {}).get("text/markdown", ""):
                return

    return wait


def polling(kernel: Kernel, server: Server) -> Callable[[str], None]:
    """Wait (bounded) until the run was created and then read back a few times: the kernel now
    spends most of its time between polls, up to a second each."""
    def wait(msg_id: str) -> None:
        kernel.first_output(msg_id)  # the first status line: the run exists
        server.traffic(wait=30, until=str(len(server.seen()) + POLLS))

    return wait


def server_status(server: Server, api: str, thread_id: str, run_id: str) -> str:
    """The run's status as the server itself reports it."""
    path = f"/threads/{thread_id}/runs/{run_id}" if api == "assistants" else f"/responses/{run_id}"
    return server.api("GET", path)["status"]


def assert_cancelled(kernel: Kernel, server: Server, reply: dict, took: float, api: str) -> None:
    assert took < STOPS_WITHIN, took
    assert reply["status"] == "ok", reply  # the interrupt ends the run, not the cell with a traceback
    text = shown(reply)
    assert "interrupted: run" in text and "cancelled on the server" in text, text
    assert_connection_closed(server)
    thread_id, run_id = kernel.value("(result.thread_id, result.run_id)")
    assert server_status(server, api, thread_id, run_id) in ("cancelling", "cancelled")
    assert kernel.value("result.status") in ("cancelling", "cancelled")


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, kernel: Kernel) -> str:
    """A back end with an assistant named `slowpoke` on it, and no earlier result in the kernel."""
    setup = kernel.run(f"%assistant create slowpoke --model gpt-4o-mini --api {request.param}\nresult = None")
    assert setup["status"] == "ok", setup
    return request.param


def test_ctrl_c_while_polling_a_slow_run(kernel: Kernel, server: Server, api: str) -> None:
    reply, took = interrupt(kernel, f"%assistant run slowpoke --api {api} --no-stream -o result {PROMPT}",
                            polling(kernel, server))
    assert_cancelled(kernel, server, reply, took, api)
    assert kernel.value("result.text") == ""  # nothing had arrived: nothing made up
    assert_kernel_usable(kernel)


def test_ctrl_c_during_a_streamed_run(kernel: Kernel, server: Server, api: str) -> None:
    reply, took = interrupt(kernel, f"%assistant run slowpoke --api {api} -o result {PROMPT}",
                            shows(kernel, "sandbox"))
    assert_cancelled(kernel, server, reply, took, api)
    partial, full = kernel.value("result.text"), full_reply(server)
    assert partial and full.startswith(partial) and len(partial) < len(full), (partial, full)
    assert f"{len(partial)} characters of the reply kept" in shown(reply)
    assert_kernel_usable(kernel)


def test_ctrl_c_closes_the_stream_even_when_the_cancel_fails(kernel: Kernel, server: Server, api: str) -> None:
    # The server refuses the cancel, so only the kernel letting go of the connection ends the stream.
    cancels = "/v1/threads/" if api == "assistants" else "/v1/responses/"  # the only POSTs there once it streams

    def refuse_cancels(msg_id: str) -> None:
        shows(kernel, "sandbox")(msg_id)
        server.arm(path=cancels, method="POST", status=400, message="No cancelling today.", count=10)

    reply, took = interrupt(kernel, f"%assistant run slowpoke --api {api} -o result {PROMPT}", refuse_cancels)
    assert took < STOPS_WITHIN, took
    assert reply["status"] == "ok" and "the server did not cancel run" in shown(reply), shown(reply)
    assert_connection_closed(server)
    partial, full = kernel.value("result.text"), full_reply(server)
    assert partial and full.startswith(partial) and len(partial) < len(full), (partial, full)
    assert_kernel_usable(kernel)
