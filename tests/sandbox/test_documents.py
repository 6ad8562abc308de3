"""File parts in chat messages: the sandbox takes PDFs as the API does and names them with their pages."""

from __future__ import annotations

import base64

import pytest

from oai_magics.client import BadRequestError, Client
from tests.helpers.documents import pdf
from tests.helpers.openapi import spec


def asking(file: dict) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "Summarise the report"}, {"type": "file", "file": file}]}]


def test_a_pdf_is_named_with_its_page_count(api: Client) -> None:
    file = {"filename": "report.pdf", "file_data": "data:application/pdf;base64," + base64.b64encode(pdf(3)).decode()}
    request = {"model": "gpt-4o-mini", "messages": asking(file)}
    assert spec("2026").request_errors("post", "/chat/completions", {}, "application/json", request) == []
    text = api.chat.completions.create(**request)["choices"][0]["message"]["content"]
    assert "I was given 1 file: report.pdf, a PDF of 3 pages." in text


@pytest.mark.parametrize("file, param", [
    ({"filename": "notes.txt", "file_data": "data:text/plain;base64,aGVsbG8="}, "file.file_data"),
    ({"filename": "fake.pdf", "file_data": "data:application/pdf;base64,aGVsbG8="}, "file.file_data"),
    ({"file_data": "data:application/pdf;base64," + base64.b64encode(pdf(1)).decode()}, "file.filename"),
])
def test_a_file_chat_completions_cannot_take_is_refused(api: Client, file: dict, param: str) -> None:
    with pytest.raises(BadRequestError) as refused:
        api.chat.completions.create(model="gpt-4o-mini", messages=asking(file))
    assert refused.value.param == f"messages[0].content[1].{param}"
