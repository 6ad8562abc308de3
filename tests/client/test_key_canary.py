"""The key cannot be read from any error: not its chain, args, attributes or its frames' locals.

Each failure a user can meet (refused port, dropped connection, timeout, error status, broken
stream) is raised for real over loopback, then walked by `tests.helpers.canary`.
"""

from __future__ import annotations

import base64
import json
import socket
from typing import Any, Callable
from urllib.parse import quote

import pytest
from werkzeug import Response

from oai_magics.client import APIConnectionError, APIError, APIStatusError, APITimeoutError, Client
from oai_magics.client.secret import Secret
from tests.helpers.canary import assert_no_secret, find_secret, verbose_traceback
from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk, serve  # noqa: F401 (serve is a fixture)

from .conftest import CANARY_KEY

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def raw_client(url: str, **kwargs: Any) -> Client:
    client = Client(api_key=CANARY_KEY, base_url=url, max_retries=1, timeout=(2.0, 0.5), **kwargs)
    client._requester.sleep = lambda seconds: None
    return client


def raised(call: Callable[[], Any]) -> BaseException:
    with pytest.raises(APIError) as info:
        call()
    return info.value


def assert_clean(error: BaseException) -> None:
    assert_no_secret(error, CANARY_KEY, opaque=(Secret,))



def test_the_walk_finds_a_key_held_in_a_frame_local() -> None:
    """The canary itself: a header dict in a local, or a context, is found."""

    def leaky() -> None:
        headers = {"Authorization": f"Bearer {CANARY_KEY}"}  # noqa: F841 - the local is the point
        try:
            raise ValueError("inner")
        except ValueError:
            raise RuntimeError("outer")

    with pytest.raises(RuntimeError) as info:
        leaky()
    assert find_secret(info.value, CANARY_KEY)
    assert CANARY_KEY in verbose_traceback(info.value)
    assert find_secret(RuntimeError("x", [{"k": CANARY_KEY.encode()}]), CANARY_KEY)


def test_refused_port(serve: Any) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    error = raised(raw_client(f"http://127.0.0.1:{port}/v1").models.list)
    assert_clean(error)
    assert isinstance(error, APIConnectionError) and not error.sent


def test_connection_dropped_before_the_answer(serve: Any) -> None:
    server = serve(lambda conn, srv: srv.read_request(conn))  # reads the request, closes without a word
    api = raw_client(server.url)  # the error must not reach the server, which has seen the key
    error = raised(lambda: api.chat.completions.create(**CHAT))
    assert_clean(error)
    assert isinstance(error, APIConnectionError) and error.sent


def test_read_timeout(serve: Any) -> None:
    server = serve(lambda conn, srv: (srv.read_request(conn), srv.hold.wait(10)))
    error = raised(raw_client(server.url).models.list)
    assert isinstance(error, APITimeoutError)
    assert_clean(error)


