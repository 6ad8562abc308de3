"""`Idempotency-Key` for POSTs: a repeated key gets the first answer back instead of a second run.

A client that sent a POST and got no answer (a read timeout, a dropped connection) cannot know
whether the work was done. Sending it again with the same `Idempotency-Key` is safe here: the
first successful (2xx) answer for a key is stored, with its status, headers and every body part
(streams included), and replayed to any repeat. A repeat that arrives while the first is still
running waits for it. As on a real server, the work of a keyed request goes on when its client
stops waiting: the body is read in full first, so a client that gave up does not make it fail
half-way, and its repeat finds the answer. An answer that failed (an error status, a connection dropped half-way) is
not stored, so a repeat does the work, as a first request would.

Keys are scoped by the caller's `Authorization`, method and path; the newest `MAX_KEYS` are kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["IdempotencyMiddleware"]

MAX_KEYS = 4096


@dataclass
class _Answer:
    """One response as sent, message by message, and whether it finished well enough to replay."""

    messages: list[Message] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    replayable: bool = False


class IdempotencyMiddleware:
    """Stores each keyed POST's answer and replays it for a repeated key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answers: OrderedDict[tuple[str, str, str], _Answer] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _scope_key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        while (earlier := self.answers.get(key)) is not None:
            await earlier.done.wait()
            if earlier.replayable:
                await _read_ahead(receive)  # a repeat is received whole, like any request (and logged so)
                for message in earlier.messages:
                    await send(message)
                return
            if self.answers.get(key) is earlier:  # it failed: this repeat does the work itself
                del self.answers[key]
        answer = self.answers[key] = _Answer()
        while len(self.answers) > MAX_KEYS:
            self.answers.popitem(last=False)
        await self._run(answer, scope, receive, send)

    async def _run(self, answer: _Answer, scope: Scope, receive: Receive, send: Send) -> None:
        async def recording(message: Message) -> None:
            answer.messages.append(message)
            await send(message)

        try:
            await self.app(scope, await _read_ahead(receive), recording)
            start = answer.messages[0] if answer.messages else {}
            finished = bool(answer.messages) and not answer.messages[-1].get("more_body", False)
            answer.replayable = finished and 200 <= start.get("status", 0) < 300
        finally:
            answer.done.set()


async def _read_ahead(receive: Receive) -> Receive:
    """The whole request body read now; the app gets it from memory, then the live channel."""
    received: list[Message] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        return received.pop(0) if received else await receive()

    return replay


def _scope_key(scope: Scope) -> tuple[str, str, str] | None:
    """(caller, path, key) for a keyed POST to the API, None for anything else."""
    if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/v1/"):
        return None
    headers = dict(scope["headers"])
    key = headers.get(b"idempotency-key")
    if not key:
        return None
    caller = hashlib.sha256(headers.get(b"authorization", b"")).hexdigest()  # the key itself is not kept
    return caller, scope["path"], key.decode("latin-1")
