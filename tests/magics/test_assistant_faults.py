"""The fault matrix for `%assistant run`, streamed and polled, on the back ends with server-side runs: the rows beyond
the generic matrix (`tests/reliability/test_fault_matrix.py`, which breaks the request that starts
the run): faults on the requests that read a polled run back, a stream dropped mid-reply, a run
slower than `OAIMagics.run_timeout`, and what a failed start leaves on the thread.

Each injected fault must end either recovered (the run completes) or with one UsageError line that
says what failed and what was kept; never a hang (pytest-timeout bounds each case), never a
traceback wall. A stream that breaks after the run exists is resumed by polling the run, which goes
on at the server; that polling gives up after `OAIMagics.run_timeout` seconds.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from IPython.core.error import UsageError

from oai_magics.assistants import BACKENDS

from .conftest import run

pytestmark = pytest.mark.timeout(60)

# The back ends whose runs go on at the server; the chat back end's rows are in test_assistant_chat.py.
BACKENDS = ["assistants", "responses"]


def run_path(api: str, thread_id: str) -> str:
    """The request that starts (or, with GET, reads) a run on this back end."""
    return f"/v1/threads/{thread_id}/runs" if api == "assistants" else "/v1/responses"


@pytest.fixture
def ready(shell: Any, request: pytest.FixtureRequest) -> tuple[str, str]:
    """(api, thread id): an assistant named `steady` and a thread with one message waiting."""
    api = request.param
    run(shell, "assistant", f"create steady --model gpt-4o-mini --api {api}")
    run(shell, "assistant", f"threads new --message 'Tell me about the Douro valley' --api {api} -o thread")
    return api, shell.user_ns["thread"]["id"]


def start(shell: Any, api: str, thread_id: str, polled: bool) -> tuple[Any, str]:
    _, out = run(shell, "assistant", f"run steady --thread {thread_id} --api {api}" + (" --no-stream" if polled else ""))
    return shell.user_ns["_"], out.stdout


@pytest.mark.parametrize("ready", BACKENDS, indirect=True)
@pytest.mark.parametrize("polled", [False, True], ids=["streamed", "polled"])
def test_5xx_burst_beyond_the_retries_is_one_line(shell: Any, faults: Any, ready: tuple, polled: bool) -> None:
    api, thread_id = ready
    faults(path=run_path(api, thread_id), method="POST", status=503, retry_after=0, count=10)
    with pytest.raises(UsageError) as caught:
        start(shell, api, thread_id, polled)
    line = str(caught.value)
    assert "\n" not in line and "503" in line and "InternalServerError" in line and f"[thread {thread_id}]" in line
    assert shell.user_ns["_"].thread_id == thread_id and shell.user_ns["_"].run_id is None
    messages, _ = run(shell, "assistant", f"messages {thread_id} --api {api}")
    assert list(messages["text"]) == ["Tell me about the Douro valley"]  # the thread is as it was


# Faults on the requests that read a polled run back: a GET can be sent again, so one fault is
# recovered; a burst outlasting the retries is one line naming the run, which goes on at the server.
POLL_FAULTS = [
    ("429 with Retry-After", {"status": 429, "retry_after": 0.05}, ()),
    ("5xx burst beyond the retries", {"status": 503, "retry_after": 0.01, "count": 50}, ("503",)),
    ("dropped before the response", {"lose_response": True}, ()),
    ("dropped mid-answer", {"drop": True}, ()),
    ("slower than the timeout", {"delay": 6}, ()),  # the shell's timeout is 2 s
    ("HTML 502 page from a proxy", {"status": 502, "html": True, "count": 50}, ("502", "Bad Gateway")),
]


@pytest.fixture
def short_timeout(shell: Any) -> None:
    """Requests of this shell wait two seconds for an answer (its client is made again to take it)."""
    run(shell, "config", "OAIMagics.timeout = 2.0")
    run(shell, "oai", "use test")


@pytest.mark.parametrize("ready", BACKENDS, indirect=True)
@pytest.mark.parametrize("fault, arm, words", POLL_FAULTS, ids=[f[0] for f in POLL_FAULTS])
def test_a_fault_while_polling(shell: Any, short_timeout: None, faults: Any, ready: tuple, fault: str, arm: dict,
                               words: tuple) -> None:
    api, thread_id = ready
    faults(path=run_path(api, thread_id) + ("/" if api == "assistants" else "/resp_"), method="GET", **arm)
    if not words:
        result, _ = start(shell, api, thread_id, polled=True)
        assert result.status == "completed" and result.text == stored_reply(shell, api, thread_id)
        usage, _ = run(shell, "oai", "usage")
        assert usage["retries"].sum() == 1  # the broken poll was sent again, once
        return
    with pytest.raises(UsageError) as caught:
        start(shell, api, thread_id, polled=True)
    line, result = str(caught.value), shell.user_ns["_"]
    assert "\n" not in line and "<" not in line and all(word in line for word in words), line
    assert f"run {result.run_id} goes on at the server: see %assistant runs {thread_id}" in line
    assert result.text == "" and "no reply text had arrived" in line


@pytest.mark.parametrize("ready", BACKENDS, indirect=True)
@pytest.mark.parametrize("polled", [False, True], ids=["streamed", "polled"])
def test_malformed_answer_is_one_line_and_the_run_can_be_found(shell: Any, faults: Any, ready: tuple,
                                                                polled: bool) -> None:
    api, thread_id = ready
    if polled:  # the run starts; reading it back gets a broken body
        faults(path=run_path(api, thread_id) + ("/" if api == "assistants" else "/resp_"), method="GET", malformed=True)
    else:
        faults(path=run_path(api, thread_id), method="POST", malformed=True)
    with pytest.raises(UsageError) as caught:
        start(shell, api, thread_id, polled)
    line = str(caught.value)
    assert "\n" not in line and "the run did not finish" in line
    result = shell.user_ns["_"]  # what is known is kept: the thread, and the run when it was created
    assert result.thread_id == thread_id and (result.run_id is not None) == polled



def stored_reply(shell: Any, api: str, thread_id: str) -> str:
    """The assistant's reply as the server keeps it (read back after the run)."""
    messages, _ = run(shell, "assistant", f"messages {thread_id} --api {api}")
    return list(messages["text"])[-1]


