"""`Client`: the settings, and one attribute per API area, named as in the official SDK."""

from __future__ import annotations

import copy
import os
from typing import Any

from .core import Requester
from .resources.assistants import Assistants
from .resources.batches import Batches
from .resources.conversations import Conversations
from .resources.embeddings import Embeddings
from .resources.files import Files, FineTunes
from .resources.media import Audio, Images
from .resources.models import Engines, Models
from .resources.moderations import Moderations
from .resources.responses import Responses
from .resources.text import Chat, Completions, Edits
from .resources.threads import Threads
from .retries import RetryPolicy
from .urls import without_userinfo
from .transport import DEFAULT_MAX_CONNECTIONS, Timeout, Transport

__all__ = ["Client", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 600.0)  # (connect, read) seconds


class Client:
    """A connection to the OpenAI API or any server that speaks it.

    Unset arguments come from OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID.
    `timeout` is seconds (or a (connect, read) pair); `max_retries` bounds retries of failed calls.
    `max_connections` (default 64) is how many connections to one server are kept open at once: at
    least as many as calls that run in parallel (the embedding `--workers` go up to 48).
    `honours_idempotency_key=True` says the server runs a repeated `Idempotency-Key` only once, so a
    POST that was sent but got no answer may be sent again; otherwise it is not (see `retries`).
    `transport` replaces the network: `recording.RecordingTransport` writes every exchange to a file,
    `replay.ReplayTransport` answers from one (no key needed then).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        assistants_version: str = "v2",
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        honours_idempotency_key: bool = False,
        transport: Transport | None = None,
    ) -> None:
        if assistants_version not in ("v1", "v2"):
            raise ValueError("assistants_version must be 'v1' or 'v2'")
        self._requester = Requester(
            api_key=api_key if api_key is not None else os.environ.get("OPENAI_API_KEY"),
            base_url=base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
            organization=organization or os.environ.get("OPENAI_ORG_ID"),
            project=project or os.environ.get("OPENAI_PROJECT_ID"),
            timeout=timeout,
            retry=RetryPolicy(max_retries=max_retries, resend_unanswered=honours_idempotency_key),
            assistants_version=assistants_version,
            transport=transport or Transport(max_connections),
        )
        self._wire()

    def _wire(self) -> None:
        """One attribute per API area, all sending through this client's requester."""
        r = self._requester
        self.models = Models(r)
        self.engines = Engines(r)
        self.chat = Chat(r)
        self.completions = Completions(r)
        self.edits = Edits(r)
        self.embeddings = Embeddings(r)
        self.audio = Audio(r)
        self.images = Images(r)
        self.moderations = Moderations(r)
        self.files = Files(r)
        self.fine_tunes = FineTunes(r)
        self.assistants = Assistants(r)
        self.threads = Threads(r)
        self.responses = Responses(r)
        self.conversations = Conversations(r)
        self.batches = Batches(r)

    @property
    def base_url(self) -> str:
        return self._requester.base_url

    @property
    def has_api_key(self) -> bool:
        """Whether a key is set (the key itself is never handed out by the client)."""
        return bool(self._requester._api_key)

    @property
    def max_connections(self) -> int:
        """Connections kept open to the server: more threads than this would wait for one."""
        return self._requester.transport.max_connections

    @property
    def response_observers(self) -> list:
        """Callables given (status, headers) of every HTTP answer, retries included (rate-limit pacing)."""
        return self._requester.transport.observers

    @property
    def listeners(self) -> list:
        """Callables given a RequestRecord after every call (usage accounting)."""
        return self._requester.listeners

    def wait_time(self, seconds: float) -> float:
        """How long to wait between requests (a poll's interval) for `seconds`: as long, but nothing
        when the answers come from a recording replayed at full speed."""
        return self._requester.transport.wait_time(seconds)

    def fetch(self, url: str, timeout: Timeout = 60.0) -> bytes:
        """Download a URL from an answer (an image's `url`); the key is not sent with it."""
        return self._requester.download(url, timeout)

    def with_own_connections(self) -> "Client":
        """A client with these settings, key and usage listeners over connections of its own, for
        one job whose calls run in several threads: its `abort()` stops that job's calls only.

        It starts with this client's response observers; one added to it later sees its answers only.
        """
        twin = copy.copy(self)
        twin._requester = copy.copy(self._requester)  # listeners stay shared: the usage counts every call
        twin._requester.transport = self._requester.transport.twin()  # recording or replaying as this one does
        twin.response_observers.extend(self.response_observers)
        twin._wire()
        return twin

    def close(self) -> None:
        """Release pooled connections."""
        self._requester.transport.close()

    def abort(self) -> None:
        """Stop every call of this client at once, those waiting for an answer in other threads
        included: each fails with APIUserAbortError, and so does every later call."""
        self._requester.transport.abort()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "set" if self.has_api_key else "unset"
        return f"<oai_magics.Client base_url={without_userinfo(self.base_url)!r} api_key={key}>"
