"""The URLs a user configures (a base URL) or an answer hands out (an image's), read and shown safely.

Read without raising: a URL no parser can read (an unclosed `[`) is refused in one line when a call
is made, not by a traceback from whatever only wanted to look at it. Shown without its user info: a
gateway's token is often written there (`https://TOKEN@host/v1`, `https://user:TOKEN@host/v1`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["is_web_address", "host_of", "path_of", "without_userinfo", "split_userinfo"]

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@")


def is_web_address(url: object) -> bool:
    """Whether `url` is a string that starts with http:// or https://."""
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def host_of(url: str) -> str | None:
    """The host name of `url`, lower case; None when there is none, or the URL cannot be read."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def path_of(url: str) -> str:
    """The path of `url`; "" when the URL cannot be read."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def without_userinfo(url: str) -> str:
    """`url` for showing, any user info masked: `https://***@host/v1`. Read without a URL parser, so
    a URL that none can read is masked too."""
    return _USERINFO.sub(r"\1***@", url, count=1)


def split_userinfo(url: str) -> tuple[str, str | None]:
    """`url` without its user info, and the user info (still percent-encoded), or None when it has none:
    `https://user:TOKEN@host/v1` gives ("https://host/v1", "user:TOKEN")."""
    found = _USERINFO.match(url)
    if found is None:
        return url, None
    return found.group(1) + url[found.end():], found.group(2)
