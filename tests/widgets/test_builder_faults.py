"""The builder's rows of the fault matrix: each fault the sandbox injects, aimed at the request that
starts the builder's run (POST /threads/{id}/runs on the Assistants API, POST /responses on the
other), on both back ends, the form driven headlessly as a user would.

Every case ends recovered (the whole reply, no red line; a notice when a broken stream was followed
to its end by polling) or with one red line saying what failed, the partial reply kept, and the
form ready for the next run. Never a hang: pytest-timeout bounds each case and every wait is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import requests

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox
from oai_magics.widgets import ThreadRunBuilder
from tests.helpers.builders import WAIT, error_line, new_assistant, run

pytestmark = pytest.mark.timeout(60)

PROMPT = "Tell me about Coimbra."
READ_TIMEOUT = 2.0  # seconds the client waits for an answer: the 'slower than the timeout' fault outlasts it
MANY = 50  # a fault armed this many times outlasts every retry


@pytest.fixture
def client(server: Sandbox) -> Iterator[Client]:
    """The builder's client: the usual retries, and a short read timeout."""
    with Client(api_key=server.api_key, base_url=server.base_url, max_retries=2,
                timeout=(5.0, READ_TIMEOUT)) as made:
        yield made


@dataclass(frozen=True)
class Row:
    name: str
    arm: dict  # /sandbox/faults fields besides path and method
    recovers: bool
    words: tuple[str, ...] = ()  # the red line says at least these (a recovered row: its notice)


ROWS = [
    Row("429 with Retry-After", {"status": 429, "retry_after": 0.05}, True),
    Row("5xx burst within the retries", {"status": 503, "retry_after": 0.01, "count": 2}, True),
    Row("5xx burst beyond the retries", {"status": 503, "retry_after": 0.01, "count": MANY}, False, ("503",)),
    Row("dropped before the response", {"lose_response": True}, False, ("may have received", "POST")),
    Row("dropped mid-stream", {"drop_after": 12}, True, ("The stream broke off", "followed to its end by polling")),
    Row("stream cut without its end", {"truncate_after": 12}, True, ("The stream broke off", "followed to its end")),
    Row("slower than the timeout", {"delay": 6}, False, (f"{READ_TIMEOUT:g} s", "may have received")),
    Row("malformed JSON with 200", {"malformed": True, "count": MANY}, False, ("JSON",)),
    Row("HTML 502 page from a proxy", {"status": 502, "html": True, "count": MANY}, False, ("502", "Bad Gateway")),
]


def on_new_thread(builder: ThreadRunBuilder, backend: Any) -> tuple[str, str]:
    """Select a fresh thread; the paths that start its runs and read them back, to arm faults on."""
    thread = backend.create_thread()
    builder.refresh_button.click()
    builder.wait(WAIT)
    builder.thread.value = thread["id"]
    builder.wait(WAIT)
    runs = {"assistants": f"/v1/threads/{thread['id']}/runs", "responses": "/v1/responses",
            "chat": "/v1/chat/completions"}[backend.name]
    return runs, runs + "/"


def full_reply(client: Client) -> str:
    """What the sandbox answers to the prompt, asked around the builder."""
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}])
    return answer["choices"][0]["message"]["content"]


def arm(server: Sandbox, **fault: Any) -> None:
    assert requests.post(server.url + "/sandbox/faults", json=fault, timeout=10).status_code == 200


def starts(server: Sandbox, path: str) -> int:
    """How many run-starting requests the server received."""
    seen = requests.get(server.url + "/sandbox/requests", timeout=10).json()["requests"]
    return sum(1 for r in seen if r["path"] == path and r["method"] == "POST")


@pytest.fixture
def armed(server: Sandbox) -> Iterator[Any]:
    """Arm faults on the sandbox; disarmed afterwards, and the traffic log starts empty."""
    requests.delete(server.url + "/sandbox/requests", timeout=10)
    yield lambda **fault: arm(server, **fault)
    requests.delete(server.url + "/sandbox/faults", timeout=10)


# The chat back end's server keeps nothing to follow a broken stream to its end with: the run fails,
# and what streamed is kept.
BROKEN_STREAMS = ("dropped mid-stream", "stream cut without its end")


