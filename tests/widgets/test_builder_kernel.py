"""The builder's races in a real kernel, seen as a page sees them: the widget updates it receives
on IOPub, in order. A run's end shows the run's thread in the picker before Run is live again, and
choosing another thread while a reply streams leaves the reply and its thread on show. Every wait
is on an event (a kernel reply, an Event set by the form's own updates), never on the clock."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from jupyter_client.manager import start_new_kernel

from oai_magics.sandbox import Sandbox, start

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60


class Kernel:
    """A python3 kernel (this interpreter) and the IOPub messages its cells caused, widgets' included."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", env=env, cwd=str(cwd), startup_timeout=WAIT)

    def run(self, code: str) -> list[dict]:
        """Run a cell to its end: every IOPub message up to its idle status (a worker thread's too);
        a cell that fails fails the test with its traceback."""
        msg_id = self.client.execute(code)
        seen = []
        while True:
            message = self.client.get_iopub_msg(timeout=WAIT)
            seen.append(message)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "error":
                raise AssertionError("\n".join(message["content"]["traceback"]))
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return seen

    def value(self, expression: str) -> Any:
        """A Python value from the kernel (its repr, evaluated here)."""
        printed = "".join(m["content"]["text"] for m in self.run(f"print(repr({expression}))")
                          if m["msg_type"] == "stream")
        return ast.literal_eval(printed.strip())

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def updates(messages: list[dict], model_id: str) -> list[tuple[int, dict]]:
    """(position, state) of each update a widget sent to the page."""
    return [(position, m["content"]["data"]["state"]) for position, m in enumerate(messages)
            if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == model_id
            and m["content"]["data"].get("method") == "update"]


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Replies stream a piece every 0.1 s, so a run still streams when the test acts on it."""
    with start(data_dir=tmp_path_factory.mktemp("slow-sandbox"), token_delay=0.1) as running:
        yield running


@pytest.fixture(scope="module")
def kernel(slow_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel holding `backend` (responses, on the slow sandbox) and an assistant `storyteller`."""
    home = tmp_path_factory.mktemp("kernel-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(ROOT), IPYTHONDIR=str(home / "ipython"), MPLBACKEND="Agg",
               OAI_MAGICS_CONFIG_DIR=str(home / "config"))
    running = Kernel(env, home)
    try:
        running.run(f"import sys, threading; assert sys.executable == {sys.executable!r}\n"
                    "from oai_magics.assistants import backend_for\n"
                    "from oai_magics.assistants.store import AssistantStore\n"
                    "from oai_magics.client import Client\n"
                    "from oai_magics.widgets import ThreadRunBuilder\n"
                    f"client = Client(api_key={slow_sandbox.api_key!r}, base_url={slow_sandbox.base_url!r})\n"
                    f"backend = backend_for(client, 'responses', store=AssistantStore({str(home / 'store.sqlite3')!r}))\n"
                    "storyteller = backend.create_assistant(name='storyteller', model='gpt-4o-mini')['id']\n")
        yield running
    finally:
        running.stop()


def new_builder(kernel: Kernel, name: str) -> dict[str, str]:
    """A builder `name` in the kernel, lists loaded, the storyteller picked; its widgets' model ids."""
    kernel.run(f"{name} = ThreadRunBuilder(backend, namespace={{}}); {name}.wait({WAIT})\n"
               f"{name}.assistant.value = storyteller")
    return kernel.value(f"{{'thread': {name}.thread.model_id, 'run': {name}.run_button.model_id, "
                        f"'chat': {name}.chat.widget.model_id}}")


def test_run_is_live_again_only_once_the_picker_shows_the_new_thread(kernel: Kernel) -> None:
    ids = new_builder(kernel, "first")
    seen = kernel.run("first.message.value = 'Tell me about the trams of Lisbon'\n"
                      "first.run_button.click()\n"
                      f"outcome = first.wait({WAIT})")
    assert kernel.value("outcome.status") == "completed"
    thread_id = kernel.value("outcome.thread_id")
    assert kernel.value("first.thread.value") == thread_id
    shown = [position for position, state in updates(seen, ids["thread"]) if state.get("index")]
    live = [position for position, state in updates(seen, ids["run"]) if state.get("disabled") is False]
    # The page saw the new thread picked before Run came back: a click then goes to that thread.
    assert shown and live and shown[0] < live[-1], (shown, live)
    enabled = [position for position, state in updates(seen, ids["thread"]) if state.get("disabled") is False]
    assert enabled and shown[0] < enabled[-1] < live[-1]


def test_choosing_another_thread_while_a_reply_streams_keeps_the_reply(kernel: Kernel) -> None:
    ids = new_builder(kernel, "second")
    kernel.run("thread_id = backend.create_thread(['Tell me about the trams of Lisbon'])['id']\n"
               "second.refresh_button.click(); second.wait(60)\n"
               f"second.thread.value = thread_id; second.wait({WAIT})  # its history loads")
    assert "trams of Lisbon" in kernel.value("second.chat.widget.value")
    kernel.run("streaming = threading.Event()\n"
               "second.chat.widget.observe(lambda _c: second.handle is not None and second.handle.text "
               "and streaming.set(), names='value')\n"
               "second.message.value = 'Tell me a long story about Lisbon, Porto, Faro and Braga'\n"
               "second.run_button.click()\n"
               f"assert streaming.wait({WAIT})")
    assert kernel.value("second.thread.disabled") is True  # the page cannot change it meanwhile
    kernel.run("second.thread.value = ''  # New thread, as a page that raced the disable would send it")
    seen = kernel.run(f"outcome = second.wait({WAIT})")
    outcome_text, reply_text = kernel.value("(outcome.text, second.chat.reply_text)")
    assert kernel.value("outcome.status") == "completed" and len(outcome_text) > 40
    assert reply_text == outcome_text  # the whole reply, not the part after a cleared view
    assert kernel.value("second.thread.value") == kernel.value("thread_id")
    assert "The thread can change once the run ends" in kernel.value("second.error.value")
    view = kernel.value("second.chat.widget.value")
    assert "trams of Lisbon" in view and "Faro and Braga" in view  # the history and the run's message stay
    chat = updates(seen, ids["chat"])
    assert chat and chat[-1][1]["value"] == view  # the page's last update is the view as it ends
