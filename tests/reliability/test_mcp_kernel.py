"""MCP servers in a real kernel, as a notebook uses them: the approval question answered through the
front end's stdin (ipykernel's `input`), Ctrl-C at that question, and no server process left behind
when the kernel restarts."""

from __future__ import annotations

from typing import Any

import psutil
import pytest

from tests.helpers.kernels import Kernel, assert_kernel_usable, shown
from tests.helpers.mcp_servers import STDIO_COMMAND


def run_answering(kernel: Kernel, code: str, answer: Any) -> tuple[dict, list[str]]:
    """Run a cell that may ask (allow_stdin on, as in JupyterLab); `answer(prompt)` gives the text typed,
    or None to press Ctrl-C instead. The reply (outputs under "outputs") and the prompts asked."""
    msg_id = kernel.client.execute(code, allow_stdin=True)
    asked: list[str] = []
    while True:
        try:
            request = kernel.client.get_stdin_msg(timeout=0.5)
        except Exception:  # queue.Empty: no question (yet); is the cell done?
            reply = kernel.client.get_shell_msg(timeout=0.01) if kernel.client.shell_channel.msg_ready() else None
            if reply is not None and reply["parent_header"].get("msg_id") == msg_id:
                break
            continue
        asked.append(request["content"]["prompt"])
        typed = answer(request["content"]["prompt"])
        if typed is None:
            kernel.manager.interrupt_kernel()
        else:
            kernel.client.input(typed)
    content = reply["content"]
    content["outputs"] = kernel.outputs(msg_id, timeout=60)
    return content, asked


def test_the_approval_question_is_answered_from_the_front_end(kernel: Kernel) -> None:
    assert kernel.run(f"%oai mcp add box -- {STDIO_COMMAND}")["status"] == "ok"
    reply, asked = run_answering(kernel, "%%chat --mcp box:shout --no-stream\nSay hello to Lisbon.", lambda prompt: "y")
    assert reply["status"] == "ok" and asked == ["Run box.shout? [y/N] "]
    assert "returned: LISBON" in shown(reply) and '"text": "Lisbon"' in shown(reply)


def test_ctrl_c_at_the_approval_question_keeps_the_conversation_usable(kernel: Kernel) -> None:
    kernel.run(f"%oai mcp add box -- {STDIO_COMMAND}")
    reply, asked = run_answering(kernel, "%%chat --mcp box:shout --no-stream -c asked\nSay hello to Porto.", lambda prompt: None)
    assert asked == ["Run box.shout? [y/N] "]
    assert "Traceback" not in shown(reply)
    assert_kernel_usable(kernel)
    reply, _ = run_answering(kernel, "%%chat --no-stream -c asked\nAnd now?", lambda prompt: "n")
    assert reply["status"] == "ok", reply  # the next turn's memory is well formed for the API


@pytest.mark.parametrize("now", [False, True], ids=["asked-to-shut-down", "killed"])
def test_no_server_process_outlives_a_kernel_restart(kernel: Kernel, now: bool) -> None:
    assert kernel.run(f"%load_ext oai_magics\n%oai mcp add box --approve always -- {STDIO_COMMAND}")["status"] == "ok"
    pid = kernel.value("__import__('oai_magics.magics', fromlist=['session_of']).session_of(get_ipython())"
                       ".mcp().call('box', 'process_id', {}).text")
    server = psutil.Process(int(pid))
    kernel.manager.restart_kernel(now=now)  # the Restart menu asks the kernel to shut down; a stuck kernel is killed
    gone, alive = psutil.wait_procs([server], timeout=15)  # the server ends by itself (stdin closed) when killed
    assert not alive, f"the MCP server {pid} still runs after the kernel restarted"
    kernel.client.wait_for_ready(timeout=60)  # the new kernel answers before the next case (its setup is gone)
