"""`%assistant form` in a real IPython shell: the builder it opens finds the notebook's functions."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.widgets import ThreadRunBuilder

WAIT = 60


def test_the_form_answers_calls_with_the_notebooks_functions(shell: InteractiveShell) -> None:
    shell.run_cell('def get_time(city: str) -> str:\n    """The local time in a city."""\n    return f"12:00 in {city}"')
    with capture_output():
        shell.run_line_magic("assistant", "create clock --model gpt-4o-mini --tools get_time")
        builder = shell.run_line_magic("assistant", "form --api assistants")
    assert isinstance(builder, ThreadRunBuilder)
    try:
        builder.wait(WAIT)
        assert builder.assistant.label.startswith("clock · ") and "get_time" in builder.functions
        builder.message.value = "What time is it in Lisbon?"
        builder.run_button.click()
        waiting = builder.wait(WAIT)
        assert waiting.status == "requires_action"
        call = waiting.pending_calls[0]
        assert builder.calls.field(call["id"]).value == f"12:00 in {json.loads(call['arguments'])['city']}"
        builder.calls.submit_button.click()
        assert "12:00 in" in builder.wait(WAIT).text
    finally:
        builder.close()


def test_the_form_follows_the_profiles_back_end(shell: InteractiveShell, sandbox: Any) -> None:
    # Asked, the sandbox says it speaks the Assistants API: the profile's setting wins over that answer.
    with capture_output():
        shell.run_line_magic("oai", f"profile add pinned --base-url {sandbox.base_url} --key-env SANDBOX_TEST_KEY "
                                    "--assistants-api responses")
        shell.run_line_magic("oai", "use pinned")
        pinned = shell.run_line_magic("assistant", "form")
        shell.run_line_magic("oai", "use test")
        asked = shell.run_line_magic("assistant", "form")
    try:
        assert (pinned.backend.name, asked.backend.name) == ("responses", "assistants")
        pinned.wait(WAIT), asked.wait(WAIT)
    finally:
        pinned.close(), asked.close()


@pytest.mark.parametrize("api", ["assistants"])  # the full sandbox
def test_a_form_from_a_client_takes_the_answer_the_server_gave_before(client: Any, faults: Any) -> None:
    first = ThreadRunBuilder(client, namespace={})  # asks the sandbox (or finds what %assistant was told)
    first.wait(WAIT)
    first.close()
    # Were the server asked again, this 404 would say it has no Assistants API.
    faults(path="/v1/assistants", method="GET", status=404, count=1)
    again = ThreadRunBuilder(client, namespace={})
    try:
        assert (first.backend.name, again.backend.name) == ("assistants", "assistants")
        again.wait(WAIT)
    finally:
        again.close()


@pytest.mark.parametrize("api", ["chat"])  # the sandbox without Assistants and Conversations
def test_a_form_whose_server_did_not_tell_uses_chat_and_says_so(client: Any, server: Any) -> None:
    from oai_magics.assistants.chooser import PROBED

    PROBED.pop(server.base_url, None)  # not asked yet in this kernel
    for path in ("/v1/assistants", "/v1/responses"):  # its Conversations API is off: no answer says anything
        assert requests.post(server.url + "/sandbox/faults", json={"path": path, "status": 502, "html": True,
                                                                   "count": 5}, timeout=10).ok
    try:
        made = ThreadRunBuilder(client, namespace={})
        made.wait(WAIT)
        assert made.backend.name == "chat"
        shown = html.unescape(made.error.value)
        assert "ℹ the form uses the chat API: the server's answer did not say which APIs it has (502" in shown
        made.close()
        again = ThreadRunBuilder(client, namespace={})  # said once
        again.wait(WAIT)
        assert again.backend.name == "chat" and again.error.value == ""
        again.close()
    finally:
        requests.delete(server.url + "/sandbox/faults", timeout=10)
        PROBED.pop(server.base_url, None)
