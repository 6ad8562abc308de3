"""The network: the only module that imports `requests`.

`Transport.send()` performs one HTTP exchange and `iter_bytes()` reads a streamed body; both turn
every failure of requests/urllib3 into our own APIConnectionError or APITimeoutError, here and
nowhere else. Retries, headers and decoding live a level up, in `core`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

import requests
from requests.adapters import HTTPAdapter

from .errors import APIConnectionError, APITimeoutError

__all__ = ["Transport", "Response"]

Response = requests.Response
Timeout = float | tuple[float, float] | None


class Transport:
    """A pooled requests session; `send()` is its one door to the network."""

    def __init__(self, pool_size: int = 16) -> None:
        self.session = requests.Session()
        self.pool_size = pool_size
        # Told the status and headers of every answer, retried ones too (pacing by rate limits).
        self.observers: list[Callable[[int, Mapping[str, str]], None]] = []
        # Concurrent embedding batches share this pool, so it must be larger than requests' 10.
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        timeout: Timeout = None,
        stream: bool = False,
    ) -> Response:
        """One HTTP exchange; network failures come out as our errors."""
        try:
            response = self.session.request(
                method, url, headers=dict(headers), params=params, json=json, data=data,
                timeout=timeout, stream=stream, allow_redirects=True,
            )
        except requests.Timeout as exc:
            raise APITimeoutError(f"request timed out: {_describe(exc)}") from None
        except requests.RequestException as exc:
            raise APIConnectionError(f"connection error: {_describe(exc)}") from None
        for observe in list(self.observers):
            observe(response.status_code, response.headers)
        return response

    @staticmethod
    def iter_bytes(response: Response) -> Iterator[bytes]:
        """The body of a streamed response, chunk by chunk as the network delivers it."""
        try:
            yield from response.iter_content(chunk_size=None)
        except requests.Timeout as exc:
            raise APITimeoutError(f"stream timed out: {_describe(exc)}") from None
        except (requests.RequestException, OSError) as exc:
            raise APIConnectionError(f"stream broken off: {_describe(exc)}") from None

    def close(self) -> None:
        self.session.close()


def _describe(exc: BaseException) -> str:
    """A short cause without urllib3's nested reprs (which can run to several lines)."""
    cause: BaseException | None = exc
    seen = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        reason = getattr(cause, "reason", None)
        nxt = nested or (reason if isinstance(reason, BaseException) else None) or cause.__context__
        if nxt is None:
            break
        cause = nxt
    text = str(cause or exc).splitlines()[0] if str(cause or exc) else type(exc).__name__
    return text[:200]
