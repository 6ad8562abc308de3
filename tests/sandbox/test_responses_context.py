"""Images, files and strict JSON schemas on the sandbox's Responses API: `input_image` and
`input_file` parts are checked and named in the reply as chat's parts are, `text.format` json_schema
is answered with a valid instance and refused as strict mode refuses it; requests and answers by the
2026 spec."""

from __future__ import annotations

import base64
import io
import json

import jsonschema
import pytest
from PIL import Image

from oai_magics.client import BadRequestError, Client
from oai_magics.client.responses_stream import output_text
from tests.helpers.contract import Answer, contract_errors
from tests.helpers.documents import pdf
from tests.helpers.openapi import spec

MODEL = "gpt-4o-mini"
STRICT = {  # a strict schema with a nullable field and a recursive $ref into $defs
    "type": "object", "additionalProperties": False, "required": ["name", "score", "note", "place"],
    "properties": {"name": {"type": "string"}, "score": {"type": "integer"},
                   "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "place": {"$ref": "#/$defs/Place"}},
    "$defs": {"Place": {"type": "object", "additionalProperties": False, "required": ["city", "near"],
                        "properties": {"city": {"type": "string"},
                                       "near": {"anyOf": [{"$ref": "#/$defs/Place"}, {"type": "null"}]}}}},
}


def png(size: tuple[int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def asked(*parts: dict) -> list[dict]:
    return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is in Bergen?"}, *parts]}]


def create(api: Client, **request: object) -> dict:
    """A response, its request first checked against the 2026 spec."""
    assert spec("2026").request_errors("post", "/responses", {}, "application/json", {"model": MODEL, **request}) == []
    return api.responses.create(model=MODEL, **request)


def test_images_and_files_are_named_in_the_reply(api: Client, answers: list[Answer]) -> None:
    pdf_data = "data:application/pdf;base64," + base64.b64encode(pdf(3)).decode()
    reply = output_text(create(api, input=asked(
        {"type": "input_image", "image_url": png((40, 30)), "detail": "low"},
        {"type": "input_image", "image_url": "https://example.com/b.png", "detail": "auto"},
        {"type": "input_file", "filename": "report.pdf", "file_data": pdf_data})))
    assert "I was given 1 file: report.pdf, a PDF of 3 pages." in reply
    assert ("I was shown 2 images: PNG 40×30 px (low detail); an image by URL, not fetched offline (auto detail)."
            in reply)
    assert not contract_errors(answers)


def test_the_detail_original_is_taken_on_responses_and_refused_on_chat(api: Client) -> None:
    # ImageDetail (2026): low, high, auto or original on Responses; chat's image_url.detail has no original.
    reply = output_text(create(api, input=asked({"type": "input_image", "image_url": png((40, 30)), "detail": "original"})))
    assert "I was shown 1 image: PNG 40×30 px (original detail)." in reply
    with pytest.raises(BadRequestError, match="Supported values are: 'auto', 'low', and 'high'") as refused:
        api.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": png((40, 30)), "detail": "original"}}]}])
    assert refused.value.param == "messages[0].content[0].image_url.detail"


def test_an_image_or_file_the_api_refuses_is_refused(api: Client) -> None:
    broken = "data:image/png;base64," + base64.b64encode(b"not a picture").decode()
    with pytest.raises(BadRequestError, match="unsupported image"):
        api.responses.create(model=MODEL, input=asked({"type": "input_image", "image_url": broken, "detail": "auto"}))
    with pytest.raises(BadRequestError) as refused:
        api.responses.create(model=MODEL, input=asked({"type": "input_file", "filename": "a.txt",
                                                       "file_data": "data:text/plain;base64,aGk="}))
    assert refused.value.param == "input[0].content[1].file.file_data"


def test_a_strict_text_format_is_answered_with_a_valid_instance(api: Client, answers: list[Answer]) -> None:
    fmt = {"type": "json_schema", "name": "review", "schema": STRICT, "strict": True}
    first = output_text(create(api, input="Rate the Lisbon review: warm staff", text={"format": fmt}))
    jsonschema.validate(json.loads(first), STRICT)  # $refs into $defs followed
    assert output_text(create(api, input="Rate the Lisbon review: warm staff", text={"format": fmt})) == first
    assert not contract_errors(answers)


def test_a_schema_strict_mode_refuses_is_refused_on_responses_too(api: Client) -> None:
    loose = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    with pytest.raises(BadRequestError) as refused:
        api.responses.create(model=MODEL, input="Rate it", text={"format": {
            "type": "json_schema", "name": "review", "schema": loose, "strict": True}})
    assert refused.value.message == ("Invalid schema for response_format 'review': In context=(), "
                                     "'additionalProperties' is required to be supplied and to be false.")
    assert refused.value.param == "text.format.schema"
    taken = api.responses.create(model=MODEL, input="Rate it", text={"format": {
        "type": "json_schema", "name": "review", "schema": loose}})  # not strict: taken as it is
    assert set(json.loads(output_text(taken))) == {"a"}
