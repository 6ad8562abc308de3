"""Chat memory in a real kernel, with the cell ids Jupyter frontends send in each execute request.

ipykernel keeps the request (its header and the metadata carrying `cellId`) as the shell's
parent message; the tests send requests the way JupyterLab does and read the conversation back.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

import pytest
from jupyter_client.manager import start_new_kernel

from oai_magics.sandbox import Sandbox
from tests.helpers.kernels import TIMEOUT, execute


@pytest.fixture(scope="module")
def kernel(sandbox: Sandbox) -> Iterator[Any]:
    """A python3 kernel with the extension loaded and pointed at the sandbox; every chat request's
    message texts are recorded in `_sent` (the request still goes out)."""
    env = {**os.environ, "SANDBOX_TEST_KEY": sandbox.api_key}
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=TIMEOUT, env=env)
    try:
        execute(client, f"""
%load_ext oai_magics
%oai profile add test --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY
%oai use test
from oai_magics.magics import session_of
_session = session_of(get_ipython())
_sent, _create = [], _session.client.chat.completions.create
def _recording(**params):
    _sent.append([m.get("content") for m in params["messages"]])
    return _create(**params)
_session.client.chat.completions.create = _recording
""")
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def state(client: Any) -> tuple[list[str], list[list[str]]]:
    """(the remembered prompts in order, the message texts of every request sent so far)."""
    outputs = execute(client, "import json; print(json.dumps([[e.messages[0]['content'] for e in "
                              "_session.conversations['default'].exchanges], _sent]))")
    text = "".join(o["content"]["text"] for o in outputs if o["msg_type"] == "stream")
    prompts, sent = json.loads(text)
    return prompts, sent


def test_a_rerun_replaces_all_of_its_cells_exchanges_in_order(kernel: Any) -> None:
    execute(kernel, "%chat --new About owls", cell_id="cell-a")
    execute(kernel, "%chat About bats\n%chat About cats", cell_id="cell-b")
    execute(kernel, "%chat About herons", cell_id="cell-c")
    prompts, sent = state(kernel)
    assert prompts == ["About owls", "About bats", "About cats", "About herons"]
    execute(kernel, "%chat About bats again\n%chat About cats again", cell_id="cell-b")  # edited and re-run
    prompts, sent = state(kernel)
    assert prompts == ["About owls", "About bats again", "About cats again", "About herons"]
    assert sent[-2][::2] == ["About owls", "About bats again"]  # the re-run sees the conversation before its cell
    assert sent[-1][::2] == ["About owls", "About bats again", "About cats again"]
    execute(kernel, "%chat Only one now", cell_id="cell-b")  # fewer calls: the cell's old ones all go
    prompts, _ = state(kernel)
    assert prompts == ["About owls", "Only one now", "About herons"]


def test_the_same_prompt_in_two_cells_is_two_questions(kernel: Any) -> None:
    execute(kernel, "%chat --new Same words", cell_id="cell-x")
    execute(kernel, "%chat Same words", cell_id="cell-y")
    execute(kernel, "%chat Same words")  # a frontend that sends no cell id: each execution is its own cell
    execute(kernel, "%chat Same words")
    prompts, sent = state(kernel)
    assert prompts == ["Same words"] * 4
    assert sent[-1][::2] == ["Same words"] * 4
