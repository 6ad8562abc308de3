"""Chat and text endpoints in detail, and the API's error answers (status, type, param, code)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from oai_magics.client import AuthenticationError, BadRequestError, Client
from oai_magics.sandbox import Sandbox, start
from tests.helpers.openapi import spec

USER = [{"role": "user", "content": "Summarise the history of Lisbon"}]


def test_streamed_chat_framing_and_usage(api: Client) -> None:
    chunks = list(api.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True,
                                              stream_options={"include_usage": True}))
    v2 = spec("2026")
    for chunk in chunks:
        assert v2.check({"$ref": "#/components/schemas/CreateChatCompletionStreamResponse"}, chunk) == []
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 5
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    plain = api.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert text == plain["choices"][0]["message"]["content"]  # deterministic, streamed or not


def test_n_stop_and_max_tokens(api: Client) -> None:
    many = api.chat.completions.create(model="gpt-4o-mini", messages=USER, n=3)
    texts = [c["message"]["content"] for c in many["choices"]]
    assert len(set(texts)) == 3
    short = api.chat.completions.create(model="gpt-4o-mini", messages=USER, max_tokens=4)
    assert short["choices"][0]["finish_reason"] == "length" and short["usage"]["completion_tokens"] <= 4
    stopped = api.chat.completions.create(model="gpt-4o-mini", messages=USER, stop=["You wrote"])
    assert "You wrote" not in stopped["choices"][0]["message"]["content"]
    assert stopped["choices"][0]["finish_reason"] == "stop"


def test_json_mode_and_schema(api: Client) -> None:
    ask = [{"role": "user", "content": "Reply in JSON about Lisbon"}]
    answer = api.chat.completions.create(model="gpt-4o-mini", messages=ask, response_format={"type": "json_object"})
    assert json.loads(answer["choices"][0]["message"]["content"])["source"] == "oai_magics sandbox"
    with pytest.raises(BadRequestError, match="must contain the word 'json'"):
        api.chat.completions.create(model="gpt-4o-mini", messages=USER, response_format={"type": "json_object"})
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}}}
    shaped = api.chat.completions.create(model="gpt-4o-mini", messages=USER, response_format={
        "type": "json_schema", "json_schema": {"name": "city", "schema": schema}})
    assert set(json.loads(shaped["choices"][0]["message"]["content"])) == {"city", "population"}


def test_tool_call_round_trip(api: Client) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"term": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}}}}}]
    first = api.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=tools)
    message = first["choices"][0]["message"]
    assert first["choices"][0]["finish_reason"] == "tool_calls" and message["content"] is None
    call = message["tool_calls"][0]
    assert json.loads(call["function"]["arguments"])["limit"] == 1
    follow = USER + [message, {"role": "tool", "tool_call_id": call["id"], "content": "Founded before Rome"}]
    second = api.chat.completions.create(model="gpt-4o-mini", messages=follow, tools=tools)
    assert "`lookup` returned: Founded before Rome" in second["choices"][0]["message"]["content"]
    streamed = list(api.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=tools, stream=True))
    pieces = "".join(c["choices"][0]["delta"].get("tool_calls", [{}])[0].get("function", {}).get("arguments", "")
                     for c in streamed if c["choices"] and c["choices"][0]["delta"].get("tool_calls"))
    assert json.loads(pieces) == json.loads(call["function"]["arguments"])


@pytest.mark.parametrize("call, status, code, param", [
    (lambda c: c.chat.completions.create(model="gpt-9", messages=USER), 404, "model_not_found", "model"),
    (lambda c: c.chat.completions.create(model="text-embedding-3-small", messages=USER), 400, "model_not_supported", "model"),
    (lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=[]), 400, "empty_array", "messages"),
    (lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=3), 400,
     "integer_above_max_value", "temperature"),
    (lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=USER, bogus=1), 400, "unknown_parameter", "bogus"),
    (lambda c: c.chat.completions.create(model="gpt-4o-mini"), 400, "missing_required_parameter", "messages"),
    (lambda c: c.embeddings.create(model="text-embedding-3-small", input=["ok", ""]), 400, None, "input"),
    (lambda c: c.embeddings.create(model="text-embedding-3-small", input=["a"] * 2049), 400, None, "input"),
    (lambda c: c.embeddings.create(model="text-embedding-ada-002", input="a", dimensions=8), 400, None, "dimensions"),
    (lambda c: c.images.generate(prompt="x", model="dall-e-3", n=2), 400, "integer_above_max_value", "n"),
    (lambda c: c.images.generate(prompt="x", size="300x300"), 400, None, "size"),
    (lambda c: c.files.retrieve("file-missing"), 404, None, None),
    (lambda c: c.files.create(("bad.jsonl", b"not json\n"), purpose="fine-tune"), 400, "invalid_file_format", "file"),
    (lambda c: c.files.create(("a.txt", b"x"), purpose="nonsense"), 400, None, "purpose"),
    (lambda c: c.audio.speech.create(model="tts-1", input="x", voice="robot"), 400, None, "voice"),
    (lambda c: c.images.edit(("a.png", b"not a png"), prompt="x"), 400, None, "image"),
    (lambda c: c.moderations.create(input=3), 400, None, "input"),
])
def test_invalid_requests_get_the_api_error(api: Client, call: Any, status: int, code: str | None, param: str | None) -> None:
    with pytest.raises(Exception) as info:
        call(api)
    error = info.value
    assert (error.status, error.param) == (status, param), str(error)
    if code:
        assert error.code == code
    assert error.type == "invalid_request_error" and error.message
    assert spec("2026").check({"$ref": "#/components/schemas/ErrorResponse"}, error.body) == []


def test_embeddings_token_limit_names_the_input(api: Client) -> None:
    with pytest.raises(BadRequestError, match="maximum context length is 8192 tokens.*input 1"):
        api.embeddings.create(model="text-embedding-3-small", input=["fine", "word " * 9000])


def test_authorisation(sandbox: Sandbox, tmp_path: Any) -> None:
    with pytest.raises(AuthenticationError, match="You didn't provide an API key"):
        Client(api_key="", base_url=sandbox.base_url).models.list()
    with start(data_dir=tmp_path, api_key="sk-right-key") as strict:
        with pytest.raises(AuthenticationError) as info:
            Client(api_key="sk-wrong-key", base_url=strict.base_url).models.list()
        assert info.value.code == "invalid_api_key" and "sk-wrong" not in str(info.value)
        assert len(Client(api_key="sk-right-key", base_url=strict.base_url).models.list()) > 10


def test_unknown_paths_methods_and_bodies(sandbox: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    missing = requests.get(sandbox.base_url + "/nothing/here", headers=headers, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"] == {"message": "Invalid URL (GET /v1/nothing/here)", "type": "invalid_request_error",
                                       "param": None, "code": None}
    assert requests.put(sandbox.base_url + "/models", headers=headers, timeout=10).status_code == 405
    unauthorised = requests.get(sandbox.base_url + "/models", timeout=10)
    for answer in (missing, unauthorised):
        assert spec("2026").check({"$ref": "#/components/schemas/ErrorResponse"}, answer.json()) == []
    broken = requests.post(sandbox.base_url + "/chat/completions", data="{oops", headers=headers, timeout=10)
    assert broken.status_code == 400 and "could not parse the JSON body" in broken.json()["error"]["message"]


def test_pagination_cursors(api: Client) -> None:
    made = [api.threads.create(metadata={"i": str(i)})["id"] for i in range(5)]
    page = api.threads.list(limit=2, order="asc", after=made[0])
    assert [t["id"] for t in page] == made[1:3] and page.has_more
    walked = [t["id"] for t in api.threads.list(limit=2, order="asc", after=made[0]).auto_paging_iter()]
    assert walked[:4] == made[1:]
    before = api.threads.list(limit=2, order="asc", before=made[4])
    assert [t["id"] for t in before] == made[2:4]
    with pytest.raises(BadRequestError, match="limit"):
        api.threads.list(limit=1000)
