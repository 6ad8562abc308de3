"""A key as it comes from a file or a paste: a line break inside it is one clear error without the
key, whitespace around it is taken off before it is sent."""

from __future__ import annotations

from typing import Any

import pytest

from oai_magics.client import Client
from oai_magics.client.errors import OpenAIError
from tests.helpers.rawserver import SERVER_KEY, answer


# -- a key the transport refuses -----------------------------------------------------------------

@pytest.mark.parametrize("key", [SERVER_KEY + "\r\nX-Other: 1", SERVER_KEY + "\n0", SERVER_KEY + "\u2014"])
def test_a_key_with_a_line_break_is_one_clear_error_without_the_key(serve: Any, key: str) -> None:
    server = serve(answer(b'{"object": "list", "data": []}'))
    client = Client(api_key=key, base_url=server.url, timeout=(5, 5), max_retries=0)
    with pytest.raises(OpenAIError) as info:  # once: a bare ValueError quoting the key
        client.models.list()
    assert SERVER_KEY not in str(info.value)


def test_a_key_read_with_its_trailing_line_break_is_sent_without_it(serve: Any) -> None:
    """A key read from a file keeps its line break: whitespace around a key is taken off."""
    server = serve(answer(b'{"object": "list", "data": []}'))
    client = Client(api_key=SERVER_KEY + "\n", base_url=server.url, timeout=(5, 5), max_retries=0)
    assert list(client.models.list()) == []
