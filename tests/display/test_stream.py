"""display.stream: the throttled stream view of a reply, and one view per choice."""

from __future__ import annotations

import re

import mistune
import pytest
from IPython.utils.capture import capture_output

from oai_magics.display.stream import ChoiceViews, StreamView, settled, unheaded


def test_stream_view_renders_a_few_times_not_per_piece() -> None:
    pieces = [f"w{i} " for i in range(500)]
    with capture_output() as out:
        view = StreamView(interval=60, rich=True)
        for piece in pieces:
            view.add(piece)
        view.finish("interrupted: partial reply kept")
    assert len(out.outputs) == 2  # the first render, then the final one
    final = out.outputs[-1].data["text/markdown"]
    assert final == "".join(pieces) + "\n\n*interrupted: partial reply kept*"
    assert view.text == "".join(pieces)


def test_a_reply_is_published_as_markdown_with_its_text_for_plain_frontends() -> None:
    with capture_output() as out:
        view = StreamView(interval=60, rich=True)
        view.add("**Lisbon** is ")
        view.add("by the sea")
        view.finish()
    assert [o.data for o in out.outputs] == [{"text/markdown": "**Lisbon** is ", "text/plain": "**Lisbon** is "},
                                             {"text/markdown": "**Lisbon** is by the sea",
                                              "text/plain": "**Lisbon** is by the sea"}]
    assert out.outputs[0].transient["display_id"] == out.outputs[1].transient["display_id"]  # one display, updated


def test_stream_view_with_no_interval_renders_each_piece() -> None:
    with capture_output() as out:
        view = StreamView(interval=0, rich=True)
        for piece in ["a", "b", "c"]:
            view.add(piece)
    assert [o.data["text/markdown"] for o in out.outputs] == ["a", "ab", "abc"]


def test_a_long_text_waits_longer_between_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    from oai_magics.display import stream

    now = [100.0]
    monkeypatch.setattr(stream, "monotonic", lambda: now[0])
    long_text = "x" * (3 * stream.RENDER_RATE)  # its updates are spaced by 3 s, not by the interval
    with capture_output() as out:
        view = StreamView(interval=0.15, rich=True)
        for at, piece in [(100.0, "a"), (100.1, "b"), (100.2, long_text), (101.0, "c"), (103.1, "d"), (103.3, "e")]:
            now[0] = at
            view.add(piece)
    shown = [o.data["text/markdown"] for o in out.outputs]
    assert shown == ["a", "ab" + long_text, "ab" + long_text + "cde"]


def headings(markdown: str) -> list[str]:
    """The headings a Markdown renderer makes of `markdown`."""
    return re.findall(r"<h[1-6]>.*?</h[1-6]>", mistune.html(markdown))


def test_a_list_begun_under_a_line_never_shows_that_line_as_a_heading() -> None:
    with capture_output() as out:
        view = StreamView(interval=0, rich=True)
        for piece in ["Fruit:\n", "-", " apple\n", "-", "-", "-"]:
            view.add(piece)
    shown = [o.data["text/markdown"] for o in out.outputs]
    assert shown == ["Fruit:\n", "Fruit:\n", "Fruit:\n- apple\n", "Fruit:\n- apple\n", "Fruit:\n- apple\n",
                     "Fruit:\n- apple\n"]  # `-` under `Fruit:` (or under `apple`) would underline it
    assert not any(headings(markdown) for markdown in shown)
    assert view.text == "Fruit:\n- apple\n---"


@pytest.mark.parametrize("text, shown", [
    ("Title\n-", "Title\n"),              # `-` under a line: a setext h2
    ("Title\n==", "Title\n"),             # `=`: an h1
    ("Title\n  -- \t", "Title\n"),        # indented, spaces after
    ("- item\n  -", "- item\n"),          # inside a list item
    ("> quoted\n> -", "> quoted\n"),      # inside a quote
    ("Title\n- -", "Title\n"),            # still being written: could go on as anything
    ("```\ncode\n-", "```\ncode\n"),      # held in code too, for a moment: the line is not ended
    ("Title\n- apple", "Title\n- apple"),  # a list item
    ("Title\n\n---", "Title\n\n---"),      # under a blank line: a rule, never a heading
    ("-", "-"),                           # the first line: nothing above it
    ("Title\n---\n", "Title\n---\n"),      # ended: a heading, as Markdown has it once complete
    ("Title\n  ", "Title\n  "),           # spaces are no marks
    ("a - b =", "a - b ="),
])
def test_a_last_line_that_could_underline_the_line_above_waits(text: str, shown: str) -> None:
    assert settled(text) == shown


