"""A server that answers badly: each call ends in a result or one clear error, keeps what arrived,
and never shows the key the server echoes back.

The server is a raw loopback socket (`tests.helpers.rawserver`), so it can send what no framework
would: `null` for an answer, chunks of the wrong shape, a JSON body to a streamed request, a
`Retry-After` of infinity, the key escaped where a mask does not look, an HTML page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oai_magics.client.accumulate import ChunkAccumulator, consume
from oai_magics.client.errors import OpenAIError, RateLimitError
from oai_magics.client.responses_stream import ResponseAccumulator
from tests.helpers.rawserver import MESSAGES, SERVER_KEY, answer, client_for, stream


# -- Retry-After ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "1e300"])
def test_a_retry_after_beyond_any_clock_is_one_clear_error(serve: Any, value: str) -> None:
    server = serve(answer(b'{"error": {"message": "slow down"}}', "429 Too Many Requests",
                          b"Content-Type: application/json\r\nRetry-After: " + value.encode() + b"\r\n"))
    with pytest.raises(RateLimitError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert "slow down" in str(info.value) and "not retried" in str(info.value)
    assert server.connections == 1


def test_a_retry_after_of_days_names_the_date_not_only_the_hour(serve: Any) -> None:
    server = serve(answer(b'{"error": {"message": "slow down"}}', "429 Too Many Requests",
                          b"Content-Type: application/json\r\nRetry-After: 200000\r\n"))
    with pytest.raises(RateLimitError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert "-" in str(info.value).rpartition("try again")[2]  # a date, 2.3 days on


# -- streams of the wrong shape ------------------------------------------------------------------

GOOD = b'data: {"choices": [{"index": 0, "delta": {"content": "kept"}}]}\n\n'


@pytest.mark.parametrize("bad", [b"data: null\n\n", b'data: {"choices": [{"index": 0, "delta": "x"}]}\n\n',
                                 b'data: {"choices": [{"index": "0", "delta": {"content": "x"}}]}\n\n',
                                 b'data: {"choices": [{"index": 0, "delta": {"content": 5}}]}\n\n'])
def test_a_malformed_chunk_ends_the_stream_with_an_error_keeping_the_text(serve: Any, bad: bytes) -> None:
    server = serve(stream(GOOD, bad, b"data: [DONE]\n\n"))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())
    assert reply.text.startswith("kept")
    assert reply.error is None or isinstance(reply.error, OpenAIError)


def test_a_huge_choice_index_ends_the_reply_keeping_its_text() -> None:
    chunks = [{"choices": [{"index": 0, "delta": {"content": "kept"}}]},
              {"choices": [{"index": 100_000, "delta": {"content": "x"}}]}]
    reply = consume(iter(chunks), ChunkAccumulator())
    assert reply.text == "kept" and len(reply.choices) == 1
    assert isinstance(reply.error, OpenAIError) and "choice index 100000" in str(reply.error)


@pytest.mark.parametrize("where", [{"output_index": 100_000, "content_index": 0},
                                   {"output_index": 0, "content_index": 100_000}])
def test_a_huge_output_or_content_index_ends_the_reply_keeping_its_text(where: dict) -> None:
    events = [{"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "kept"},
              {"type": "response.output_text.delta", "delta": "x", **where}]
    accumulator = ResponseAccumulator()
    reply = consume(iter(events), accumulator)
    assert reply.text == "kept" and accumulator.text == "kept"
    assert len(accumulator.items) == 1 and len(accumulator.items[0]["content"]) == 1
    assert isinstance(reply.error, OpenAIError) and "index 100000" in str(reply.error)


def test_choices_a_little_out_of_order_are_kept_in_place() -> None:
    chunks = [{"choices": [{"index": 2, "delta": {"content": "c"}}]},
              {"choices": [{"index": 0, "delta": {"content": "a"}}]}]
    reply = consume(iter(chunks), ChunkAccumulator())
    assert reply.error is None and reply.texts == ["a", "", "c"]


@pytest.mark.parametrize("body, text, error", [
    (b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "whole answer"}, '
     b'"finish_reason": "stop"}]}', "whole answer", None),
    (b'{"error": {"message": "quota exceeded for ' + SERVER_KEY.encode() + b'"}}', "",
     "quota exceeded for Secret('********')"),
])
def test_a_json_answer_to_a_streamed_request_is_not_thrown_away(serve: Any, body: bytes, text: str,
                                                                error: str | None) -> None:
    server = serve(answer(body))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())
    assert reply.text == text
    assert (reply.error is None) if error is None else (isinstance(reply.error, OpenAIError) and error in str(reply.error))


@pytest.mark.parametrize("has_more", [b'"false"', b'"no"', b"1", b"null"])
def test_only_a_real_true_has_more_pages(serve: Any, has_more: bytes) -> None:
    server = serve(answer(b'{"object": "list", "data": [{"id": "a"}], "has_more": ' + has_more + b"}"))
    page = client_for(server).models.list()
    assert [item["id"] for item in page.auto_paging_iter()] == ["a"] and not page.has_next_page()
    assert server.connections == 1


# -- a key echoed where the body mask does not look -----------------------------------------------

def test_a_key_echoed_in_the_request_id_header_stays_out_of_the_error(serve: Any) -> None:
    server = serve(answer(b'{"error": {"message": "bad"}}', "400 Bad Request",
                          b"Content-Type: application/json\r\nx-request-id: req-" + SERVER_KEY.encode() + b"\r\n"))
    with pytest.raises(OpenAIError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert SERVER_KEY not in str(info.value) and SERVER_KEY not in repr(vars(info.value))


def test_a_key_echoed_json_escaped_stays_out_of_the_error(serve: Any) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in SERVER_KEY)  # valid JSON for the same string
    server = serve(answer(b'{"error": {"message": "key ' + escaped.encode() + b' refused"}}', "401 Unauthorized"))
    with pytest.raises(OpenAIError) as info:
        client_for(server).chat.completions.create(model="m", messages=MESSAGES)
    assert SERVER_KEY not in str(info.value)


def test_a_key_echoed_json_escaped_in_a_stream_stays_out_of_the_reply(serve: Any) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in SERVER_KEY)
    event = b'data: {"choices": [{"index": 0, "delta": {"content": "' + escaped.encode() + b'"}}]}\n\n'
    server = serve(stream(event, b"data: [DONE]\n\n"))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())
    assert SERVER_KEY not in reply.text


# -- embeddings that do not fit their inputs ------------------------------------------------------

@pytest.mark.parametrize("indexes", [(0, 0), (7, 0)])
def test_embedding_indexes_that_do_not_match_the_inputs_are_refused(serve: Any, indexes: tuple[int, int]) -> None:
    data = [{"embedding": [1.0, 1.0], "index": indexes[0]}, {"embedding": [0.0, 0.0], "index": indexes[1]}]
    server = serve(answer(json.dumps({"object": "list", "data": data}).encode()))
    with pytest.raises(OpenAIError):  # today: row 1 silently gets a vector the server gave for another input
        client_for(server).embeddings.create(model="m", input=["a", "b"])


# -- a whole answer to a stream, under another content type --------------------------------------

WHOLE_CHAT = (b'{"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", '
              b'"content": "the whole reply"}, "finish_reason": "stop"}]}')


@pytest.mark.parametrize("content_type", [b"Content-Type: text/plain\r\n", b""])
def test_a_whole_chat_answer_to_a_stream_keeps_its_text_whatever_its_content_type(serve: Any, content_type: bytes) -> None:
    server = serve(answer(WHOLE_CHAT, headers=content_type))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    reply = consume(chunks, ChunkAccumulator())  # today: '' and "the stream ended ... after 0 events"
    assert reply.text == "the whole reply"


@pytest.mark.parametrize("content_type", [b"Content-Type: text/plain\r\n", b""])
def test_events_under_another_content_type_are_still_read_as_events(serve: Any, content_type: bytes) -> None:
    events = (b'\n: a comment first\ndata: {"choices": [{"index": 0, "delta": {"content": "streamed "}}]}\n\n'
              b'data: {"choices": [{"index": 0, "delta": {"content": "reply"}}]}\n\ndata: [DONE]\n\n')
    server = serve(answer(events, headers=content_type))
    chunks = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert consume(chunks, ChunkAccumulator()).text == "streamed reply"


# -- a web page or a byte order mark where JSON or events were expected ---------------------------

WHOLE = json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello there"},
                                 "finish_reason": "stop"}]}).encode()


def streamed_reply(server: Any) -> Any:
    stream = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    return consume(stream, ChunkAccumulator())


def test_an_html_page_answering_a_streamed_call_says_html_not_a_cut_stream(serve: Any) -> None:
    # A base URL that points at a web page (a login portal, a UI) answers 200 text/html; without
    # streaming the user reads "expected JSON but got text/html", with streaming (the default for
    # %%chat) the reply says the stream ended early, sending the user to look at the network.
    reply = streamed_reply(serve(answer(b"<html><body>Sign in</body></html>",
                                        headers=b"Content-Type: text/html\r\n")))
    assert reply.error is not None
    assert "html" in str(reply.error).lower()
    assert "ended before" not in str(reply.error)


def test_a_whole_json_answer_opening_with_a_byte_order_mark_is_read(serve: Any) -> None:
    # The sniff looks for `{` after whitespace only; a BOM (common from Windows-built proxies) hides
    # it, the answer is parsed as events, none are found, and the full reply is dropped.
    reply = streamed_reply(serve(answer(b"\xef\xbb\xbf" + WHOLE, headers=b"Content-Type: text/plain\r\n")))
    assert reply.error is None
    assert reply.choices and reply.choices[0].text == "hello there"
