"""The network: the only module that imports `requests` (and the urllib3 beneath it).

`Transport.send()` performs one HTTP exchange (reading a body that is not streamed in one piece,
not in requests' 10 KiB steps) and `iter_bytes()` reads a streamed body; both turn
every failure of requests/urllib3 into our own APIConnectionError or APITimeoutError, here and
nowhere else. Each error says whether the request may have reached the server (`sent`), which is
what decides, a level up in `core`, whether it is safe to send again.

The key never sits in a header dict: `BearerAuth` writes `Authorization` into the prepared request
at the last moment and takes it out again as soon as the answer arrives, so neither our frames nor
the response an error may point to hold it. Our errors are raised outside the `except` blocks, so
they carry no `__context__` leading back to requests' exceptions and the prepared request in them.

`abort()` cuts every connection the transport opened, including one a call in another thread is
blocked on: requests has no handle on a call in flight, so the pools' connections register their
sockets as they connect, and shutting a socket down wakes the thread reading it. A transport of one
job (`Client.with_own_connections()`) is aborted when the job is stopped; its calls then fail at once
with `APIUserAbortError`, which nothing retries.
"""

from __future__ import annotations

import socket
import threading
import weakref
from typing import Any, Callable, Iterator, Mapping, Protocol
from urllib.parse import quote, unquote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .errors import APIConnectionError, APIError, APITimeoutError, APIUserAbortError

__all__ = ["Transport", "Response", "Timeout", "BearerAuth", "KeyHolder", "DEFAULT_MAX_CONNECTIONS"]

Response = requests.Response
Timeout = float | tuple[float, float] | None

# Enough for the embedding job's widest `--workers` (48) plus streams running beside it.
DEFAULT_MAX_CONNECTIONS = 64
_READ_BLOCK = 65536  # bytes per read of a stream that is not chunked
# What requests' own re-quoting keeps as it is; everything else in a path gets escaped.
_PATH_SAFE = "!#$%&'()*+,/:;=?@[]~"
# urllib3 failures that happen before a byte of the request left this machine.
_NOT_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
             urllib3.exceptions.SSLError, urllib3.exceptions.LocationParseError)


class KeyHolder(Protocol):
    """Anything that hands out the key only when asked for `.value` (core's `Secret`)."""

    @property
    def value(self) -> str: ...


class BearerAuth(requests.auth.AuthBase):
    """Sets `Authorization: Bearer <key>` as the request is prepared, and removes it once answered."""

    def __init__(self, key: KeyHolder) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "<BearerAuth>"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self._key.value
        request.register_hook("response", _forget_key)
        return request


class UserinfoAuth(requests.auth.AuthBase):
    """Basic authentication from the user info of a base URL (`https://user:TOKEN@host/v1`), for a
    client without a key, as requests would do had the URL kept it. The user info is held behind a
    `Secret` and never written into a URL: a URL shows in reprs and in every frame of a traceback."""

    def __init__(self, userinfo: KeyHolder) -> None:
        self._userinfo = userinfo

    def __repr__(self) -> str:
        return "<UserinfoAuth>"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        user, _, password = self._userinfo.value.partition(":")
        request.headers["Authorization"] = requests.auth._basic_auth_str(unquote(user), unquote(password))
        request.register_hook("response", _forget_key)
        return request


def _forget_key(response: Response, *args: Any, **kwargs: Any) -> Response:
    """The key has done its job once an answer came: the request kept on the response drops it."""
    response.request.headers.pop("Authorization", None)
    return response


