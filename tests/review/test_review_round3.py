"""Third review round: requests sent twice, a job that hangs, memory lost, a traceback on Ctrl-C, prompts
cut. Ranked by harm, worst first.

Each case failed when it was written; each now guards its fix.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from typing import Any, Iterator

import pytest
import requests
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox
from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk, serve  # noqa: F401 (serve is a fixture)
from tests.magics.conftest import faults, run, sandbox, shell  # noqa: F401 (fixtures)
from tests.reliability.conftest import Server
from tests.reliability.test_interrupts import PROMPT, Kernel, assert_kernel_usable, interrupt, shown
from tests.reliability.test_interrupts import kernel  # noqa: F401 (a fixture)
from tests.review.test_bad_server import SERVER_KEY, answer, use
from tests.review.test_bad_server import shell as raw_shell  # noqa: F401 (a fixture)

TIMEOUT = 60
HANG = 10  # seconds after which a call that should have ended is taken to hang


def sent_requests(sandbox: Sandbox, path: str) -> list[dict]:
    """The requests the sandbox saw for `path`, once it is idle."""
    log = requests.get(sandbox.url + "/sandbox/requests", params={"wait": 10, "until": "idle"}, timeout=20).json()
    return [entry for entry in log["requests"] if entry["path"] == path]


def forget_requests(sandbox: Sandbox) -> None:
    requests.delete(sandbox.url + "/sandbox/requests", timeout=10)


# -- 1. a POST sent again under a new Idempotency-Key ----------------------------------------------
# The client never re-sends a chat whose answer was lost (or re-sends it under the same key); the
# job layer (`jobs.pacing.paced_call`) calls the endpoint again from the top, which makes a new
# call with a new key: the server cannot tell it is a repeat, and the work is done (and billed) twice.

def test_a_chat_row_whose_answer_was_lost_is_never_sent_again_under_a_new_key(shell: InteractiveShell, sandbox: Sandbox,
                                                                               faults: Any) -> None:
    shell.user_ns["cities"] = ["Paris"]
    forget_requests(sandbox)
    faults(path="/v1/chat/completions", method="POST", lose_response=True, count=1)
    frame, shown = run(shell, "chat", "--each cities", "Tell me about {{row}}")
    keys = [entry["idempotency_key"] for entry in sent_requests(sandbox, "/v1/chat/completions")]
    assert len(set(keys)) == 1, f"one chat went out as {len(set(keys))} different calls: {keys}"
    assert len(keys) == 1, "a call whose answer was lost is not sent again: it may have done its work"
    assert "not re-sent" in str(frame["error"][0]), frame.to_dict()


def test_an_embedding_batch_whose_answer_was_lost_is_never_sent_again_under_a_new_key(
        shell: InteractiveShell, sandbox: Sandbox, faults: Any) -> None:
    forget_requests(sandbox)
    faults(path="/v1/embeddings", method="POST", lose_response=True, count=1)
    with contextlib.suppress(UsageError):  # the lost batch may be reported in one line
        run(shell, "embed", "--no-cache", "alpha\nbeta\n")
    keys = [entry["idempotency_key"] for entry in sent_requests(sandbox, "/v1/embeddings")]
    assert len(set(keys)) == 1, f"one batch went out as {len(set(keys))} different calls: {keys}"
    assert len(keys) == 2, "an embedding changes nothing at the server: the job tries it once more, as one call"


def test_a_batch_the_job_tries_again_after_a_5xx_burst_keeps_its_idempotency_key(
        shell: InteractiveShell, sandbox: Sandbox, faults: Any) -> None:
    forget_requests(sandbox)
    faults(path="/v1/embeddings", method="POST", status=500, count=3)  # every attempt of the client's first call
    frame, _ = run(shell, "embed", "--no-cache", "alpha\nbeta\n")
    keys = [entry["idempotency_key"] for entry in sent_requests(sandbox, "/v1/embeddings")]
    assert len(keys) == 4 and len(set(keys)) == 1, keys  # the job's second try is the same call to the server
    assert len(frame) == 2


# -- 2. a Retry-After above the cap: the client fails at once, the embedding job sits it out ----------
# The client does not retry a 429 whose Retry-After is longer than it will wait, and says when to come
# back; the job's pacer pauses every batch for the whole of it (an hour here, for ever with `inf`), so
# its retry of the failed batch waits in silence: `%embed` hangs.

def test_an_embedding_job_told_to_wait_an_hour_fails_at_once_saying_when(serve: Any) -> None:
    from oai_magics.embeddings import EmbeddingJobError, embed_texts
    from oai_magics.jobs.pacing import Pacer

    server = serve(answer(b'{"error": {"message": "slow down"}}', "429 Too Many Requests",
                          b"Content-Type: application/json\r\nRetry-After: 3600\r\n"))
    client = Client(api_key=SERVER_KEY, base_url=server.url, timeout=(5, 5))
    pacer, outcome = Pacer(), []

    def job() -> None:
        try:
            embed_texts(client, ["alpha", "beta"], model="text-embedding-3-small", progress=False, pacer=pacer)
        except EmbeddingJobError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=job, daemon=True)
    worker.start()
    worker.join(HANG)  # a bound, not a measure: the answer is one loopback exchange away
    hung = worker.is_alive()
    pacer.stop()  # frees a job that still waits, so nothing outlives the test
    worker.join(TIMEOUT)
    assert not hung, f"the job still waited {HANG} s after the server asked for an hour"
    assert "try again" in outcome[0]


# -- 3. chats from widget callbacks forget each other -------------------------------------------------
# A callback (an ipywidgets button) runs under the kernel's comm message: no cell id, a new message id
# each time, and the execution count of the last cell. Each click is taken for a re-run of one "cell"
# and replaces the click before it, which is then neither remembered nor sent as context.

def test_chats_asked_from_a_button_all_stay_in_the_conversation(kernel: Kernel) -> None:
    setup = kernel.run("""