def assert_kept_partial(builder: ThreadRunBuilder, broken: Any) -> None:
    assert broken.status == "error" and broken.text and "Coimbra" not in broken.text  # what came, and no more
    assert builder.chat.reply_text == broken.text
    assert "The stream broke: the partial reply is kept." in builder.chat.widget.value


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_fault(row: Row, builder: ThreadRunBuilder, backend: Any, client: Client, server: Sandbox,
               armed: Any) -> None:
    new_assistant(backend, builder)
    start_path, _ = on_new_thread(builder, backend)
    armed(path=start_path, method="POST", **row.arm)
    outcome = run(builder, PROMPT)
    requests.delete(server.url + "/sandbox/faults", timeout=10)
    started = starts(server, start_path)  # before the test asks the sandbox itself
    if backend.name == "chat" and row.name in BROKEN_STREAMS:
        assert_kept_partial(builder, outcome)
    elif row.recovers:
        assert outcome.status == "completed" and outcome.text == full_reply(client), outcome
        assert builder.chat.reply_text == outcome.text
        if row.words:  # recovered by following the run: an amber notice says so
            line = error_line(builder)
            assert line.startswith("ℹ") and all(word in line for word in row.words), line
        else:
            assert builder.error.value == "" and started == 1 + row.arm.get("count", 1)
    else:
        line = error_line(builder)
        assert outcome.status == "error" and line.startswith("⚠ ") and "<" not in line, line
        assert all(word in line for word in row.words), line
        assert outcome.text == ""  # no reply had begun: nothing made up
    assert not builder.run_button.disabled and builder.cancel_button.disabled
    assert run(builder, "And Porto?").status == "completed"  # the form takes the next run


def test_a_5xx_burst_before_the_run_gives_the_message_back(builder: ThreadRunBuilder, backend: Any,
                                                           armed: Any) -> None:
    new_assistant(backend, builder)
    start_path, _ = on_new_thread(builder, backend)
    armed(path=start_path, method="POST", status=503, retry_after=0.01, count=3)
    assert run(builder, "Hello?").status == "error" and "503" in error_line(builder)
    assert builder.message.value == "Hello?"  # the message did not go: it is back in the field


def test_a_start_lost_on_the_way_back_keeps_the_message_and_says_it_may_have_arrived(
        builder: ThreadRunBuilder, backend: Any, server: Sandbox, armed: Any) -> None:
    new_assistant(backend, builder)
    start_path, _ = on_new_thread(builder, backend)
    armed(path=start_path, method="POST", lose_response=True)
    assert run(builder, "Hello?").status == "error"
    line = error_line(builder)
    assert "the server may have received the message: look at the thread before sending it again" in line, line
    assert builder.message.value == "Hello?"  # kept to edit, and the line says why not to re-send it blindly
    assert starts(server, start_path) == 1  # it did arrive: the server saw the start once


def test_a_stream_dropped_for_good_keeps_its_partial_text(builder: ThreadRunBuilder, backend: Any,
                                                          armed: Any) -> None:
    new_assistant(backend, builder)
    start_path, read_path = on_new_thread(builder, backend)
    armed(path=start_path, method="POST", truncate_after=10)
    armed(path=read_path, method="GET", status=503, retry_after=0.01, count=3)
    broken = run(builder, PROMPT)
    # the chat back end has nothing to read the run back from: the cut itself is the line
    assert broken.status == "error" and ("503" if backend.name != "chat" else "stream ended") in error_line(builder)
    assert_kept_partial(builder, broken)
    assert not builder.run_button.disabled


@pytest.fixture
def slow_runs(server: Sandbox, backend: Any) -> Iterator[None]:
    """Runs that take half a minute per phase at the server, polled for one second at most."""
    server.configure(run_delay=30)
    backend.run_timeout = 1
    yield
    server.configure(run_delay=0)


