"""A reply that grows in place: one display handle, re-rendered a few times a second.

In a notebook the text is shown as Markdown and updated at most every `interval` seconds (plus
once at the end), not per token; a long text waits longer between updates (see `RENDER_RATE`),
so a reply of any length costs time in proportion to its length. In a terminal it is printed as
it arrives. An answer with several choices (`n > 1`) shows each apart, headed "choice 1",
"choice 2", ...: one display per choice in a notebook, each choice printed whole when the answer
ends in a terminal (streamed choices arrive interleaved, and a terminal cannot write into earlier
lines).

A JSON reply (`json=True`) is shown indented as a fenced `json` block in a notebook, laid out as it
arrives (`partial_json`); a terminal gets it printed whole at the end. A choice the server cut at the
token limit (finish reason `length`) gets a note under it saying so.

What a notebook receives is a plain mime bundle, the Markdown source under `text/markdown` and the
same text under `text/plain` (for frontends that show no Markdown): published as it is, it skips
IPython's formatter pass, which looks up every registered formatter for a display object on each
update.

Markdown reads a line of only `-` or `=` under a line of text as that text's underline: the text
becomes a heading (a setext heading). A reply that starts a list (`-`, then ` item`) would flash the
line above as a big heading until the next character came, so a last line that could do that waits
until it ends or turns into something else (`settled`). A reply that stopped on such a line
(interrupted, cut short) shows it with its first mark escaped (`unheaded`): the text whole, no heading.
"""

from __future__ import annotations

import json as jsonlib
import sys
from functools import cache
from time import monotonic
from typing import Any

from IPython.display import display

__all__ = ["StreamView", "ChoiceViews", "rich_frontend", "pretty_json", "settled", "unheaded", "LENGTH_NOTE",
           "RENDER_RATE"]

# Characters a second a growing reply sends to the frontend, at most. Every update sends (and the
# frontend re-renders) the whole text, so with a fixed interval the cost of a reply would grow with
# the square of its length; spacing updates by the text's length keeps it linear. Replies up to 30,000
# characters (far beyond most) still update every 0.15 s.
RENDER_RATE = 200_000

LENGTH_NOTE = "cut at the token limit (finish reason `length`): raise --max-tokens to get the rest"

# What a setext heading's underline ends with (its marks and the spaces after them); what a line
# may open with before them (spaces, and a quote's `>`).
UNDERLINE_CHARS = frozenset("-= \t\r")
SPACES = " \t\r"
LINE_PREFIX = SPACES + ">"


def rich_frontend() -> bool:
    """Whether a frontend that renders Markdown is attached (a kernel, not a terminal)."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class StreamView:
    """Collects text pieces and keeps one output showing them."""

    def __init__(self, interval: float = 0.15, rich: bool | None = None, heading: str = "", json: bool = False) -> None:
        self.interval = interval
        self.rich = rich_frontend() if rich is None else rich
        self.heading = heading
        self.json = json
        self.parts: list[str] = []
        self._handle: Any = None
        self._next = 0.0  # the monotonic time after which the next update may be sent
        if heading and self.rich:
            self._render("")  # the headed display takes its place now, so choices show in order

    @property
    def text(self) -> str:
        if len(self.parts) > 1:  # joined once and kept joined: the next read joins only what is new
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def add(self, piece: str) -> None:
        if not piece:
            return
        self.parts.append(piece)
        if not self.rich:
            if self.heading or self.json:  # printed whole at the end: apart from other choices, or indented
                return
            sys.stdout.write(piece)
            sys.stdout.flush()
            return
        now = monotonic()
        if now >= self._next or not self.interval:
            self._render(self._fenced_json() if self.json else settled(self.text))
            self._next = now + max(self.interval, len(self.parts[0]) / RENDER_RATE)

    def _fenced_json(self) -> str:
        """A JSON reply so far, indented as it will be when whole (`partial_json`)."""
        from .partial_json import indent_partial

        return f"```json\n{indent_partial(self.text)}\n```"

    def finish(self, note: str = "") -> None:
        """The final render: the whole text (and a note such as 'interrupted').

        A note says why the text stopped short, so a last line cut off in the middle is not read as
        a heading's underline (see `unheaded`); a text without a note is complete, shown as it is.
        """
        pretty = pretty_json(self.text) if self.json else None
        if not self.rich:
            if self.heading:
                sys.stdout.write(f"--- {self.heading} ---\n")
            if self.heading or self.json:
                sys.stdout.write(self.text if pretty is None else pretty)
            sys.stdout.write((f"\n{note}" if note else "") + "\n")
            sys.stdout.flush()
            return
        suffix = f"\n\n*{note}*" if note else ""
        if pretty is not None:
            self._render(f"```json\n{pretty}\n```", suffix)
        else:
            self._render(unheaded(self.text) if note else self.text, suffix, plain=self.text)

    def _render(self, body: str, suffix: str = "", plain: str | None = None) -> None:
        """Show `body` (Markdown) under the heading, `suffix` after it; frontends without Markdown
        get `plain` in the body's place (the body itself unless given)."""
        head = f"**{self.heading}**\n\n" if self.heading else ""
        markdown = head + body + suffix
        bundle = {"text/markdown": markdown, "text/plain": markdown if plain is None else head + plain + suffix}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)