import ipywidgets
from oai_magics.magics import session_of
questions = iter(["--new About owls", "About bats", "About cats"])
button = ipywidgets.Button(description="Ask")
button.on_click(lambda _: get_ipython().run_line_magic("chat", next(questions)))
""")
    assert setup["status"] == "ok", setup
    click = {"comm_id": kernel.value("button.model_id"), "data": {"method": "custom", "content": {"event": "click"}}}
    for _ in range(3):  # what JupyterLab sends when the button is clicked, three times with no cell run between
        kernel.client.shell_channel.send(kernel.client.session.msg("comm_msg", click))
    # Read after the clicks: the kernel handles shell messages in the order they came.
    exchanges = "session_of(get_ipython()).conversations['default'].exchanges"
    remembered = kernel.value(f"[e.messages[0]['content'] for e in {exchanges}]")
    assert remembered == ["About owls", "About bats", "About cats"]


# -- 4. Ctrl-C while a streamed chat waits for its answer: a traceback wall ---------------------------
# Waiting for the answer's head (a slow server, or a retry's wait: up to a minute for a 429) happens
# before the stream exists, outside the accumulator that turns Ctrl-C into "interrupted". --no-stream
# says it in one line (tests/reliability/test_interrupts.py); the default, streamed, shows a traceback
# through the client's frames.

def test_ctrl_c_while_a_streamed_chat_waits_for_its_answer_is_one_line(kernel: Kernel, sandbox: Sandbox,
                                                                        faults: Any) -> None:
    server = Server(sandbox)
    faults(path="/v1/chat/completions", delay=60)
    reply, _ = interrupt(kernel, f"%%chat -c waiting -o reply\n{PROMPT}",
                         lambda msg_id: server.traffic(wait=30, until="busy"))
    assert reply["status"] == "ok", f"{reply.get('ename')}: {len(reply.get('traceback', []))} traceback lines"
    assert "interrupted" in shown(reply)
    assert_kernel_usable(kernel)


# -- 5. an option word inside a line prompt -----------------------------------------------------------
# Options may stand between the words of a line prompt, so a question about a command line loses words
# and silently changes settings: here the default conversation's system prompt becomes "do", for good.

def test_an_option_word_between_prompt_words_neither_cuts_the_prompt_nor_changes_the_conversation(
        shell: InteractiveShell, sandbox: Sandbox) -> None:
    from oai_magics.magics import session_of

    forget_requests(sandbox)
    run(shell, "chat", "--new What does tar -s do to file names")
    conversation = session_of(shell).conversations["default"]
    assert conversation.system is None
    sent = [json.loads(entry["body"])["messages"][-1]["content"]
            for entry in sent_requests(sandbox, "/v1/chat/completions")]
    assert sent in ([], ["What does tar -s do to file names"])  # sent whole, or refused in one line


# -- 6. a callable object's tool is described as "Call self as a function." --------------------------

class Shout:
    """Shout a word back."""

    def __call__(self, word: str) -> str:
        return word.upper()


def test_a_callable_objects_tool_is_described_by_its_class() -> None:
    from oai_magics.tools import chat_tool

    assert chat_tool(Shout(), "shout")["function"]["description"] == "Shout a word back."


# -- 7. n=2: the output's type depends on how far the stream got ---------------------------------------

def first_choice_then_cut(connection: socket.socket, server: RawServer) -> None:
    """Streams one chunk of choice 0 of an n=2 reply, then closes the connection."""
    server.read_request(connection)
    connection.sendall(STREAM_HEAD + chunk(b'data: {"choices": [{"index": 0, "delta": {"content": "kept"}}]}\n\n'))


def test_n2_gives_the_list_of_choices_even_when_the_stream_broke_before_the_second(serve: Any,
                                                                                    raw_shell: InteractiveShell) -> None:
    use(raw_shell, serve(first_choice_then_cut))
    run(raw_shell, "chat", "-p n=2 -o out Tell me twice")
    out = raw_shell.user_ns["out"]
    assert out == ["kept", ""], f"-p n=2 -o gave {out!r}"
    use(raw_shell, serve(first_choice_then_cut))
    run(raw_shell, "oai", "complete -p n=2 -o out Tell me twice")
    assert raw_shell.user_ns["out"] == ["kept", ""]
