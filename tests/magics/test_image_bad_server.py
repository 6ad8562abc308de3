"""%image against a server that answers a stream badly: what arrived is kept, and one line says why."""

from __future__ import annotations

import base64
import io
import json
import socket
from typing import Any, Callable

import pytest
from IPython.core.error import UsageError
from PIL import Image

from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk, json_answer, serve  # noqa: F401 (serve is a fixture)

from .conftest import run


def png(color: tuple[int, int, int]) -> str:
    """A small PNG in base64, as an event carries it."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def events(*sent: dict) -> Callable[[socket.socket, RawServer], None]:
    """Reads the request and answers with these events as a chunked event stream."""

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        # Connection: close, as the socket is: the client must not send its next request on it.
        head = STREAM_HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
        connection.sendall(head + b"".join(chunk(b"data: %s\n\n" % json.dumps(e).encode()) for e in sent)
                           + b"0\r\n\r\n")

    return handle


PARTIAL = {"type": "image_generation.partial_image", "b64_json": png((200, 30, 30)), "partial_image_index": 0,
           "output_format": "png", "background": "opaque", "size": "1024x1024"}
USAGE = {"input_tokens": 5, "output_tokens": 16, "total_tokens": 21}


def test_a_final_image_that_is_not_base64_keeps_the_last_partial_image(serve: Any, shell_at: Any) -> None:
    ip = shell_at(serve(events(PARTIAL, {"type": "image_generation.completed", "b64_json": "not base64 @@",
                                         "usage": USAGE})).url)
    with pytest.raises(UsageError) as caught:
        run(ip, "image", "--partial 1 -o pic a kite")
    assert str(caught.value) == ("The server answered with image 1 whose b64_json is not base64: "
                                 "the last partial image is kept in _ and pic")
    kept = ip.user_ns["pic"]
    assert len(kept) == 1 and kept[0].data == base64.b64decode(PARTIAL["b64_json"]) and ip.user_ns["_"] is kept


def test_a_server_that_ignores_stream_true_still_gives_its_image(serve: Any, shell_at: Any) -> None:
    server = serve(json_answer({"created": 1, "background": "opaque", "output_format": "png",
                                 "data": [{"b64_json": PARTIAL["b64_json"]}], "usage": USAGE}))
    ip = shell_at(server.url)
    _, out = run(ip, "image", "--partial 2 -o pic a kite")
    # The session's model listing (GET /models, on a thread of its own) may come before or after it.
    (sent,) = [request for request in server.requests if request.startswith(b"POST /v1/images/generations")]
    assert b'"stream": true' in sent
    assert ip.user_ns["pic"][0].data == base64.b64decode(PARTIAL["b64_json"])
    assert "5 input + 16 image tokens" in out.stdout
