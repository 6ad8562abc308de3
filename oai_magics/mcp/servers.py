"""What `%oai mcp add` records about a local MCP server, before anything is started.

A server is either a command run over stdio or a streamable-HTTP URL. Header values may name an
environment variable (`Authorization=$SERVICE_TOKEN`): the name is what is kept and shown, the value
is read only when the connection is made, so a token is never written into a notebook.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..client.urls import is_web_address, without_userinfo
from ..local_errors import LocalError
from .approval import APPROVE_CHOICES

__all__ = ["ServerSpec", "McpError", "resolved_headers"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class McpError(LocalError):
    """An MCP server could not be started, answered with an error, died or did not answer in time."""


@dataclass(frozen=True, repr=False)
class ServerSpec:
    """One server: how to reach it, how its calls are approved, how long a call may take."""

    name: str
    command: tuple[str, ...] = ()
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # a value may be a token typed as it is: never shown
    approve: str = "ask"
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"{self.name!r}: a server name is 1 to 32 letters, digits, _ or -")
        if bool(self.command) == bool(self.url):
            raise ValueError("give either a command (after --) or --url, not both")
        if self.url is not None and not is_web_address(self.url):  # not repeated: a token pasted in the wrong place
            raise ValueError("--url: an http:// or https:// address of a streamable-HTTP MCP endpoint")
        if self.approve not in APPROVE_CHOICES:
            raise ValueError(f"--approve: one of {', '.join(APPROVE_CHOICES)}")
        if not 0 < self.timeout <= 86400:
            raise ValueError("--timeout: seconds, more than 0 and at most a day")

    def __repr__(self) -> str:
        return f"ServerSpec({self.name!r}, {self.where!r}, approve={self.approve!r}, timeout={self.timeout:g})"

    @property
    def where(self) -> str:
        """How the server is reached, for showing: never a header value, nor a token in the URL."""
        if self.url is None:
            return " ".join(self.command)
        return without_userinfo(self.url)


def resolved_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers to send: `$NAME` values read from the environment now."""
    resolved = {}
    for key, value in headers.items():
        if value.startswith("$"):
            if value[1:] not in os.environ:
                raise McpError(f"header {key} names ${value[1:]}, which is not set in this kernel's environment")
            value = os.environ[value[1:]]
        resolved[key] = value
    return resolved