class Transport:
    """A pooled requests session; `send()` is its one door to the network."""

    def __init__(self, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.session = requests.Session()
        self.max_connections = max_connections
        self._connections = _Connections()
        # Told the status and headers of every answer, retried ones too (pacing by rate limits).
        self.observers: list[Callable[[int, Mapping[str, str]], None]] = []
        # One pool per host, as large as the number of calls that may run at once: a smaller pool
        # would open and drop extra connections under concurrent embedding batches.
        adapter = _CuttableAdapter(self._connections, pool_connections=8, pool_maxsize=max_connections, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def twin(self) -> "Transport":
        """A transport of the same kind over connections of its own (a job's, which it may abort)."""
        return Transport(self.max_connections)

    def wait_time(self, seconds: float) -> float:
        """How long a wait between requests (a retry's back-off, a poll's interval) lasts over this
        transport: as long as asked (a replay at full speed waits for nothing)."""
        return seconds

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
        auth: KeyHolder | None = None,
        userinfo: KeyHolder | None = None,
    ) -> Response:
        """One HTTP exchange; network failures come out as our errors. `auth` is the key (a Bearer
        header); without one, `userinfo`, the user info of the base URL, goes as Basic authentication."""
        if self._connections.aborted:
            raise APIUserAbortError(f"{method} {urlsplit(url).path} not sent: the client's calls were stopped", sent=False)
        request = requests.Request(method, url, headers=dict(headers), params=params or {}, json=json, data=data,
                                   auth=BearerAuth(auth) if auth is not None else
                                   UserinfoAuth(userinfo) if userinfo is not None else None)
        error: APIError | None = None
        prepared: requests.PreparedRequest | None = None
        try:
            prepared = self.session.prepare_request(request)
            prepared.url = _keep_escapes(prepared.url or url, url)
            # Always streamed from requests' side: a whole body is read below, in one piece.
            settings = self.session.merge_environment_settings(prepared.url, {}, True, None, None)
            response = self.session.send(prepared, timeout=timeout, allow_redirects=True, **settings)
            if not stream:
                _read_whole(response)
        except requests.ConnectTimeout as exc:
            error = APITimeoutError(f"could not connect within {_seconds(timeout, 0)}: {_describe(exc)}", sent=False)
        except requests.Timeout:
            error = APITimeoutError(f"sent, no answer within {_seconds(timeout, 1)}")
        except requests.RequestException as exc:
            error = _connection_error(exc)
        finally:
            if prepared is not None:  # no answer came, so the hook that forgets the key never ran
                prepared.headers.pop("Authorization", None)
        if error is not None and self._connections.aborted:
            error = APIUserAbortError(f"{method} {urlsplit(url).path} stopped before its answer came: the client's calls were stopped")
        if error is not None:
            raise error  # outside the except blocks: no __context__ back to requests' objects
        for observe in list(self.observers):
            observe(response.status_code, response.headers)
        return response

    def iter_bytes(self, response: Response) -> Iterator[bytes]:
        """The body of a streamed response, block by block as the network delivers it.

        Read from urllib3 directly: requests would report a read timeout mid-stream as a
        connection error, and a cut chunked body as urllib3's parsing failure.
        """
        raw = response.raw
        error: APIError | None = None
        try:
            if raw.chunked and raw.supports_chunked_reads():
                yield from raw.read_chunked(None, decode_content=True)
            else:
                while block := raw.read1(_READ_BLOCK, decode_content=True):
                    yield block
            return
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            error = APITimeoutError("the server sent nothing within the read timeout")
        except (urllib3.exceptions.HTTPError, OSError):
            error = APIConnectionError("the server closed the connection")
        if self._connections.aborted:  # it was our abort() that cut it, not the server
            error = APIUserAbortError("the stream was stopped: the client's calls were stopped")
        raise error

    def close(self) -> None:
        self.session.close()

    def abort(self) -> None:
        """Cut every connection, those calls in other threads wait on included; every call, now
        and later, fails at once with APIUserAbortError."""
        self._connections.cut_all()
        self.session.close()


class _Connections:
    """Every connection a transport's pools opened (held weakly), so that abort() can reach them."""

    def __init__(self) -> None:
        self._open: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        self.aborted = False

    def opened(self, connection: Any) -> None:
        with self._lock:
            self._open.add(connection)
            cut = self.aborted
        if cut:  # connected while abort() ran: it must not carry a request either
            _cut(connection.sock)

    def cut_all(self) -> None:
        with self._lock:
            self.aborted = True
            connections = list(self._open)
        for connection in connections:
            _cut(getattr(connection, "sock", None))


def _cut(sock: socket.socket | None) -> None:
    """Shut the socket down, which wakes a thread blocked reading it (closing it would not).
    The plain socket's method even for TLS: it leaves alone the TLS object the reading thread is
    using, which SSLSocket.shutdown() would drop from under it first."""
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


class _CuttableAdapter(HTTPAdapter):
    """requests' adapter whose pools (proxied ones too) register each connection as it connects."""

    def __init__(self, connections: _Connections, **options: Any) -> None:
        self._connections = connections  # before super(), which builds the pool manager
        super().__init__(**options)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self._register(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        fresh = proxy not in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if fresh:
            self._register(manager)
        return manager

    def _register(self, manager: Any) -> None:
        manager.pool_classes_by_scheme = {scheme: _registering_pool(pool, self._connections)
                                          for scheme, pool in manager.pool_classes_by_scheme.items()}


def _registering_pool(pool_class: type, connections: _Connections) -> type:
    """A subclass of a urllib3 pool class whose connections tell `connections` once connected."""

    class Connection(pool_class.ConnectionCls):  # type: ignore[name-defined,misc]
        def connect(self) -> None:
            super().connect()
            connections.opened(self)

    return type(pool_class.__name__, (pool_class,), {"ConnectionCls": Connection})


def _read_whole(response: Response) -> None:
    """Read a body that is not streamed, so that `response.content` gives it.

    requests reads it in 10 KiB steps, each a trip through urllib3's read machinery, and joins
    them: for a batch of embeddings (megabytes of base64) that was the largest cost on the client
    side. Asked for no step size, urllib3 reads a body of known length in one read of that length
    (a chunked body chunk by chunk). A failure mid-body is requests' own exception, and the
    connection is dropped rather than reused; a server gone silent mid-body is a read timeout
    (requests would call it a connection error).
    """
    try:
        # `_content` is where `Response.content` keeps the body it read: filling it is what
        # requests itself would have done, with smaller reads.
        response._content = b"".join(response.iter_content(None))
    except requests.ConnectionError as exc:
        if not any(isinstance(cause, urllib3.exceptions.ReadTimeoutError) for cause in exc.args):
            raise
        raise requests.ReadTimeout(*exc.args) from None


def _keep_escapes(prepared: str, wanted: str) -> str:
    """The prepared URL with the path exactly as we escaped it.

    requests un-escapes unreserved characters (`%2E` becomes `.`), after which `.` and `..` ids
    would be removed as dot segments on the way out; the path we built is already escaped.
    """
    path = quote(urlsplit(wanted).path, safe=_PATH_SAFE)
    return urlsplit(prepared)._replace(path=path).geturl()


def _connection_error(exc: requests.RequestException) -> APIConnectionError:
    """Our error for a requests failure; `sent` is False only when the request surely never left."""
    chain = _chain(exc)
    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        # Not quoted: a mistyped setting can hold anything, a pasted key included.
        return APIConnectionError("not sent: the URL does not start with http:// or https://", sent=False)
    if isinstance(exc, requests.exceptions.InvalidURL) or any(isinstance(e, _NOT_SENT) for e in chain):
        return APIConnectionError(f"could not connect: {_describe(exc)}", sent=False)
    return APIConnectionError("sent, but the server closed the connection without answering")


def _seconds(timeout: Timeout, which: int) -> str:
    """The connect (0) or read (1) part of a timeout, for a message."""
    value = timeout[which] if isinstance(timeout, tuple) else timeout
    return f"{value:g} s" if value is not None else "the timeout"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (args, urllib3's `reason`, context), without cycles."""
    found: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and all(cause is not seen for seen in found):
        found.append(cause)
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        reason = getattr(cause, "reason", None)
        cause = nested or (reason if isinstance(reason, BaseException) else None) or cause.__context__
    return found


def _describe(exc: BaseException) -> str:
    """A short cause without urllib3's nested reprs (which can run to several lines)."""
    innermost = _chain(exc)[-1]
    text = str(innermost).splitlines()[0] if str(innermost) else type(exc).__name__
    return text[:200]
