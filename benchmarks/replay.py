"""A local server that answers at once with precomputed payloads, so a benchmark measures the client.

It speaks just enough of the API for the benchmarks: streamed and plain chat completions (a prompt
"chunks=N" gets a reply of N pieces), base64 embeddings (each text "item N ..." gets row N of a fixed
float32 matrix, so order and values can be checked), a paginated `/files` list, and streamed image
generations ("partial_images": N gets N partial images of `IMAGE_BYTES` and the completed image). It runs in a
thread of the benchmark's own process; the clients measured run in fresh processes of their own.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import numpy as np

ITEM = re.compile(r"item (\d+)")
CHUNKS = re.compile(r"chunks=(\d+)")


def chat_chunk(text: str | None, finish: str | None = None, usage: dict | None = None) -> bytes:
    choices = [] if usage else [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}]
    chunk = {"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": choices}
    if usage:
        chunk["usage"] = usage
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def stream_body(chunks: int) -> bytes:
    """An SSE chat stream of `chunks` content events, HTTP-chunked one event per chunk."""
    events = [chat_chunk(f"word{i} ") for i in range(chunks)]
    events += [chat_chunk(None, "stop"), chat_chunk(None, usage={"prompt_tokens": 5, "completion_tokens": chunks,
                                                                  "total_tokens": chunks + 5}), b"data: [DONE]\n\n"]
    return b"".join(b"%x\r\n%s\r\n" % (len(event), event) for event in events) + b"0\r\n\r\n"


SEED = 7
IMAGE_BYTES = 1_500_000  # about a 1536x1024 PNG: each image event carries 2 MB of base64


def image_stream_body(partials: int) -> bytes:
    """An SSE image-generation stream: `partials` partial images, then the completed one with usage,
    each event in one HTTP chunk. The images are incompressible bytes, as PNG data nearly is."""
    image = base64.b64encode(np.random.default_rng(SEED).bytes(IMAGE_BYTES)).decode()
    settings = {"created_at": 1, "size": "1536x1024", "quality": "medium", "background": "opaque", "output_format": "png"}
    events = [{"type": "image_generation.partial_image", "b64_json": image, **settings, "partial_image_index": index}
              for index in range(partials)]
    events.append({"type": "image_generation.completed", "b64_json": image, **settings, "usage": {
        "input_tokens": 9, "input_tokens_details": {"text_tokens": 9, "image_tokens": 0}, "output_tokens": 1584,
        "total_tokens": 1593}})
    framed = [f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events]
    return b"".join(b"%x\r\n%s\r\n" % (len(event), event) for event in framed) + b"0\r\n\r\n"


def matrix_blocks(rows: int, dim: int, block: int = 4096) -> "Iterator[np.ndarray]":
    """The replay matrix, row `i` being the vector of text `item i`, in blocks of rows.

    A fixed seed makes it the same in every process, so a client's result can be checked row by
    row against it without a second copy of the whole matrix in memory.
    """
    generator = np.random.default_rng(SEED)
    for start in range(0, rows, block):
        yield generator.standard_normal((min(block, rows - start), dim), dtype=np.float32)


class ReplayServer:
    """`with ReplayServer(rows=..., dim=...) as server:` then `server.base_url`."""

    def __init__(self, rows: int = 0, dim: int = 1536, files: int = 0) -> None:
        self._streams: dict[int, bytes] = {}
        self._rows_b64 = [base64.b64encode(row.tobytes()) for block in matrix_blocks(rows, dim) for row in block]
        self.files = [{"id": f"file-{i:06d}", "object": "file", "bytes": 100 + i, "created_at": 1_700_000_000 + i,
                       "filename": f"data-{i}.jsonl", "purpose": "fine-tune", "status": "processed"} for i in range(files)]
        self.requests = 0
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def stream(self, chunks: int) -> bytes:
        if chunks not in self._streams:
            self._streams[chunks] = stream_body(chunks)
        return self._streams[chunks]

    def image_stream(self, partials: int) -> bytes:
        key = -1 - partials  # beside the chat streams, keyed by their chunk counts
        if key not in self._streams:
            self._streams[key] = image_stream_body(partials)
        return self._streams[key]

    def __enter__(self) -> "ReplayServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._http.shutdown()
        self._http.server_close()

    # -- answers -------------------------------------------------------------------------------
    def embeddings(self, body: dict) -> bytes:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        parts = [b'{"object":"list","model":"text-embedding-3-small","data":[']
        for index, text in enumerate(texts):
            row = self._rows_b64[int(ITEM.search(text).group(1))]
            parts.append(b'%s{"object":"embedding","index":%d,"embedding":"%s"}' % (b"," if index else b"", index, row))
        parts.append(b'],"usage":{"prompt_tokens":%d,"total_tokens":%d}}' % (len(texts), len(texts)))
        return b"".join(parts)

    def file_page(self, query: dict[str, str]) -> bytes:
        limit = int(query.get("limit", 20))
        start = 0
        if "after" in query:
            start = next(i for i, f in enumerate(self.files) if f["id"] == query["after"]) + 1
        page = self.files[start:start + limit]
        return json.dumps({"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                           "last_id": page[-1]["id"] if page else None,
                           "has_more": start + limit < len(self.files)}).encode()

    def _handler(self) -> type:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, body: bytes, content_type: str = "application/json", chunked: bool = False) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                server.requests += 1
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.endswith("/chat/completions"):
                    found = CHUNKS.search(str(body["messages"][-1]["content"]))
                    chunks = int(found.group(1)) if found else 20
                    if body.get("stream"):
                        return self._send(server.stream(chunks), "text/event-stream", chunked=True)
                    text = "".join(f"word{i} " for i in range(chunks))
                    return self._send(json.dumps({"id": "chatcmpl-replay", "object": "chat.completion", "created": 1,
                                                  "model": "gpt-4o-mini", "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant", "content": text}}]}).encode())
                if self.path.endswith("/embeddings"):
                    return self._send(server.embeddings(body))
                if self.path.endswith("/images/generations") and body.get("stream"):
                    return self._send(server.image_stream(int(body.get("partial_images", 0))), "text/event-stream",
                                      chunked=True)
                self.send_error(404)

            def do_GET(self) -> None:
                server.requests += 1
                path, _, raw = self.path.partition("?")
                query = dict(part.split("=", 1) for part in raw.split("&") if "=" in part)
                if path.endswith("/files"):
                    return self._send(server.file_page(query))
                self.send_error(404)

        return Handler