def test_an_interrupted_reply_keeps_a_dangling_mark_as_text_not_as_an_underline() -> None:
    with capture_output() as out:
        view = StreamView(interval=60, rich=True)
        view.add("Fruit:\n-")
        view.finish("interrupted: partial reply kept")
    final = out.outputs[-1].data
    assert final["text/markdown"] == "Fruit:\n\\-\n\n*interrupted: partial reply kept*"
    assert headings(final["text/markdown"]) == [] and "-" in mistune.html(final["text/markdown"])
    assert final["text/plain"] == "Fruit:\n-\n\n*interrupted: partial reply kept*"  # the text whole, as it came
    assert view.text == "Fruit:\n-"


@pytest.mark.parametrize("text, source", [
    ("Title\n==", "Title\n\\=="),
    ("- item\n  -", "- item\n  \\-"),
    ("> quoted\n> -", "> quoted\n> \\-"),
    ("```\ncode\n-", "```\ncode\n-"),      # in code nothing is a heading, and an escape would show
    ("    code\n    -", "    code\n    -"),  # indented code
    ("Title\n- -", "Title\n- -"),           # a list in a list, no heading
    ("Title\n\n---", "Title\n\n---"),        # a rule
])
def test_a_reply_cut_on_a_line_of_marks_shows_no_heading_and_loses_nothing(text: str, source: str) -> None:
    assert unheaded(text) == source
    assert headings(source + "\n\n*interrupted*") == []


def test_a_complete_reply_ending_in_an_underline_is_shown_as_markdown_has_it() -> None:
    with capture_output() as out:
        view = StreamView(interval=60, rich=True)
        view.add("Fruit\n---")
        view.finish()
    assert out.outputs[-1].data["text/markdown"] == "Fruit\n---"


def test_plain_stream_prints_as_it_arrives() -> None:
    with capture_output() as out:
        view = StreamView(rich=False)
        view.add("Hel")
        view.add("lo")
        view.finish()
    assert out.stdout == "Hello\n" and out.outputs == []


def test_choices_each_have_their_own_headed_display_in_order() -> None:
    with capture_output() as out:
        views = ChoiceViews(2, interval=0, rich=True)
        views.add(1, "Bon")  # streamed choices arrive interleaved, in any order
        views.add(0, "Hel")
        views.add(1, "jour")
        views.finish()
    ids = [o.transient["display_id"] for o in out.outputs]
    shown = {}
    for display_id, output in zip(ids, out.outputs):
        shown[display_id] = output.data["text/markdown"]
    assert [out.outputs[0].data["text/markdown"], out.outputs[1].data["text/markdown"]] == ["**choice 1**\n\n",
                                                                                            "**choice 2**\n\n"]
    assert [shown[ids[0]], shown[ids[1]]] == ["**choice 1**\n\nHel", "**choice 2**\n\nBonjour"]


def test_a_json_reply_ends_as_an_indented_json_block_in_a_notebook() -> None:
    with capture_output() as out:
        view = StreamView(interval=0, rich=True, json=True)
        for piece in ['{"a": ', '[1, 2]}']:
            view.add(piece)
        view.finish()
    assert out.outputs[-1].data["text/markdown"] == '```json\n{\n  "a": [\n    1,\n    2\n  ]\n}\n```'
    with capture_output() as out:  # cut short, it is no JSON: shown as it came
        view = StreamView(interval=0, rich=True, json=True)
        view.add('{"a": [1,')
        view.finish("interrupted: partial reply kept")
    assert out.outputs[-1].data["text/markdown"] == '{"a": [1,\n\n*interrupted: partial reply kept*'


def test_plain_choices_are_printed_whole_one_after_another() -> None:
    with capture_output() as out:
        views = ChoiceViews(2, rich=False)
        views.add(1, "Bon")
        views.add(0, "Hel")
        views.add(1, "jour")
        views.finish("interrupted: partial reply kept")
    assert out.stdout == ("--- choice 1 ---\nHel\ninterrupted: partial reply kept\n"
                          "--- choice 2 ---\nBonjour\ninterrupted: partial reply kept\n")


def test_a_streamed_json_reply_shows_indented_in_a_fence_as_it_arrives() -> None:
    with capture_output() as out:
        view = StreamView(interval=0, rich=True, json=True)
        for piece in ['{"name": "Lis', 'bon", "tags": ["a"', ', "b"]}']:
            view.add(piece)
        view.finish()
    shown = [o.data["text/markdown"] for o in out.outputs]
    assert shown[0] == '```json\n{\n  "name": "Lis\n```'
    assert shown[1] == '```json\n{\n  "name": "Lisbon",\n  "tags": [\n    "a"\n```'
    assert shown[-1] == '```json\n{\n  "name": "Lisbon",\n  "tags": [\n    "a",\n    "b"\n  ]\n}\n```'
