"""A prompt ending in `?` reaches the magic: IPython's help-end syntax no longer swallows it.

Before the extension's token transformer, `%chat what is it?` became `%pinfo it` ("Object `it`
not found.") and nothing was sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.magics import session_of


def call(magic: str, args: str) -> str:
    return f"get_ipython().run_line_magic({magic!r}, {args!r})"


@pytest.mark.parametrize("cell, expected", [
    ("%chat what is a monad?", call("chat", "what is a monad?") + "\n"),
    ("%image a cat in a hat?", call("image", "a cat in a hat?") + "\n"),
    ("%chat what's {{x}} for?", call("chat", "what's {{x}} for?") + "\n"),  # an apostrophe breaks Python's tokens
    ("%oai moderate is this fine?", call("oai", "moderate is this fine?") + "\n"),
    ("reply = %chat -m gpt-4o why?", "reply = " + call("chat", "-m gpt-4o why?") + "\n"),
    ("%chat is x = 2 true?", call("chat", "is x = 2 true?") + "\n"),  # an `=` in the prompt is no assignment
    ("y = %chat is x = 2?", "y = " + call("chat", "is x = 2?") + "\n"),
    ("for x in xs:\n    %chat is {x} a word?\n", "for x in xs:\n    " + call("chat", "is {x} a word?") + "\n"),
    ("%chat what is\\\na monad?", call("chat", "what is a monad?") + "\n"),
    ("len?\n%chat and you?", "get_ipython().run_line_magic('pinfo', 'len')\n" + call("chat", "and you?") + "\n"),
])
def test_a_line_of_our_magic_ending_in_a_question_mark_calls_the_magic(shell: InteractiveShell, cell: str,
                                                                      expected: str) -> None:
    assert shell.transform_cell(cell) == expected


@pytest.mark.parametrize("cell, expected", [
    ("%chat?", call("pinfo", "%chat") + "\n"),  # help on the magic itself
    ("%chat??", call("pinfo2", "%chat") + "\n"),
    ("%%chat?", call("pinfo", "%%chat") + "\n"),
    ("%time what?", call("pinfo", "what") + "\n"),  # not our magic: IPython's rule as before
    ("%chatty what?", call("pinfo", "what") + "\n"),
    ('s = """\n%chat is it?\n"""', 's = """\n%chat is it?\n"""\n'),  # text inside a string is never touched
])
def test_help_requests_and_other_lines_are_left_to_ipython(shell: InteractiveShell, cell: str, expected: str) -> None:
    assert shell.transform_cell(cell) == expected


def test_the_question_is_sent_and_answered(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        result = shell.run_cell("%chat --no-stream what is a monad?")
    assert result.success, captured.stdout + captured.stderr
    assert "not found" not in captured.stdout
    sent = [row["content"] for row in session_of(shell).conversations["default"].rows() if row["role"] == "user"]
    assert sent == ["what is a monad?"]
    assert "what is a monad?" in captured.stdout  # the sandbox's reply quotes what it was asked


def test_a_cell_magic_whose_first_line_ends_in_a_question_mark_runs(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        result = shell.run_cell("%%chat --no-stream -s why?\nand who?")
    assert result.success, captured.stdout
    assert [row["content"] for row in session_of(shell).conversations["default"].rows()][:2] == ["why?", "and who?"]


def test_help_on_the_magic_is_still_shown(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        shell.run_cell("%chat?")
    assert "--no-stream" in captured.stdout  # the magic's own help, from its parser


@pytest.mark.parametrize("cell, shown", [("%assistant run?", "--no-stream"), ("%assistant run??", "--image X"),
                                         ("%oai files?", "upload")])
def test_a_subcommand_ending_in_a_question_mark_shows_its_help(shell: InteractiveShell, cell: str, shown: str) -> None:
    with capture_output() as captured:
        result = shell.run_cell(cell)
    assert result.success and shown in captured.stdout, captured.stderr


def test_unloading_gives_ipython_its_rule_back(shell: InteractiveShell) -> None:
    shell.run_line_magic("unload_ext", "oai_magics")
    assert shell.transform_cell("%chat what is it?") == call("pinfo", "it") + "\n"
    shell.run_line_magic("load_ext", "oai_magics")
    assert shell.transform_cell("%chat what is it?") == call("chat", "what is it?") + "\n"
    rules = shell.input_transformer_manager.token_transformers
    assert sum(rule.__name__ == "QuestionLine" for rule in rules) == 1  # loaded twice, registered once


def test_reloading_does_not_stack_the_rule(shell: Any) -> None:
    shell.run_line_magic("reload_ext", "oai_magics")
    rules = shell.input_transformer_manager.token_transformers
    assert sum(rule.__name__ == "QuestionLine" for rule in rules) == 1
