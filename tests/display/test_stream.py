"""display.stream: the throttled stream view of a reply, and one view per choice."""

from __future__ import annotations

import pytest
from IPython.utils.capture import capture_output

from oai_magics.display.stream import ChoiceViews, StreamView


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
