"""The API key: held behind a mask, and masked out of whatever the server sends back.

`Secret` holds the key; repr, str and format show a mask, and only `.value` hands the key out (to the
transport, as the request leaves). A key is taken without the whitespace around it (one read from a
file keeps its line break) and refused at once if it still holds a character no header can carry:
the transport's own error would quote the header, key and all. `hide()` replaces the key in server
bytes with that mask, `hide_text()` in a header value, and `hide_decoded()` in decoded JSON, where an
escaped copy (`\\u0073k-...`) is no longer escaped. `decode` is their one caller: it passes every
byte the server sends through one of them before anything else sees it (a stream read by read), so
a server or proxy that echoes the `Authorization` header cannot put the key into an error message, a
traceback's locals, a reply shown in the notebook or a file written from it.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Callable

from .errors import KeyFormatError

__all__ = ["Secret", "map_strings"]

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
        self._key = value.encode()  # encoded once: every read of every stream is searched for it

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
        # `find`, not `in`: for bytes it costs a third less, which counts once per read of a stream.
        return data.replace(key, repr(self).encode()) if key and data.find(key) != -1 else data

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
        return map_strings(value, self.hide_text)


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """Decoded JSON with `change` applied to every string in it, keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(key): map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    return value
