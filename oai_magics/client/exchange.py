"""An HTTP exchange as a recording keeps it (see `tape` for the format), and back again.

`request_of()` describes a request as the transport is about to send it: method, path, query and JSON
body, or an upload's fields with each file's name, size and SHA-256. `body_of()` turns an answer's
bytes into the form the file keeps (JSON, text, or base64 for binary bodies) and `body_bytes()` back.
`Masks` hides the key on its way into a file: the key and the user info of the base URL as they are,
base64-encoded (a Basic header is base64; see `base64_forms`) and URL-encoded, in the request as well
as in the answer;
the same hiding as `decode` does for what reaches the notebook (`Secret.hide`), applied to each form.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Mapping
from urllib.parse import quote, unquote, urlsplit

from .secret import ESCAPE_TEXT, Secret, map_strings
from .transport import KeyHolder

__all__ = ["Masks", "base64_forms", "request_of", "body_of", "body_bytes", "event_of", "event_bytes"]

_HASH_BLOCK = 1 << 20
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SHORTEST = 6  # characters of base64: 36 bits of a secret, too many to turn up by chance


class Masks:
    """Every form of the key (and of the URL's user info) a recording could otherwise hold."""

    def __init__(self, *holders: KeyHolder | None) -> None:
        forms: list[str] = []
        for holder in holders:
            if holder is None or not holder.value:
                continue
            for secret in dict.fromkeys([holder.value, unquote(holder.value)]):  # user info is URL-encoded
                forms += [secret, quote(secret, safe=""), *base64_forms(secret.encode())]
        self._secrets = [Secret(form) for form in dict.fromkeys(forms)]

    def bytes(self, data: bytes) -> bytes:
        for secret in self._secrets:
            data = secret.hide(data)
        return data

    def text(self, text: str) -> str:
        """`text` with every form of the key masked; where `\\u` escapes spell the key in text no JSON
        parser reads (a text/plain error, an event that is not JSON), the text unescaped and masked."""
        for secret in self._secrets:
            text = secret.hide_text(text)
        if "\\" in text and ESCAPE_TEXT in text:
            unescaped = _UNICODE_ESCAPE.sub(lambda found: chr(int(found[1], 16)), text)
            masked = self.text(unescaped) if unescaped != text else unescaped
            if masked != unescaped:
                return masked
        return text

    def value(self, value: Any) -> Any:
        """A decoded JSON value with every string masked."""
        return map_strings(value, self.text) if self._secrets else value


def base64_forms(secret: bytes) -> list[str]:
    """The text that spells `secret` in any base64 holding it: base64 encodes three bytes at a time, so
    the same bytes read three ways by where they start (`Bearer KEY`, `KEY` alone), standard and
    URL-safe. Of each, only the characters made of the secret's bits alone: the first and last may also
    hold bits of the bytes around it, and would not match inside a longer text."""
    forms = []
    for shift, dropped in ((0, 0), (1, 2), (2, 3)):  # characters made partly of the bytes before
        encoded = base64.b64encode(bytes(shift) + secret).decode()
        padding = len(encoded) - len(encoded.rstrip("="))
        core = encoded[dropped:len(encoded) - padding - (1 if padding else 0)]  # and of the bytes after
        forms += [core, core.replace("+", "-").replace("/", "_")]
    # Fewer characters than `_SHORTEST` would match common text and mask the recording to pieces.
    return [form for form in dict.fromkeys(forms) if len(form) >= _SHORTEST]


def request_of(method: str, url: str, params: Mapping[str, Any] | None, json_body: Any, data: Any,
               masks: Masks) -> dict:
    """The request as the recording keeps it and replay looks it up: never its headers."""
    request: dict[str, Any] = {"method": method.upper(), "path": urlsplit(url).path}
    if params:
        request["query"] = masks.value({str(name): str(value) for name, value in params.items()})
    if json_body is not None:
        request["json"] = masks.value(without_mcp_headers(json_body))
    elif data is not None:
        request["form"] = masks.value(_form_of(data))
    return request


def without_mcp_headers(body: Any) -> Any:
    """A request body whose Responses `mcp` tools carry `headers` (a remote MCP server's credentials),
    with their values masked: a recording keeps the header names only, and replay looks requests up
    the same way."""
    tools = body.get("tools") if isinstance(body, dict) else None
    if not isinstance(tools, list):
        return body
    masked = [{**tool, "headers": {name: repr(Secret(str(value))) for name, value in tool["headers"].items()}}
              if isinstance(tool, dict) and tool.get("type") == "mcp" and isinstance(tool.get("headers"), dict) else tool
              for tool in tools]
    return {**body, "tools": masked}


def _form_of(data: Any) -> list:
    """An upload's fields (requests-toolbelt's `MultipartEncoder.fields`), each file by its hash."""
    fields = data.fields if hasattr(data, "fields") else data
    if isinstance(fields, Mapping):
        fields = list(fields.items())
    form = []
    for name, value in fields:
        if isinstance(value, tuple):
            form.append([name, {"file": value[0], **_digest(value[1])}])
        else:
            form.append([name, value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)])
    return form


def _digest(source: Any) -> dict:
    """Size and SHA-256 of a file field, read from where it stands and put back there to be sent."""
    digest, size = hashlib.sha256(), 0
    if isinstance(source, (bytes, bytearray)):
        digest.update(source)
        return {"bytes": len(source), "sha256": digest.hexdigest()}
    start = source.tell()
    while block := source.read(_HASH_BLOCK):
        digest.update(block)
        size += len(block)
    source.seek(start)
    return {"bytes": size, "sha256": digest.hexdigest()}


def body_of(content: bytes, content_type: str, masks: Masks) -> dict:
    """A whole body as the file keeps it: `json` when it is JSON, `text` when text, else `base64`."""
    content = masks.bytes(content)
    if not content:
        return {}
    if "json" in content_type:
        try:
            return {"json": masks.value(json.loads(content))}
        except ValueError:
            pass  # a body that says JSON and is not: kept as the text it is
    if content_type.startswith("text/") or "json" in content_type:
        try:
            return {"text": masks.text(content.decode("utf-8"))}
        except UnicodeDecodeError:
            pass
    return {"base64": base64.b64encode(content).decode("ascii")}


def body_bytes(response: Mapping[str, Any]) -> bytes:
    """The bytes of a recorded whole body."""
    if "json" in response:
        return json.dumps(response["json"], ensure_ascii=False).encode("utf-8")
    if "text" in response:
        return response["text"].encode("utf-8")
    if "base64" in response:
        return base64.b64decode(response["base64"])
    return b""


def event_of(name: str, data: str, masks: Masks, seconds: float | None) -> dict:
    """One streamed event as the file keeps it: its data as JSON when it is JSON (readable in a diff)."""
    event: dict[str, Any] = {} if name == "message" else {"event": name}
    data = masks.text(data)
    try:
        event["json"] = masks.value(json.loads(data))
    except ValueError:
        event["data"] = data
    if seconds is not None:
        event["t"] = round(seconds, 4)
    return event


def event_bytes(event: Mapping[str, Any]) -> bytes:
    """A recorded event as the Server-Sent Event it was on the wire."""
    data = json.dumps(event["json"], ensure_ascii=False) if "json" in event else str(event.get("data", ""))
    lines = [f"event: {event['event']}"] if "event" in event else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return ("\n".join(lines) + "\n\n").encode("utf-8")
