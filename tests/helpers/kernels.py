"""A real python3 kernel driven as a frontend drives it.

`execute(client, code, cell_id)` sends an execute request the way JupyterLab does (the cell id in
its metadata) and returns the outputs. The `kernel` fixture (through a folder's conftest.py) is a
kernel with the extension loaded and its profile on the folder's sandbox, for Ctrl-C as a notebook
user gives it: `interrupt` sends a SIGINT when an event shows the kernel is busy, `shown` is what
the cell showed afterwards.
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

from oai_magics.sandbox import Sandbox
from tests.helpers.sandboxes import Server

STOPS_WITHIN = 5.0  # seconds from SIGINT to the kernel's reply: generous, the aim is well under one
TOKEN_DELAY = 0.3  # seconds between the slow sandbox's streamed pieces: a reply takes over ten seconds
PROMPT = "Describe the harbour of Genoa at dawn for a travel guide"
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # seconds for a kernel to start and for each of its messages


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


def execute(client: Any, code: str, cell_id: str | None = None) -> list[dict]:
    """Run code as a frontend would (with `cellId` in the request's metadata); its outputs."""
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False,
               "stop_on_error": True}
    message = client.session.msg("execute_request", content, metadata={"cellId": cell_id} if cell_id else {})
    client.shell_channel.send(message)
    outputs = []
    while True:
        output = client.get_iopub_msg(timeout=TIMEOUT)
        if output["parent_header"].get("msg_id") != message["header"]["msg_id"]:
            continue
        if output["msg_type"] == "status" and output["content"]["execution_state"] == "idle":
            break
        if output["msg_type"] == "error":
            raise AssertionError("\n".join(output["content"]["traceback"]))
        outputs.append(output)
    return outputs
