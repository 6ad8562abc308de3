"""Files whose names are not plain ASCII, or whose JSONL texts hold line separators: uploaded, listed and
read back like any other."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
import requests

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox


@pytest.mark.parametrize("name", ["河流" * 20 + ".jsonl", "notes\u202etxt.exe", "café.jsonl"])
def test_a_file_with_any_name_can_be_read_back(api: Client, sandbox: Sandbox, name: str) -> None:
    created = api.files.create(file=(name, io.BytesIO(b'{"a": 1}\n')), purpose="batch")
    assert api.files.retrieve(created["id"])["filename"] == name
    assert api.files.content(created["id"]) == b'{"a": 1}\n'
    answer = requests.get(f"{sandbox.base_url}/files/{created['id']}/content", timeout=10,
                          headers={"Authorization": f"Bearer {sandbox.api_key}"})
    assert answer.headers["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(name)}"


def test_a_training_file_whose_text_holds_a_line_separator_is_jsonl(api: Client) -> None:
    # U+2028, U+2029 and U+0085 are written raw inside a JSON string; only "\n" ends a JSONL line.
    content = '{"prompt": "a\u2028b\u2029c", "completion": "d\u0085e"}\r\n'.encode()
    created = api.files.create(file=("train.jsonl", io.BytesIO(content)), purpose="fine-tune")
    assert api.files.content(created["id"]) == content
