"""Many threads through one client: streams are not mixed, and a wide embedding job fits the pool."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start

from .conftest import Server
from .targets import EMBED_MODEL, embedded_directly, vector_columns

pytestmark = pytest.mark.timeout(120)

CHATS = 32
WORKERS = 48
HOLD = 3.0  # seconds the sandbox holds each embedding answer: far longer than 48 threads take to send


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Paced streams, so that the 32 are open at once rather than one after another."""
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), token_delay=0.01) as running:
        yield running


def prompt(number: int) -> str:
    return f"Report on lighthouse number {number} and its keeper"


def test_streamed_chats_from_many_threads_stay_apart(sandbox: Sandbox, server: Server) -> None:
    client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url)
    start_together = threading.Barrier(CHATS, timeout=30)
    open_at_once = []

    def chat(number: int) -> str:
        start_together.wait()
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                messages=[{"role": "user", "content": prompt(number)}])
        pieces = [next(stream)["choices"][0]["delta"].get("content") or ""]
        open_at_once.append(server.traffic()["in_flight"])
        pieces += [c["choices"][0]["delta"].get("content") or "" for c in stream if c.get("choices")]
        return "".join(pieces)

    with ThreadPoolExecutor(CHATS) as pool:
        replies = [f.result(timeout=90) for f in [pool.submit(chat, n) for n in range(CHATS)]]
    for number, reply in enumerate(replies):
        expected = server.api("POST", "/chat/completions", json={
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt(number)}]})
        assert reply == expected["choices"][0]["message"]["content"], number
    assert max(open_at_once) > 1  # the streams really overlapped


def test_48_embedding_workers_fit_the_connection_pool(shell: InteractiveShell, server: Server,
                                                      caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """48 requests really are in flight together, each on a pooled connection.

    The job sends one request alone until an answer has told the rate limits; the other 48 batches
    then go at once. Every one of those 49 answers is held long enough for all 48 to be at the
    server together, which a job bent down to a smaller pool (or fewer threads) cannot manage.
    """
    texts = [f"buoy {n} off the breakwater" for n in range(2 * (WORKERS + 1))]
    shell.user_ns["texts"] = texts
    with capture_output():  # a read timeout well above the hold (the shell's 2 s is below it)
        shell.run_line_magic("config", f"OAIMagics.timeout = {10 * HOLD}")
        shell.run_line_magic("oai", "use test")
    server.arm(path="/v1/embeddings", delay=HOLD, count=WORKERS + 1)
    watch = ThreadPoolExecutor(1)
    together = watch.submit(server.traffic, wait=60, until=str(WORKERS + 1))  # the moment the last one arrives
    with caplog.at_level(logging.WARNING, logger="urllib3"), capture_output() as captured:
        result = shell.run_cell(f"%embed -i texts -m {EMBED_MODEL} --batch-size 2 --workers {WORKERS} -o vectors")
    assert result.error_in_exec is None, captured.stdout + captured.stderr
    assert together.result(timeout=90)["in_flight"] >= WORKERS
    watch.shutdown()
    frame = shell.user_ns["vectors"]
    assert list(frame["text"]) == texts
    assert np.allclose(vector_columns(frame).to_numpy(), np.array(embedded_directly(server, texts)), atol=1e-6)
    full = [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()]
    assert full == [], full[:3]
