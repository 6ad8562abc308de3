"""`{{name}}` placeholders in prompts, filled from the notebook's variables.

    {{city}}  {{user.name}}  {{rows[0]}}  {{ data["river"] }}

A DataFrame or Series becomes a Markdown table (its first `table_rows` rows, then one line saying
how many were left out), not its repr. Only prose is filled in: fenced code blocks (``` or ~~~) and inline `code` are sent as written,
so f-strings, Jinja and JSON inside code keep their braces. A placeholder whose name is not a
notebook variable (a Jinja template's `{{ user.name }}`, say) is left as it is, and one line on
stderr says so; a placeholder that names a variable but cannot be followed (a missing attribute
or key) is an error, since the prompt would otherwise be sent with a hole in it.
`--no-interpolate` sends every brace as written.
"""

from __future__ import annotations

import ast
import re
import sys
from typing import Any

from IPython.core.error import UsageError

__all__ = ["interpolate"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[[^\[\]]+\])*)\s*\}\}")
_STEP = re.compile(r"\.[A-Za-z_]\w*|\[[^\[\]]+\]")
# A fenced block runs from an opening fence to a closing fence of the same character that is at
# least as long, or to the end of the text (CommonMark); inline code is a backtick run closed by
# a run of the same length.
_FENCE = re.compile(r"^[ ]{0,3}(?P<fence>`{3,}|~{3,}).*?(?:^[ ]{0,3}(?P=fence)[`~]*[ \t]*$|\Z)", re.M | re.S)
_INLINE = re.compile(r"(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)", re.S)


TABLE_ROWS = 50  # the default of `%config OAIMagics.table_rows`


def interpolate(text: str, namespace: dict, table_rows: int = TABLE_ROWS) -> str:
    """The text with the placeholders in its prose replaced by the variables' values."""
    pieces, done = [], 0
    for start, end in _code_spans(text):
        pieces += [_fill(text[done:start], namespace, table_rows), text[start:end]]
        done = end
    pieces.append(_fill(text[done:], namespace, table_rows))
    return "".join(pieces)


def as_prompt_text(value: Any, table_rows: int = TABLE_ROWS) -> str:
    """What a value reads as in a prompt: a DataFrame or Series as a Markdown table of at most
    `table_rows` rows (and a line counting the rest), anything else as `str()` gives it."""
    if not _is_table(value):
        return str(value)  # pandas is never imported here: a notebook that has a frame has imported it
    if not _has_cells(value):  # a header row alone reads as a table whose rows were lost: say there are none
        columns = list(value.columns) if hasattr(value, "columns") else [value.name] if value.name is not None else []
        if len(value):  # rows and no columns: Markdown gave a rule with no header and the index below it
            return f"(a table of {len(value)} row{'s' if len(value) != 1 else ''} and no columns)"
        if columns:
            return f"(an empty table: no rows; columns: {', '.join(map(str, columns))})"
        return "(an empty table: no rows, no columns)" if hasattr(value, "columns") else "(an empty series: no values)"
    table = value.head(table_rows).to_markdown()
    left = len(value) - min(len(value), table_rows)
    return table + (f"\n\n({left} more row{'s' if left != 1 else ''} not shown, of {len(value)})" if left else "")


def _is_table(value: Any) -> bool:
    return type(value).__module__.partition(".")[0] == "pandas" and callable(getattr(value, "to_markdown", None))


def _has_cells(table: Any) -> bool:
    """Whether a DataFrame or Series has a value to show: a row, and (a frame) a column."""
    return bool(len(table)) and len(getattr(table, "columns", (None,))) > 0


def _on_lines_of_its_own(table: str, prose: str, match: re.Match) -> str:
    """A table placed mid-sentence (`Compare {{df}} with last year`) begins on a line of its own and
    is followed by a blank line: a header row after other text is no header, and a line right after a
    table is read as one more row of it."""
    before, after = prose[:match.start()], prose[match.end():]
    lead = "" if not before or before.endswith("\n") else "\n"
    trail = "" if not after or after.startswith("\n\n") else "\n" if after.startswith("\n") else "\n\n"
    return lead + table + trail


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each fenced block and inline code span, in order."""
    spans = []
    done = 0
    for fence in _FENCE.finditer(text):
        spans += [(m.start() + done, m.end() + done) for m in _INLINE.finditer(text[done:fence.start()])]
        spans.append(fence.span())
        done = fence.end()
    spans += [(m.start() + done, m.end() + done) for m in _INLINE.finditer(text[done:])]
    return spans


def _fill(prose: str, namespace: dict, table_rows: int) -> str:
    def value(match: re.Match) -> str:
        name, path = match.group(1), match.group(2)
        if name not in namespace:
            print(f"{match.group(0)} left as it is: there is no variable named {name!r}", file=sys.stderr)
            return match.group(0)
        failure: Exception | None = None
        try:
            current = namespace[name]
            for step in _STEP.findall(path):
                current = getattr(current, step[1:]) if step.startswith(".") else current[_index(step[1:-1])]
            text = as_prompt_text(current, table_rows)
            return _on_lines_of_its_own(text, prose, match) if _is_table(current) and _has_cells(current) else text
        # A missing key, but also any error the notebook's own object raises (a property, a __str__):
        # either way the prompt would go out with a hole in it, so it is one line, not a traceback.
        except Exception as exc:
            failure = exc
        raise UsageError(f"{match.group(0)}: {type(failure).__name__}: {failure} "
                         "(use --no-interpolate to send braces as they are)")

    return _PLACEHOLDER.sub(value, prose)


def _index(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
