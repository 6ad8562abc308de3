"""What a reply looks like under the magics: JSON indented, a note when cut at the token limit,
the tokens line of %oai complete, and the conversation history as a clean table."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from tests.helpers.rawserver import answer, chat_answer, stream
from tests.helpers.shells import use_server

from .conftest import run

LENGTH_NOTE = "cut at the token limit (finish reason `length`)"


@pytest.mark.parametrize("flags", ["", "--no-stream"])
def test_a_json_reply_is_shown_indented_and_kept_as_the_string(shell: Any, flags: str) -> None:
    _, out = run(shell, "chat", f"--json {flags} -o answer", "Give me json about cats")
    text = shell.user_ns["answer"]
    assert text == shell.user_ns["_"] and "\n" not in text  # the string exactly as the model sent it
    assert json.dumps(json.loads(text), indent=2) in out.stdout
    assert text not in out.stdout  # the one long line is not shown as well


@pytest.mark.parametrize("magic, line", [("chat", "--max-tokens 3 Describe the sea at length"),
                                         ("oai", "complete --max-tokens 3 Once upon a time"),
                                         ("oai", "complete --no-stream --max-tokens 3 Once upon a time")])
def test_a_reply_cut_at_max_tokens_says_so(shell: Any, magic: str, line: str) -> None:
    _, out = run(shell, magic, line)
    assert LENGTH_NOTE in out.stdout
    _, out = run(shell, magic, line.replace("--max-tokens 3", "--max-tokens 400"))
    assert LENGTH_NOTE not in out.stdout


@pytest.mark.parametrize("flags", ["", "--no-stream"])
def test_complete_shows_its_tokens_line(shell: Any, flags: str) -> None:
    _, out = run(shell, "oai", f"complete {flags} --max-tokens 5 Once upon a time")
    assert " prompt + " in out.stdout and " completion tokens" in out.stdout


def test_history_has_no_trailing_newline_nan_or_nat(shell: Any) -> None:
    shell.run_cell("%%chat -s 'Be brief'\nTell me about owls\n")
    history, _ = run(shell, "oai", "history")
    assert list(history["role"]) == ["system", "user", "assistant"]
    assert history.loc[1, "content"] == "Tell me about owls"
    assert str(history["turn"].dtype) == "int64" and str(history["interrupted"].dtype) == "bool"
    assert isinstance(history["at"].dtype, pd.DatetimeTZDtype) and not history["at"].isna().any()
    assert history.loc[0, "model"] is None and history.loc[2, "model"] == "gpt-5.4-mini"
    assert not history.drop(columns="model").isna().any().any()


# -- replies in other shapes than plain text, from a raw server -------------------------------------

REFUSED = "I can't help with that."
REFUSAL_CHUNKS = (
    b'data: {"object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", '
    b'"content": null, "refusal": "' + REFUSED.encode() + b'"}, "finish_reason": null}]}\n\n',
    b'data: {"object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": {}, '
    b'"finish_reason": "stop"}]}\n\n',
    b"data: [DONE]\n\n",
)


@pytest.mark.parametrize("line", ["--no-stream", ""])
def test_a_refusal_is_shown_not_an_empty_reply(serve: Any, raw_shell: InteractiveShell, line: str) -> None:
    # OpenAI answers a request it declines (structured outputs, safety) with content null and the
    # reason in `refusal`; %%chat shows only "[m · 0.00 s]" and `_` is "": the user never sees why.
    handler = answer(chat_answer({"role": "assistant", "content": None, "refusal": REFUSED})) if line else \
        stream(*REFUSAL_CHUNKS)
    use_server(raw_shell, serve(handler))
    with capture_output() as captured:
        raw_shell.run_cell_magic("chat", line, "hi")
    assert REFUSED in captured.stdout


def test_a_refusal_given_as_a_content_part_is_shown(serve: Any, raw_shell: InteractiveShell) -> None:
    # The list-of-parts reading keeps only parts of type "text"; OpenAI's own content parts for an
    # assistant message include {"type": "refusal", "refusal": ...}, which is dropped, so %%chat
    # shows only "[m · 0.00 s]": the very case the refusal fix was for.
    message = {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]}
    use_server(raw_shell, serve(answer(json.dumps({"object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "message": message, "finish_reason": "stop"}]}).encode())))
    with capture_output() as captured:
        raw_shell.run_cell_magic("chat", "--no-stream", "hi")
    assert "I can't help with that." in captured.stdout


def test_a_reply_whose_content_is_a_list_of_text_parts_is_shown(serve: Any, raw_shell: InteractiveShell) -> None:
    # Some OpenAI-compatible servers (Mistral's reasoning models among them) send `content` as a
    # list of typed parts; the fix for wrong values now refuses it as "text of type list".
    use_server(raw_shell, serve(answer(chat_answer({"role": "assistant", "content": [{"type": "text", "text": "parts answer"}]}))))
    with capture_output() as captured:
        raw_shell.run_cell_magic("chat", "--no-stream", "hi")
    assert "parts answer" in captured.stdout