def test_status_error(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(json.dumps({"error": {"message": "bad key", "type": "invalid_request_error"}}),
                                              status=401, content_type="application/json")
    error = raised(lambda: client.models.list())
    assert isinstance(error, APIStatusError) and error.status == 401
    assert_clean(error)


def test_error_event_in_a_stream(client: Client, recorder: Any) -> None:
    body = 'event: error\ndata: {"error": {"message": "overloaded"}}\n\n'
    recorder.reply = lambda request: Response(body, content_type="text/event-stream")
    stream = client.chat.completions.create(**CHAT, stream=True)
    error = raised(lambda: list(stream))
    assert_clean(error)


def test_stream_cut_mid_way(serve: Any) -> None:
    def handler(conn: socket.socket, srv: RawServer) -> None:
        srv.read_request(conn)
        conn.sendall(STREAM_HEAD + chunk(b'data: {"choices": []}\n\n') * 2 + b"2000\r\npartial")

    server = serve(handler)
    stream = raw_client(server.url).chat.completions.create(**CHAT, stream=True)
    error = raised(lambda: list(stream))
    assert isinstance(error, APIConnectionError)
    assert_clean(error)


def test_stream_that_goes_silent(serve: Any) -> None:
    def handler(conn: socket.socket, srv: RawServer) -> None:
        srv.read_request(conn)
        conn.sendall(STREAM_HEAD + chunk(b'data: {"choices": []}\n\n'))
        srv.hold.wait(10)

    server = serve(handler)
    stream = raw_client(server.url).chat.completions.create(**CHAT, stream=True)
    error = raised(lambda: list(stream))
    assert_clean(error)
    assert isinstance(error, APITimeoutError)


def _echo_key(request: Any) -> str:
    """What a careless proxy says: the header it did not like, in full."""
    return f"Invalid header: {request.headers.get('Authorization')}"


def test_a_server_that_echoes_the_key_in_an_error_body(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(json.dumps({"error": {"message": _echo_key(request)}}),
                                              status=401, content_type="application/json")
    error = raised(lambda: client.models.list())
    assert CANARY_KEY not in str(error)
    assert_clean(error)


def test_a_server_that_echoes_the_key_in_an_html_page(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(f"<html><body>{_echo_key(request)}</body></html>", status=403,
                                              content_type="text/html")
    error = raised(lambda: client.models.list())
    assert_clean(error)


def test_a_server_that_echoes_the_key_in_a_stream_error(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(
        f'event: error\ndata: {json.dumps({"error": {"message": _echo_key(request)}})}\n\n',
        content_type="text/event-stream")
    stream = client.chat.completions.create(**CHAT, stream=True)
    error = raised(lambda: list(stream))
    assert_clean(error)


def test_a_server_that_echoes_the_key_in_a_200_page(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(_echo_key(request), status=200, content_type="text/plain")
    error = raised(lambda: client.models.list())
    assert_clean(error)


@pytest.mark.parametrize("where", ["a reply", "an error event"])
def test_a_key_echoed_across_two_chunks_of_a_stream_is_masked(serve: Any, where: str) -> None:
    """The network may split the key between two reads: it is masked all the same, in the reply's
    text as in an error."""

    def handler(conn: socket.socket, srv: RawServer) -> None:
        head = srv.read_request(conn).partition(b"\r\n\r\n")[0]
        key = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"authorization:")).split()[-1]
        if where == "a reply":
            event = b'data: {"choices": [{"index": 0, "delta": {"content": "echo ' + key + b'"}}]}\n\n'
        else:
            event = b'event: error\ndata: {"error": {"message": "bad key ' + key + b'"}}\n\n'
        middle = event.index(key) + len(key) // 2
        conn.sendall(STREAM_HEAD + chunk(event[:middle]) + chunk(event[middle:]) + chunk(b"data: [DONE]\n\n")
                     + b"0\r\n\r\n")

    from oai_magics.client.accumulate import ChunkAccumulator, consume

    stream = raw_client(serve(handler).url).chat.completions.create(**CHAT, stream=True)
    reply = consume(stream, ChunkAccumulator())
    shown = reply.text + str(reply.error)
    assert CANARY_KEY not in shown and str(Secret("x")) in shown
    if reply.error is not None:
        assert_clean(reply.error)


# -- a key as typed or read from a file ----------------------------------------------------------

def test_a_key_read_with_its_line_break_is_sent_without_it(httpserver: Any, recorder: Any) -> None:
    client = Client(api_key=f" {CANARY_KEY}\n", base_url=httpserver.url_for("/v1").rstrip("/"), max_retries=0)
    client.models.list()
    assert recorder.last.headers["Authorization"] == f"Bearer {CANARY_KEY}"


@pytest.mark.parametrize("key", [CANARY_KEY + "\r\nX-Other: 1", CANARY_KEY[:6] + "\u2014" + CANARY_KEY[6:],
                                 CANARY_KEY + "\x00"])
def test_a_key_no_header_can_carry_is_refused_without_being_quoted(httpserver: Any, recorder: Any, key: str) -> None:
    from oai_magics.client import KeyFormatError  # part of the public errors

    client = Client(api_key=key, base_url=httpserver.url_for("/v1").rstrip("/"), max_retries=0)
    del key  # this frame is in the error's traceback: only the client may hold the key now
    with pytest.raises(KeyFormatError) as info:
        client.models.list()
    assert CANARY_KEY[:6] not in str(info.value) and "\n" not in str(info.value)
    assert_clean(info.value)
    assert recorder.requests == []  # refused before anything went out


# -- a key echoed where the body mask does not look -----------------------------------------------

def test_a_key_echoed_in_a_header_of_a_good_answer_stays_out_of_the_request_log(client: Client, recorder: Any) -> None:
    recorder.reply = lambda request: Response(json.dumps({"object": "list", "data": []}),
                                              content_type="application/json",
                                              headers={"x-request-id": _echo_key(request)})
    records: list[Any] = []
    client.listeners.append(records.append)
    client.models.list()
    assert records and CANARY_KEY not in repr(records)


def test_a_key_echoed_json_escaped_in_a_good_answer_is_masked(client: Client, recorder: Any) -> None:
    def escaped(request: Any) -> Response:
        text = _echo_key(request)
        body = json.dumps({"object": "list", "data": [{"id": text}]}, ensure_ascii=False)
        key = CANARY_KEY
        return Response(body.replace(key, "".join(f"\\u{ord(c):04x}" for c in key)), content_type="application/json")

    recorder.reply = escaped
    answer = client.models.list()
    assert CANARY_KEY not in repr(answer.data) and str(Secret("x")) in repr(answer.data)


def _key_forms(key: str) -> dict[str, str]:
    """The forms a recording could hold the key in: as it is, base64 (unpadded, as within a longer text),
    URL-encoded, and JSON-escaped."""
    return {"plain": key, "base64": base64.b64encode(key.encode()).decode().rstrip("="),
            "url-encoded": quote(key, safe=""), "escaped": "".join(f"\\u{ord(c):04x}" for c in key)}


def _echo_every_form(request: Any) -> Response:
    """An answer holding the key the request carried in every form, in its body and in its headers."""
    key = request.headers.get("Authorization", "").removeprefix("Bearer ")
    forms = _key_forms(key)
    headers = {"x-request-id": f"req {forms['plain']} {forms['base64']}", "x-ratelimit-remaining-requests": forms["url-encoded"]}
    if b'"stream": true' in request.get_data() or b'"stream":true' in request.get_data():
        events = "".join(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': form}}]})}\n\n"
                         for form in forms.values())
        return Response(events + "data: [DONE]\n\n", content_type="text/event-stream", headers=headers)
    body = json.dumps({"object": "list", "id": "file-1", "data": [{"id": form} for form in forms.values()]})
    return Response(body.replace(forms["escaped"].replace("\\", "\\\\"), forms["escaped"]),
                    content_type="application/json", headers=headers)


def test_no_form_of_the_key_reaches_a_recording(client: Client, recorder: Any, httpserver: Any, tmp_path: Any) -> None:
    """A canary key used while recording against a server that echoes it in every form (and a prompt
    that holds it): the file holds none of them, and what was recorded still replays."""
    from oai_magics.client.recording import RecordingTransport, TapeWriter
    from oai_magics.client.replay import ReplayTransport
    from oai_magics.client.tape import Tape

    path = tmp_path / "canary.replay.jsonl"
    recorder.reply = _echo_every_form
    recording = Client(api_key=CANARY_KEY, base_url=httpserver.url_for("/v1").rstrip("/"), max_retries=0,
                       transport=RecordingTransport(TapeWriter(path, timing=True)))
    recording.models.list()
    leaked_prompt = {**CHAT, "messages": [{"role": "user", "content": f"my key is {CANARY_KEY}"}]}
    list(recording.chat.completions.create(**leaked_prompt, stream=True))
    recording.files.create(file=("key.txt", CANARY_KEY.encode()), purpose="batch")
    gateway = Client(api_key=None, max_retries=0, transport=RecordingTransport(TapeWriter(path)),
                     base_url=httpserver.url_for("/v1").replace("http://", f"http://user:{quote(CANARY_KEY, safe='')}@"))
    gateway.models.list()  # the token goes as Basic authentication, which the server echoes in base64
    written = path.read_text(encoding="utf-8")
    assert len(written.splitlines()) == 4 and "Authorization" not in written
    for name, form in {**_key_forms(CANARY_KEY), "basic": base64.b64encode(f"user:{CANARY_KEY}".encode()).decode()}.items():
        assert form not in written, name
        assert form.lower() not in written.lower(), name
    assert str(Secret("x")) in written  # masked where it stood, not dropped
    replayed = Client(api_key=None, base_url="http://127.0.0.1:9/v1", transport=ReplayTransport(Tape.load(path), "full"))
    assert len(replayed.models.list().data) == 4
