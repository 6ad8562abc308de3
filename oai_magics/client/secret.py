"""The API key: held behind a mask, and masked out of whatever the server sends back.

`Secret` holds the key; repr, str and format show a mask, and only `.value` hands the key out (to the
transport, as the request leaves). A key is taken without the whitespace around it (one read from a
file keeps its line break) and refused at once if it still holds a character no header can carry:
the transport's own error would quote the header, key and all. `hide()` and `hide_in_stream()`
replace the key in server bytes with that mask, `hide_text()` in a header value, and
`hide_decoded()` in decoded JSON, where an escaped copy (`\\u0073k-...`) is no longer escaped. The
request engine passes every body it reads through one of them before anything else sees it, so a
server or proxy that echoes the `Authorization` header cannot put the key into an error message, a
traceback's locals, a reply shown in the notebook or a file written from it.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Iterable, Iterator

from .errors import KeyFormatError

__all__ = ["Secret"]

ESCAPE = b"\\u"  # where JSON may spell the key so that its raw bytes do not match
ESCAPE_TEXT = ESCAPE.decode()


class Secret:
    """A key that does not show itself: repr, str and format all give a mask, `.value` the key."""

    __slots__ = ("_value", "_key")

    def __init__(self, value: str) -> None:
        value = value.strip()
        if any(ord(char) > 0xFF or unicodedata.category(char) == "Cc" for char in value):
            # Said without the key, or any part of it: the message is shown in the notebook.
            raise KeyFormatError("the API key holds a line break, a control character or a character outside "
                                 "Latin-1 that no HTTP header can carry: copy it again from where it was issued")
        self._value = value
        self._key = value.encode()  # encoded once: every chunk of every stream is searched for it

    @property
    def value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled")

    def hide(self, data: bytes) -> bytes:
        """`data` with every copy of the key replaced by the mask."""
        key = self._key
        return data.replace(key, repr(self).encode()) if key and key in data else data

    def hide_text(self, text: str) -> str:
        """`text` (a header value, a decoded message) with every copy of the key replaced by the mask."""
        value = self._value
        return text.replace(value, repr(self)) if value and value in text else text

    def hide_decoded(self, raw: bytes | str, decoded: Any) -> Any:
        """`decoded`, the JSON `raw` decodes to, with the key masked in every string it holds.

        `hide()` already masked every raw copy; only a `\\u` escape can spell the key anew, so other
        text is handed back untouched, at no cost.
        """
        # A lone backslash is looked for first: a one-character search runs at memchr speed, some
        # fifty times faster than a two-character one over a 2 MB base64 image event with none.
        if isinstance(raw, bytes):
            escaped = b"\\" in raw and ESCAPE in raw
        else:
            escaped = "\\" in raw and ESCAPE_TEXT in raw
        return self._hide_strings(decoded) if escaped and self._value else decoded

    def _hide_strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.hide_text(value)
        if isinstance(value, dict):
            return {self.hide_text(key): self._hide_strings(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._hide_strings(item) for item in value]
        return value

    def hide_in_stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The chunks with the key masked, also where the network split it between two chunks.

        A key holds no line break, so each copy lies within one line: the bytes after a chunk's last
        line break wait for the rest of their line. Nothing that could be shown waits longer: a
        Server-Sent Event is complete only at a blank line. A long line arriving in many chunks is
        joined once, when its end comes.
        """
        if not self._key:  # no key, nothing to mask: the chunks as they come
            yield from chunks
            return
        held: list[bytes] = []
        for chunk in chunks:
            if not held and chunk.endswith(b"\n"):  # the usual chunk: whole events, nothing to hold
                yield self.hide(chunk)
                continue
            cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
            if not cut:
                held.append(chunk)
                continue
            lines = chunk if cut == len(chunk) else chunk[:cut]
            if held:
                lines = b"".join(held) + lines
            held = [chunk[cut:]] if cut < len(chunk) else []
            yield self.hide(lines)
        if held:
            yield self.hide(b"".join(held))