@pytest.mark.parametrize("api", ["assistants", "responses"])  # a chat run, or a chained one, is never polled
def test_a_run_polled_past_its_timeout_after_a_broken_stream_is_one_line(
        builder: ThreadRunBuilder, backend: Any, armed: Any, slow_runs: None) -> None:
    new_assistant(backend, builder)
    start_path, _ = on_new_thread(builder, backend)
    armed(path=start_path, method="POST", drop_after=12)
    broken = run(builder, PROMPT)
    line = error_line(builder)
    assert broken.status == "error" and broken.run is not None
    assert line.startswith("⚠ RunTimeout") and f"run {broken.run['id']} was still" in line and "after 1 s" in line
    assert line.endswith("it goes on at the server")
    assert broken.text and "Coimbra" not in broken.text and builder.chat.reply_text == broken.text
    assert "The stream broke: the partial reply is kept." in builder.chat.widget.value
    assert not builder.run_button.disabled


def submit_path(backend: Any, waiting: Any) -> str:
    """Where the builder's tool outputs go (the chat back end keeps them itself, then asks for the reply)."""
    return {"assistants": f"/v1/threads/{waiting.thread_id}/runs/{waiting.run_id}/submit_tool_outputs",
            "responses": "/v1/responses", "chat": "/v1/chat/completions"}[backend.name]


def refused_submit(builder: ThreadRunBuilder, backend: Any, server: Sandbox, armed: Any, **fault: Any) -> Any:
    """A run that waits for tool outputs, and the outcome of Submit with `fault` armed on where they go."""
    new_assistant(backend, builder, tools=True)
    on_new_thread(builder, backend)
    waiting = run(builder, "Weather in Tavira?")
    assert waiting.status == "requires_action"
    armed(path=submit_path(backend, waiting), method="POST", **fault)
    builder.calls.submit_button.click()
    outcome = builder.wait(WAIT)
    requests.delete(server.url + "/sandbox/faults", timeout=10)
    return outcome


def test_outputs_the_server_did_not_take_can_be_sent_again(builder: ThreadRunBuilder, backend: Any,
                                                           server: Sandbox, armed: Any) -> None:
    # Submit failed (a 5xx burst beyond the retries): the run still waited, yet the panel's Submit
    # stayed disabled and Cancel too, so the run could be neither answered nor cancelled from the form.
    refused = refused_submit(builder, backend, server, armed, status=503, retry_after=0.01, count=MANY)
    if backend.name == "chat":  # its outputs are kept locally before the reply is asked for: the run went on
        assert refused.status == "error" and "503" in error_line(builder)
        return
    assert refused.status == "requires_action" and "503" in error_line(builder)
    assert builder.calls.visible and not builder.calls.submit_button.disabled and not builder.cancel_button.disabled
    builder.calls.submit_button.click()  # the outputs typed (here computed) are still there
    done = builder.wait(WAIT)
    assert done.status == "completed" and "19" in done.text and error_line(builder) == ""


def test_outputs_the_server_took_though_its_answer_was_lost_are_followed(builder: ThreadRunBuilder, backend: Any,
                                                                          server: Sandbox, armed: Any) -> None:
    # The connection dropped after the server took the outputs: the panel came back live as if they
    # had not been taken, and a second Submit was refused (the run waited no more) again and again,
    # so the run's reply never showed.
    outcome = refused_submit(builder, backend, server, armed, lose_response=True)
    if backend.name == "chat":  # its outputs are kept locally, then the reply is asked for: that request was lost
        assert outcome.status == "error" and "APIConnectionError" in error_line(builder)
        return
    if outcome.status == "requires_action":  # not taken (a back end that starts a new response): sent again
        assert "APIConnectionError" in error_line(builder) and not builder.calls.submit_button.disabled
        builder.calls.submit_button.click()
        outcome = builder.wait(WAIT)
    assert outcome.status == "completed" and "19" in outcome.text, (outcome, error_line(builder))


def test_a_run_whose_outputs_were_not_taken_can_be_cancelled(builder: ThreadRunBuilder, backend: Any,
                                                             server: Sandbox, armed: Any) -> None:
    # Cancel, live again after the refused Submit, ends the waiting run on the server and the form is idle.
    refused = refused_submit(builder, backend, server, armed, status=503, retry_after=0.01, count=MANY)
    if backend.name == "chat":  # its outputs are kept locally before the reply is asked for: the run went on
        return
    assert refused.status == "requires_action"
    builder.cancel_button.click()
    cancelled = builder.wait(WAIT)
    assert cancelled.status in ("cancelled", "cancelling") and not builder.calls.visible and not builder.run_button.disabled
