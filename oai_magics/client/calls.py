"""One API call as it goes out: its method, URL, headers, query and body, and its attempts so far.

`Requester.request()` builds a `Call` once and sends it attempt after attempt; the request log reads
its start and attempts when it ends. Every call but a GET carries an `Idempotency-Key` made by
`idempotency_key()`, the same on each attempt (the job layer makes its own calls' keys with it too).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

from .multipart import Upload
from .transport import Timeout

__all__ = ["Call", "clean_query", "idempotency_key"]


@dataclass
class Call:
    """One API call as it goes out, attempt after attempt."""

    method: str
    path: str
    url: str
    headers: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any] | None
    uploads: dict[str, Upload | list[Upload]]  # a field may carry several files (image[])
    timeout: Timeout
    stream: bool
    attempts: int = 1
    started: float = field(default_factory=time.monotonic)

    @property
    def what(self) -> str:
        """The call in a few words, for messages: `POST /chat/completions`."""
        return f"{self.method} {self.path}"


def idempotency_key() -> str:
    """A new `Idempotency-Key`: every attempt of one call carries the same one."""
    return f"oai-magics-{uuid.uuid4()}"


def clean_query(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones; booleans as the API spells them."""
    cleaned: dict[str, Any] = {}
    for key, value in mapping.items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return cleaned
