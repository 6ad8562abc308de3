"""Ctrl-C as a notebook user gives it: a real SIGINT to a real kernel, sent when an event shows the
kernel is busy with the work (its first streamed output, or the server receiving the request).

Each case asserts that the cell ends soon after (waiting for the kernel's reply, not sleeping), that
the server sees the connection go, that what arrived is kept, and that the kernel runs the next cell.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from jupyter_client.manager import KernelManager, start_new_kernel

from oai_magics.sandbox import Sandbox, start

from .conftest import Server

pytestmark = pytest.mark.timeout(120)

STOPS_WITHIN = 5.0  # seconds from SIGINT to the kernel's reply: generous, the aim is well under one
TOKEN_DELAY = 0.3  # seconds between the slow sandbox's streamed pieces: a reply takes over ten seconds
PROMPT = "Describe the harbour of Genoa at dawn for a travel guide"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Slow streams, so that an interrupt lands mid-reply."""
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), token_delay=TOKEN_DELAY) as running:
        yield running


@dataclass
class Kernel:
    manager: KernelManager
    client: Any

    def run(self, code: str, timeout: float = 60) -> dict:
        """Run a cell to its end; its reply content, with the outputs it published under "outputs"."""
        msg_id = self.client.execute(code)
        reply = self.reply(msg_id, timeout)
        reply["outputs"] = self.outputs(msg_id, timeout)
        return reply

    def reply(self, msg_id: str, timeout: float) -> dict:
        while True:
            message = self.client.get_shell_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") == msg_id:
                return message["content"]

    def outputs(self, msg_id: str, timeout: float) -> list[dict]:
        """The cell's outputs up to the kernel going idle."""
        found = []
        while True:
            message = self.client.get_iopub_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return found
            if message["msg_type"] in ("stream", "display_data", "update_display_data", "execute_result", "error"):
                found.append(message)

    def first_output(self, msg_id: str, timeout: float = 30) -> dict:
        while True:
            message = self.client.get_iopub_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") == msg_id and message["msg_type"] in ("stream", "display_data"):
                return message

    def value(self, expression: str) -> Any:
        """A Python value from the kernel (its repr, evaluated here)."""
        import ast

        reply = self.run(f"print(repr({expression}))")
        assert reply["status"] == "ok", reply
        printed = "".join(m["content"]["text"] for m in reply["outputs"] if m["msg_type"] == "stream")
        return ast.literal_eval(printed.strip())


@pytest.fixture(scope="module")
def kernel(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A python3 kernel (this interpreter) with the extension loaded and its profile on the sandbox."""
    home = tmp_path_factory.mktemp("kernel-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(ROOT), IPYTHONDIR=str(home / "ipython"), MPLBACKEND="Agg",
               OAI_MAGICS_CACHE_DIR=str(home / "cache"), SANDBOX_TEST_KEY=sandbox.api_key)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(home), startup_timeout=60)
    kernel = Kernel(manager, client)
    setup = kernel.run(f"import sys; assert sys.executable == {sys.executable!r}\n"
                       "%load_ext oai_magics\n"
                       f"%oai profile add test --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY\n"
                       "%oai use test\n"
                       # the session's models listing has come before any test counts requests
                       "from oai_magics.magics import session_of\n"
                       "assert session_of(get_ipython()).watch.ready('test').wait(30)")
    assert setup["status"] == "ok", setup
    yield kernel
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def interrupt(kernel: Kernel, code: str, busy: Callable[[str], None]) -> tuple[dict, float]:
    """Run `code`, send SIGINT once `busy(msg_id)` returns; the cell's reply and the seconds it took to come."""
    msg_id = kernel.client.execute(code)
    busy(msg_id)
    kernel.manager.interrupt_kernel()
    sent = time.monotonic()
    reply = kernel.reply(msg_id, timeout=30)
    took = time.monotonic() - sent
    reply["outputs"] = kernel.outputs(msg_id, timeout=30)
    return reply, took


def shown(reply: dict) -> str:
    """The text and Markdown a cell published."""
    parts = []
    for message in reply["outputs"]:
        content = message["content"]
        parts.append(content.get("text", "") + content.get("data", {}).get("text/markdown", ""))
    return "\n".join(parts)


def assert_connection_closed(server: Server) -> None:
    """The server is answering nothing any more: an abandoned stream or wait ends when its client
    leaves, well before it would have ended by itself (the rest of a reply takes over ten seconds)."""
    assert server.traffic(wait=3, until="idle")["in_flight"] == 0


def assert_kernel_usable(kernel: Kernel) -> None:
    assert kernel.value("6 * 7") == 42


def full_reply(server: Server) -> str:
    answer = server.api("POST", "/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]})
    return answer["choices"][0]["message"]["content"]


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
