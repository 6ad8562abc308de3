"""JSON indented while it is still arriving: a streamed `--json`/`--schema` reply shown as it will
look when whole, not as one long line that jumps into shape at the end.

`indent_partial` re-lays out the text so far with two-space indents, one member per line, as
`json.dumps(..., indent=2)` lays out a whole value; strings are copied as they came (escapes and
all), whitespace between tokens is dropped and replaced. It never parses, so a value cut in the
middle (`{"name": "Lis`) shows what there is.
"""

from __future__ import annotations

import re

__all__ = ["indent_partial"]

INDENT = "  "
OPENERS = "{["
CLOSERS = "}]"
SPACE = re.compile(r"\s*")


def indent_partial(text: str) -> str:
    """`text`, the beginning of a JSON value, laid out with two-space indents."""
    out: list[str] = []
    depth = 0
    in_string = escaped = False
    length = len(text)
    for index, char in enumerate(text):
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif char in OPENERS:
            depth += 1
            after = SPACE.match(text, index + 1).end()  # type: ignore[union-attr] (\s* always matches)
            empty = text[after:after + 1] in ("]", "}")  # `[]` and `{}` stay on their line
            out.append(char if empty or after >= length else char + "\n" + INDENT * depth)
        elif char in CLOSERS:
            depth = max(depth - 1, 0)
            if out and out[-1][-1:] not in OPENERS:
                out.append("\n" + INDENT * depth)
            out.append(char)
        elif char == ",":
            out.append(",\n" + INDENT * depth)
        elif char == ":":
            out.append(": ")
        elif not char.isspace():
            out.append(char)
    return "".join(out)