class ChoiceViews:
    """The choices of one answer, each in its own `StreamView` (headed when there are several)."""

    @classmethod
    def for_request(cls, params: dict, interval: float = 0.15) -> "ChoiceViews":
        """Views for the choices a request asks for (its `n`; a server checks the value itself),
        showing JSON indented when the request asks for a JSON reply."""
        n = params.get("n")
        wants_json = (params.get("response_format") or {}).get("type") in ("json_object", "json_schema")
        return cls(n if isinstance(n, int) else 1, interval, json=wants_json)

    def __init__(self, n: int = 1, interval: float = 0.15, rich: bool | None = None, json: bool = False) -> None:
        self.interval = interval
        self.rich = rich_frontend() if rich is None else rich
        self.json = json
        self.headed = n > 1
        self.views: list[StreamView] = []
        for index in range(max(n, 1)):
            self.view(index)

    def view(self, index: int) -> StreamView:
        """The view of choice `index` (a server may send more choices than asked for)."""
        while len(self.views) <= index:
            heading = f"choice {len(self.views) + 1}" if self.headed else ""
            self.views.append(StreamView(self.interval, self.rich, heading, self.json))
        return self.views[index]

    def add(self, index: int, piece: str) -> None:
        views = self.views  # called for every piece of a stream: the common case without a call
        (views[index] if index < len(views) else self.view(index)).add(piece)

    def finish(self, note: str = "") -> None:
        """The final render of every choice; the note (why the answer is partial) under each."""
        for view in self.views:
            view.finish(note)

    def finish_reply(self, reply: Any) -> None:
        """The final render of a `Reply`: why it is partial, or which choices hit the token limit."""
        cut = reply.cut_short()
        for index, view in enumerate(self.views):
            reason = reply.choices[index].finish_reason if index < len(reply.choices) else None
            view.finish(cut or (LENGTH_NOTE if reason == "length" else ""))


def pretty_json(text: str) -> str | None:
    """`text` indented when it is one JSON value, else None (a reply cut short is no JSON)."""
    try:
        return jsonlib.dumps(jsonlib.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return None


def settled(text: str) -> str:
    """`text` as far as it can be shown while more is coming: without a last, unfinished line of only
    `-` or `=` (and spaces) under a line of text, which Markdown would read as that line's underline
    and show as a heading. Most often such a line starts a list item or a rule: it waits for its
    next character. On every render of a growing reply: the common case is one look at the last character.
    """
    if not text or text[-1] not in UNDERLINE_CHARS:
        return text
    start = text.rfind("\n") + 1
    marks = text[start:].lstrip(LINE_PREFIX)
    if start == 0 or not marks.strip(SPACES) or marks.strip("-=" + SPACES):
        return text  # the first line (nothing above it), no marks, or more than marks
    above = text[text.rfind("\n", 0, start - 1) + 1:start - 1]
    return text[:start] if above.strip(LINE_PREFIX) else text  # under a blank line the marks make no heading


def unheaded(text: str) -> str:
    """Markdown source for a text that stopped short: when its last, unfinished line underlines the
    line above into a heading (as a Markdown parser reads it: never in code, but in a list item or
    a quote too), that line's first mark is escaped, so both lines show as the text they are.
    Nothing of `text` is left out."""
    start = len(settled(text))
    if start == len(text) or not _ends_in_setext_heading(text):
        return text
    mark = len(text) - len(text[start:].lstrip(LINE_PREFIX))
    return f"{text[:mark]}\\{text[mark:]}"


def _ends_in_setext_heading(text: str) -> bool:
    """Whether the last block of `text` (looked for inside lists and quotes) is a heading: for a text
    whose last line holds only marks that is a setext heading, underlined by that line."""
    blocks = _markdown_blocks()(text)
    while blocks:
        last = blocks[-1]
        if last["type"] == "heading":
            return True
        blocks = last.get("children") if last["type"] in ("list", "list_item", "block_quote") else None
    return False


@cache
def _markdown_blocks() -> Any:
    """mistune's Markdown parser giving the block tree (as in the builder's chat view), made on first
    use: most replies never need it."""
    import mistune

    return mistune.create_markdown(renderer=None)
