"""What a newcomer types first: a question to `%chat`, ending with a question mark.

IPython reads a line that ends in `?` as a request for help on its last word, before any magic
sees it, so `%chat Are you still there?` prints "Object `there` not found." and sends nothing
(seen in JupyterLab). `%%chat` cells are not affected: only the line forms of the prompt magics.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "oai_magics")
    yield ip
    ip.run_line_magic("unload_ext", "oai_magics")
    InteractiveShell.clear_instance()


@pytest.mark.xfail(strict=True, reason="IPython's help-end transformer turns a magic line ending in '?' into "
                   "%pinfo of its last word; the extension registers no input transformer to keep prompts whole")
@pytest.mark.parametrize("line, magic, prompt", [
    ("%chat Are you still there?", "chat", "Are you still there?"),
    ("%image a cat in a hat?", "image", "a cat in a hat?"),
])
def test_a_prompt_ending_in_a_question_mark_reaches_the_magic(shell: InteractiveShell, line: str, magic: str,
                                                              prompt: str) -> None:
    assert shell.transform_cell(line) == f"get_ipython().run_line_magic({magic!r}, {prompt!r})\n"


def test_help_on_the_magic_itself_still_works(shell: InteractiveShell) -> None:
    assert "pinfo" in shell.transform_cell("%chat?")
