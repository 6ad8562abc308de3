"""The recording file: one JSON line per HTTP exchange, what `recording` writes and `replay` reads.

A line is `{"request": {...}, "response": {...}}`, readable and diff-friendly:

- the request as sent, never its headers: `method`, the URL's `path` (no host, so a recording made
  against one server replays for a client pointed anywhere, and no user info), `query`, and the body as
  `json` (the object itself) or, for an upload, `form`: its fields in order, each file as its name,
  size and SHA-256 (the bytes are the user's and can be large: a file is matched by its hash);
- the answer: `status`, the headers a client acts on (`KEPT_HEADERS`: content type, request id, retry
  and rate-limit hints; never cookies or the organization and project a server names), and the body as
  `json`, `text`, `base64` (binary: an image, speech) or, for a stream, `events` (`{"event", "data" |
  "json", "t"}`: `t` the seconds since the answer began, written when timing is asked for).

Embeddings stay as the client asks for them: base64 float32 (`encoding_format="base64"`), one string
per vector; an image the API sends as `b64_json` stays that one base64 string. Requests match on a
canonical key (`request_key`): the same method, path, query and body, JSON keys in any order.
`Tape` holds a recording's exchanges by key; a key recorded twice answers in order, then with its last.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Exchange", "Tape", "request_key", "KEPT_HEADERS", "describe_miss", "read_lines"]

Exchange = dict  # {"request": {...}, "response": {...}}, as one line of the file holds it

# The answer's headers a client reads (errors, retries, pacing); everything else stays out of the file.
KEPT_HEADERS = ("content-type", "x-request-id", "retry-after", "retry-after-ms", "x-should-retry",
                "openai-processing-ms", "openai-version")
KEPT_PREFIXES = ("x-ratelimit-",)
_SHOWN = 40  # characters of a differing value quoted in a miss


def request_key(request: dict) -> str:
    """The request as one canonical string: what a replayed request is looked up by."""
    parts = {name: request.get(name) for name in ("method", "path", "query", "json", "form")}
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def keeps_header(name: str) -> bool:
    name = name.lower()
    return name in KEPT_HEADERS or name.startswith(KEPT_PREFIXES)


def read_lines(path: Path) -> list[Exchange]:
    """Every exchange of a recording; a line that is not one is a ValueError naming its number."""
    exchanges = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                exchange = json.loads(line)
            except ValueError:
                exchange = None
            if not (isinstance(exchange, dict) and isinstance(exchange.get("request"), dict)
                    and isinstance(exchange.get("response"), dict)):
                raise ValueError(f"{path.name} line {number} is not a recorded exchange")
            exchanges.append(exchange)
    return exchanges


class Tape:
    """A recording's exchanges by request key, each key answering its exchanges in the order recorded
    and then its last one again (a cell run twice while recording, then once more on replay)."""

    def __init__(self, path: Path, exchanges: Iterable[Exchange]) -> None:
        self.path = path
        self._by_key: dict[str, list[Exchange]] = defaultdict(list)
        for exchange in exchanges:
            self._by_key[request_key(exchange["request"])].append(exchange)
        self._used: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()  # jobs replay from several threads

    @classmethod
    def load(cls, path: Path) -> "Tape":
        return cls(path, read_lines(path))

    def __len__(self) -> int:
        return sum(len(found) for found in self._by_key.values())

    def answer(self, request: dict) -> dict | None:
        """The recorded response to `request`, or None when it was never recorded."""
        key = request_key(request)
        with self._lock:
            found = self._by_key.get(key)
            if not found:
                return None
            index = min(self._used[key], len(found) - 1)
            self._used[key] += 1
        return found[index]["response"]

    def requests(self) -> list[dict]:
        return [found[0]["request"] for found in self._by_key.values()]


def describe_miss(request: dict, recorded: list[dict]) -> str:
    """What keeps `request` from being answered: how it differs from the nearest recorded request."""
    what = f"{request['method']} {request['path']}"
    alike = [other for other in recorded if other["method"] == request["method"] and other["path"] == request["path"]]
    if not alike:
        return f"no {what} was recorded"
    nearest = min(alike, key=lambda other: len(_differences(request, other)))
    differences = _differences(request, nearest)
    return f"{what} differs from the nearest recorded one in " + ", ".join(differences[:4])


def _differences(request: dict, other: dict) -> list[str]:
    """Each differing part, by name: a body field (`model`, `messages[1].content`), `query` or `form`."""
    found: list[str] = []
    body, recorded = request.get("json"), other.get("json")
    if isinstance(body, dict) and isinstance(recorded, dict):
        for name in list(body) + [name for name in recorded if name not in body]:
            where = _first_difference(body.get(name, _ABSENT), recorded.get(name, _ABSENT), name)
            if where:
                found.append(where)
    elif body != recorded:
        found.append("body")
    found.extend(part for part in ("query", "form") if request.get(part) != other.get(part))
    return found


_ABSENT = object()


def _first_difference(here: Any, there: Any, where: str) -> str | None:
    """Where two values first differ, with both values when short: `model ('a' here, 'b' recorded)`."""
    if here == there:
        return None
    if isinstance(here, dict) and isinstance(there, dict):
        for name in list(here) + [name for name in there if name not in here]:
            inner = _first_difference(here.get(name, _ABSENT), there.get(name, _ABSENT), f"{where}.{name}")
            if inner:
                return inner
    if isinstance(here, list) and isinstance(there, list) and len(here) == len(there):
        for index, (mine, theirs) in enumerate(zip(here, there)):
            inner = _first_difference(mine, theirs, f"{where}[{index}]")
            if inner:
                return inner
    return f"{where} ({_short(here)} here, {_short(there)} recorded)"


def _short(value: Any) -> str:
    if value is _ABSENT:
        return "absent"
    if isinstance(value, list):
        return "1 item" if len(value) == 1 else f"{len(value)} items"
    text = repr(value) if not isinstance(value, dict) else "an object"
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "...'"
