"""A prompt may end in `?`: keep IPython from reading `%chat what is a monad?` as a help request.

IPython's help-end syntax turns a line ending in `?` into `%pinfo` of its last word, so the
question never reached the magic ("Object `monad` not found."). The token transformer made here
claims such a line of one of our magics (`%chat ...?`, `x = %oai moderate ...?`, continued with
`\\` or not) just before the help-end rule would, and rewrites it into the call IPython itself makes
for a magic line. It works on tokens, as IPython's own rules do, so text inside a string literal is
never touched. A magic asked about on its own (`%chat?`, `%oai??`) has no argument and stays a help
request. `%%chat` cells need nothing: IPython turns a cell magic into one call before looking for
help syntax.
"""

from __future__ import annotations

import tokenize
from typing import Any, Iterable

from IPython.core.inputtransformer2 import (ESC_MAGIC, HelpEnd, TokenTransformBase, _find_assign_op,
                                            assemble_continued_line, find_end_of_continued_line, tr)

__all__ = ["QuestionLine", "install", "uninstall"]


class QuestionLine(TokenTransformBase):
    """`[target =] %name words?` for a magic in `names`: the magic is called with the whole line."""

    names: frozenset[str] = frozenset()  # set on the subclass `install` makes
    priority = HelpEnd.priority - 1  # same start as the help-end rule's match: this one goes first

    def __init__(self, start: tuple[int, int], magic_col: int) -> None:
        super().__init__(start)
        self.magic_col = magic_col

    @classmethod
    def find(cls, tokens_by_line: list[list[tokenize.TokenInfo]]) -> "QuestionLine | None":
        for line in tokens_by_line:
            if len(line) < 5 or line[-2].string != "?":
                continue
            first = next(i for i, token in enumerate(line) if token.type not in (tokenize.INDENT, tokenize.DEDENT))
            assign = _find_assign_op(line)  # an `=` in the prompt itself is no assignment: the line start goes first
            for percent in (first, None if assign is None else assign + 1):
                if percent is not None and cls._asks_our_magic(line, percent):
                    # Reported where the help-end rule reports the line (its first token), to be chosen over it.
                    return cls(line[first].start, line[percent].start[1])
        return None

    @classmethod
    def _asks_our_magic(cls, line: list[tokenize.TokenInfo], percent: int) -> bool:
        """`%name` (written together) followed by words, not just question marks (`%chat??` asks for help)."""
        if percent + 2 >= len(line) - 2 or line[percent].string != ESC_MAGIC or line[percent + 2].string == "?":
            return False
        name = line[percent + 1]
        return (name.type == tokenize.NAME and name.string in cls.names
                and name.start == (line[percent].start[0], line[percent].start[1] + 1))

    def transform(self, lines: list[str]) -> list[str]:
        end_line = find_end_of_continued_line(lines, self.start_line)
        text = assemble_continued_line(lines, (self.start_line, self.magic_col), end_line)
        head = lines[self.start_line][:self.magic_col]  # the indent, and `x = ` for an assignment
        call = tr[ESC_MAGIC](text[len(ESC_MAGIC):])
        return lines[:self.start_line] + [head + call + "\n"] + lines[end_line + 1:]


def install(shell: Any, names: Iterable[str]) -> type[QuestionLine]:
    """Put a QuestionLine for `names` in the shell's token transformers; returns it, for `uninstall`."""
    rule = type("QuestionLine", (QuestionLine,), {"names": frozenset(names), "__module__": __name__})
    transformers = shell.input_transformer_manager.token_transformers
    at = transformers.index(HelpEnd) if HelpEnd in transformers else len(transformers)
    transformers.insert(at, rule)
    return rule


def uninstall(shell: Any, rule: type[QuestionLine] | None) -> None:
    transformers = shell.input_transformer_manager.token_transformers
    if rule in transformers:
        transformers.remove(rule)
