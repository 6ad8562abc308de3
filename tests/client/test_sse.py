"""The SSE decoder against hand-made byte streams, split at every possible point."""

from __future__ import annotations

import pytest

from oai_magics.client.sse import ServerSentEvent, SSEDecoder, iter_events

STREAM = (
    b"\xef\xbb\xbf: a comment, then an event with a name and two data lines\r\n"
    b"event: thread.message.delta\r\n"
    b"data: {\"a\":\r\n"
    b"data: 1}\r\n"
    b"\r\n"
    b"id: 7\n"
    b"retry: 1500\n"
    b"data:no space after the colon\n"
    b"\n"
    b"data: lone CR line ends\r\r"
    b"event: ignored because no data\n\n"
    b"data: caf\xc3\xa9 \xe2\x82\xac\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent('{"a":\n1}', "thread.message.delta"),
    ServerSentEvent("no space after the colon", "message", "7", 1500),
    ServerSentEvent("lone CR line ends", "message", "7", 1500),
    ServerSentEvent("café €", "message", "7", 1500),
    ServerSentEvent("[DONE]", "message", "7", 1500),
]


def decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    return list(iter_events(chunks))


def test_whole_stream() -> None:
    assert decode([STREAM]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_every_split_point(cut: int) -> None:
    assert decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED


def test_byte_by_byte() -> None:
    assert decode([bytes([b]) for b in STREAM]) == EXPECTED


@pytest.mark.parametrize("reads, expected", [
    ([b"data: a\n\n", b"data: b\n\n"], [ServerSentEvent("a"), ServerSentEvent("b")]),
    ([b"event: named\n", b"data: b\n\n"], [ServerSentEvent("b", "named")]),
    ([b"data: a\n", b"data: b\n\n"], [ServerSentEvent("a\nb")]),
    ([b"data: a\r", b"data: b\n\n"], [ServerSentEvent("a\nb")]),
    ([b"data: a\n\n", b"data: b\n\ndata: c\n\n"], [ServerSentEvent("a"), ServerSentEvent("b"), ServerSentEvent("c")]),
    # Reads after the first (which may begin with a byte order mark) that look like one event but are not:
    ([b"data: a\n\n", b"data: b\rdata: c\n\n"], [ServerSentEvent("a"), ServerSentEvent("b\nc")]),  # a lone CR
    ([b"data: a\n\n", b"data: b\ndata: c\n\n"], [ServerSentEvent("a"), ServerSentEvent("b\nc")]),  # two lines
])
def test_a_read_of_exactly_one_event_keeps_what_earlier_reads_began(reads: list[bytes],
                                                                   expected: list[ServerSentEvent]) -> None:
    """The usual read (one whole `data:` event) is decoded at once, with the name or lines that
    earlier reads of the same event brought."""
    assert decode(reads) == expected


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert decode([b"data: x\r", b"\n\r", b"\n"]) == [ServerSentEvent("x")]


def test_unterminated_last_event_is_dropped() -> None:
    assert decode([b"data: complete\n\ndata: cut off"]) == [ServerSentEvent("complete")]


def test_empty_data_line_makes_an_empty_event_and_fields_without_colon() -> None:
    assert decode([b"data\n\ndata:\ndata:\n\n"]) == [ServerSentEvent(""), ServerSentEvent("\n")]


def test_unknown_fields_and_bad_retry_are_ignored() -> None:
    assert decode([b"foo: bar\nretry: soon\ndata: ok\n\n"]) == [ServerSentEvent("ok")]


def test_feed_returns_only_completed_events() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent("a")]


@pytest.mark.parametrize("digits", ["\u0661\u0665\u0660\u0660", "\u00b9\u00b2", "１５００", "15 00", "-1", "+1500"])
def test_retry_with_anything_but_ascii_digits_is_ignored(digits: str) -> None:
    stream = f"retry: {digits}\ndata: ok\n\n".encode()
    assert decode([stream]) == decode(list(map(bytes, zip(stream)))) == [ServerSentEvent("ok")]


def test_a_bom_arriving_byte_by_byte_is_dropped() -> None:
    stream = b"\xef\xbb\xbfdata: first\n\n"
    assert decode([bytes([b]) for b in stream]) == [ServerSentEvent("first")]
    assert decode([b"\xef\xbb", b"\xbfdata: x\n\n"]) == [ServerSentEvent("x")]


@pytest.mark.timeout(60)
def test_one_huge_line_in_small_reads_is_linear() -> None:
    """32 MB in 1 KiB reads: re-joining the line on every read (over 500 GB copied) would not finish in time."""
    piece = b"x" * 1024
    decoder = SSEDecoder()
    assert decoder.feed(b"data: ") == []
    for _ in range(32 * 1024):
        assert decoder.feed(piece) == []
    events = decoder.feed(b"\n\n")
    assert len(events) == 1 and len(events[0].data) == 32 * 1024 * 1024
