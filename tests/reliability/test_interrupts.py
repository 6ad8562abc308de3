"""Ctrl-C as a notebook user gives it: a real SIGINT to a real kernel, sent when an event shows the
kernel is busy with the work (its first streamed output, or the server receiving the request).

Each case asserts that the cell ends soon after (waiting for the kernel's reply, not sleeping), that
the server sees the connection go, that what arrived is kept, and that the kernel runs the next cell.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from oai_magics.sandbox import Sandbox, start
from tests.helpers.kernels import (PROMPT, STOPS_WITHIN, TOKEN_DELAY, Kernel, assert_connection_closed,
                                      assert_kernel_usable, full_reply, interrupt, shown)
from tests.helpers.sandboxes import Server

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Slow streams, so that an interrupt lands mid-reply."""
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), token_delay=TOKEN_DELAY) as running:
        yield running


def test_ctrl_c_during_a_streamed_chat(kernel: Kernel, server: Server) -> None:
    kernel.run("reply = None")
    reply, took = interrupt(kernel, f"%%chat -m gpt-4o-mini --new -o reply\n{PROMPT}", kernel.first_output)
    assert took < STOPS_WITHIN, took
    assert reply["status"] == "ok", reply
    assert_connection_closed(server)
    partial, full = kernel.value("reply"), full_reply(server)
    assert partial and full.startswith(partial) and len(partial) < len(full), (partial, full)
    assert kernel.value("_") == partial
    assert "interrupted: partial reply kept" in shown(reply)
    assert_kernel_usable(kernel)


def test_ctrl_c_while_waiting_for_a_reply(kernel: Kernel, server: Server) -> None:
    server.arm(path="/v1/chat/completions", delay=60)
    reply, took = interrupt(kernel, f"%%chat -m gpt-4o-mini --no-stream --new -o reply\n{PROMPT}",
                            lambda msg_id: server.traffic(wait=30, until="busy"))
    assert took < STOPS_WITHIN, took
    assert reply["status"] == "ok" and "interrupted" in shown(reply), reply
    assert_connection_closed(server)
    assert kernel.value("reply") == ""  # nothing had arrived: nothing made up, and no earlier value left
    assert_kernel_usable(kernel)


# -- Ctrl-C while a streamed chat waits for its answer: a traceback wall ---------------------------
# Waiting for the answer's head (a slow server, or a retry's wait: up to a minute for a 429) happens
# before the stream exists, outside the accumulator that turns Ctrl-C into "interrupted". --no-stream
# says it in one line (the case above); the default, streamed, shows a traceback
# through the client's frames.

def test_ctrl_c_while_a_streamed_chat_waits_for_its_answer_is_one_line(kernel: Kernel, server: Server) -> None:
    server.arm(path="/v1/chat/completions", delay=60)
    reply, _ = interrupt(kernel, f"%%chat -c waiting -o reply\n{PROMPT}",
                         lambda msg_id: server.traffic(wait=30, until="busy"))
    assert reply["status"] == "ok", f"{reply.get('ename')}: {len(reply.get('traceback', []))} traceback lines"
    assert "interrupted" in shown(reply)
    assert_kernel_usable(kernel)


def assert_workers_ended(kernel: Kernel, name: str) -> None:
    """No worker thread of the job is left (each is given a few seconds to end, not the server's delay)."""
    kernel.run("import threading")
    left = kernel.value(f"[t.name for t in threading.enumerate() if t.name.startswith({name!r}) and (t.join(3) or t.is_alive())]")
    assert left == [], left


def rerun(kernel: Kernel, server: Server, code: str, path: str) -> list[str]:
    """Run `code` again with no fault armed; the bodies of the requests it sent to `path`."""
    server.disarm()
    server.forget()
    again = kernel.run(code)
    assert again["status"] == "ok", again
    return [r["body"] for r in server.seen(path)]


def test_ctrl_c_during_an_embedding_job(kernel: Kernel, server: Server) -> None:
    texts = [f"harbour note number {word}" for word in ("one", "two", "three", "four", "five", "six")]
    kernel.run(f"texts = {texts!r}")
    server.arm(path="/v1/embeddings", body="number two", delay=12)  # the second batch hangs
    # The first batch has come back and the second is at the server: interrupt now.
    reply, took = interrupt(kernel, "%embed -i texts --batch-size 1 --workers 1 -o vectors",
                            lambda msg_id: server.traffic(wait=30, until="2"))
    assert took < STOPS_WITHIN, took
    assert_connection_closed(server)  # the request in flight was cut, not left to the server's delay
    assert_workers_ended(kernel, "oai-embed")
    assert kernel.value("list(_['text'])") == texts
    assert kernel.value("[bool(_.drop(columns='text').iloc[i].notna().all()) for i in range(6)]") == [True] + [False] * 5
    # The batch that finished is in the cache: running the cell again sends only the other five.
    sent = rerun(kernel, server, "%embed -i texts --batch-size 1 --workers 1 -o vectors", "/v1/embeddings")
    assert len(sent) == 5 and not any("number one" in body for body in sent), sent
    assert kernel.value("bool(vectors.drop(columns='text').notna().all().all())") is True
    assert_kernel_usable(kernel)


def test_ctrl_c_during_chat_each(kernel: Kernel, server: Server) -> None:
    rows = [f"Name one fish of harbour {word}" for word in ("alpha", "bravo", "charlie", "delta")]
    kernel.run(f"rows = {rows!r}")
    server.arm(path="/v1/chat/completions", body="harbour bravo", delay=12)  # the second row hangs
    reply, took = interrupt(kernel, "%%chat --each rows --workers 1 -m gpt-4o-mini -o answers\n{{row}}",
                            lambda msg_id: server.traffic(wait=30, until="2"))
    assert took < STOPS_WITHIN, took
    assert reply["status"] == "ok", reply
    assert_connection_closed(server)
    assert_workers_ended(kernel, "oai-rows")
    assert kernel.value("list(answers['error'].fillna('ok'))") == ["ok", "interrupted", "interrupted", "interrupted"]
    assert "3 of 4 rows failed" in shown(reply)
    # Given the frame back, only the interrupted rows are sent.
    sent = rerun(kernel, server, "%%chat --each answers --workers 1 -m gpt-4o-mini -o answers\n{{row.input}}",
                 "/v1/chat/completions")
    assert len(sent) == 3 and not any("harbour alpha" in body for body in sent), sent
    assert kernel.value("int(answers['error'].isna().sum())") == 4
    assert_kernel_usable(kernel)