@pytest.mark.parametrize("ready", BACKENDS, indirect=True)
def test_stream_dropped_mid_reply_is_resumed_by_polling_the_run(shell: Any, faults: Any, ready: tuple) -> None:
    api, thread_id = ready
    # the connection breaks after the run was created and part of the reply streamed
    faults(path=run_path(api, thread_id), method="POST", drop_after=12)
    result, out = start(shell, api, thread_id, polled=False)
    assert result.status == "completed" and "Douro" in result.text
    assert result.text == stored_reply(shell, api, thread_id)  # what streamed, then the rest: the whole reply
    assert "the stream broke off" in out and "closed the connection after 12 events" in out and "followed to its end" in out


@pytest.fixture
def slow_runs(shell: Any, sandbox: Any) -> Iterator[None]:
    """Runs that take half a minute per phase at the server, followed for one second at most."""
    sandbox.configure(run_delay=30)
    run(shell, "config", "OAIMagics.run_timeout = 1")
    yield
    sandbox.configure(run_delay=0)


@pytest.mark.parametrize("ready", BACKENDS, indirect=True)
@pytest.mark.parametrize("polled", [False, True], ids=["dropped stream", "polled"])
def test_a_run_that_outlasts_the_run_timeout_is_one_line_naming_it(shell: Any, faults: Any, ready: tuple,
                                                                   slow_runs: None, polled: bool) -> None:
    api, thread_id = ready
    if not polled:
        faults(path=run_path(api, thread_id), method="POST", drop_after=12)
    with pytest.raises(UsageError) as caught:
        start(shell, api, thread_id, polled)
    result = shell.user_ns["_"]
    line = str(caught.value)
    assert "\n" not in line and "RunTimeout" in line and "after 1 s of waiting" in line
    assert f"run {result.run_id} goes on at the server: see %assistant runs {thread_id}" in line
    if polled:
        assert result.text == "" and "no reply text had arrived" in line
    else:  # the text that streamed before the drop is kept, and the line says so
        assert result.text.startswith("Here is a reply") and "Douro" not in result.text
        assert f"{len(result.text)} characters of the reply kept" in line and "the stream broke off" in line
