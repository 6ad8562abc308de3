"""`%assistant form` in a real IPython shell: the builder it opens finds the notebook's functions."""

from __future__ import annotations

import json

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
