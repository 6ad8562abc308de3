"""Ids are one path segment whatever they contain: the server receives exactly the escaped path."""

from __future__ import annotations

from typing import Any

import pytest

from oai_magics.client import Client

ESCAPED = {
    ".": "%2E",
    "..": "%2E%2E",
    "../../models": "..%2F..%2Fmodels",
    "a/b": "a%2Fb",
    "a?b=c": "a%3Fb%3Dc",
    "a#b": "a%23b",
    "100%": "100%25",
    "%2E%2E": "%252E%252E",
    "gpt-3.5-turbo": "gpt-3.5-turbo",
    "ünï": "%C3%BCn%C3%AF",
}


@pytest.mark.parametrize("file_id", ESCAPED)
def test_the_id_stays_one_segment(file_id: str, client: Client, recorder: Any) -> None:
    client.files.retrieve(file_id)
    assert recorder.last.raw_path == "/v1/files/" + ESCAPED[file_id]


def test_dot_ids_in_a_nested_path_and_with_a_query(client: Client, recorder: Any) -> None:
    client.threads.messages.list("..", limit=5)
    assert recorder.last.raw_path == "/v1/threads/%2E%2E/messages" and recorder.last.query == {"limit": "5"}
