"""The sandbox as today's api.openai.com: today's model ids with their shutdown dates, retired models
answering model_not_found, and reasoning models' rules (max_tokens refused in the API's words,
reasoning_effort checked against the spec's enum, reasoning tokens counted apart)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oai_magics import model_defaults
from oai_magics.client import BadRequestError, Client, NotFoundError
from tests.helpers.openapi import spec

from .conftest import Answer

USER = [{"role": "user", "content": "Summarise the history of Lisbon"}]
MAX_TOKENS_REFUSAL = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
EFFORTS = spec("2026").resolve({"$ref": "#/components/schemas/ReasoningEffort"})["anyOf"][0]["enum"]


def requests_valid(answers: list[Answer], sent: list[dict]) -> None:
    """Every chat request the sandbox accepted is valid by the 2026 spec, and so is every answer."""
    for body in sent:
        assert spec("2026").request_errors("POST", "/chat/completions", {}, "application/json", body) == []
    for answer in answers:
        schema = "CreateChatCompletionResponse" if answer.status < 400 else "ErrorResponse"
        if answer.path == "/chat/completions":
            assert spec("2026").check({"$ref": f"#/components/schemas/{schema}"}, answer.body) == []


def test_the_list_names_every_default_model_with_its_shutdown_date(api: Client, answers: list[Answer]) -> None:
    listed = {model["id"]: model for model in api.models.list()}
    assert spec("2026").check({"$ref": "#/components/schemas/ListModelsResponse"}, answers[-1].body) == []
    for kind in model_defaults.kinds():
        assert set(model_defaults.preferred(kind)) <= set(listed), kind
    assert {"gpt-image-1-mini", "gpt-image-1", "gpt-image-1.5", "gpt-image-2", "dall-e-2", "dall-e-3"} <= set(listed)
    today = dt.datetime.now(dt.timezone.utc).date()
    dates = {name: dt.date.fromisoformat(m["shutdown_date"]) for name, m in listed.items() if m.get("shutdown_date")}
    assert any(date < today for date in dates.values())  # a retired one
    assert any(today <= date <= today + dt.timedelta(days=30) for date in dates.values())  # one retiring this month
    assert listed["gpt-5.4-mini"]["shutdown_date"] is None


def test_a_retired_model_answers_model_not_found(api: Client) -> None:
    listed = {m["id"]: m for m in api.models.list()}
    today = dt.date.today().isoformat()
    retired = next(name for name, m in listed.items() if m.get("shutdown_date") and m["shutdown_date"] < today)
    with pytest.raises(NotFoundError) as caught:
        api.chat.completions.create(model=retired, messages=USER)
    assert (caught.value.status, caught.value.code, caught.value.param) == (404, "model_not_found", "model")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-3.5-turbo"])
def test_legacy_chat_models_still_answer_and_take_max_tokens(api: Client, model: str) -> None:
    answer = api.chat.completions.create(model=model, messages=USER, max_tokens=4)
    assert answer["choices"][0]["finish_reason"] == "length" and "completion_tokens_details" not in answer["usage"]


def test_a_reasoning_model_refuses_max_tokens_in_the_apis_words(api: Client, answers: list[Answer]) -> None:
    with pytest.raises(BadRequestError) as caught:
        api.chat.completions.create(model="gpt-5.4-mini", messages=USER, max_tokens=40)
    error = caught.value
    assert (error.status, error.message, error.param, error.code) == (400, MAX_TOKENS_REFUSAL, "max_tokens",
                                                                      "unsupported_parameter")
    body = {"model": "gpt-5.4-mini", "messages": USER, "max_completion_tokens": 400, "reasoning_effort": "low"}
    answer = api.chat.completions.create(**body)
    assert answer["choices"][0]["finish_reason"] == "stop"
    requests_valid(answers, [body])


def test_reasoning_tokens_grow_with_the_effort_and_count_in_the_limit(api: Client, answers: list[Answer]) -> None:
    sent, counts = [], []
    for effort in ("none", "low", "high"):
        body = {"model": "gpt-5.4-mini", "messages": USER, "reasoning_effort": effort}
        sent.append(body)
        usage = api.chat.completions.create(**body)["usage"]
        counts.append(usage["completion_tokens_details"]["reasoning_tokens"])
    assert counts[0] == 0 < counts[1] < counts[2]
    # The limit covers reasoning and reply: a limit spent on thinking leaves an empty, cut reply.
    body = {"model": "gpt-5.4-mini", "messages": USER, "reasoning_effort": "high", "max_completion_tokens": counts[2]}
    sent.append(body)
    cut = api.chat.completions.create(**body)
    assert cut["choices"][0]["finish_reason"] == "length" and cut["choices"][0]["message"]["content"] == ""
    requests_valid(answers, sent)


def test_the_effort_is_checked_against_the_specs_enum(api: Client) -> None:
    assert tuple(EFFORTS) == ("none", "minimal", "low", "medium", "high", "xhigh", "max")
    for effort in EFFORTS:
        api.chat.completions.create(model="gpt-5.4-nano", messages=USER, reasoning_effort=effort)
    with pytest.raises(BadRequestError) as caught:
        api.chat.completions.create(model="gpt-5.4-nano", messages=USER, reasoning_effort="extreme")
    assert (caught.value.param, caught.value.code) == ("reasoning_effort", "invalid_value")
    with pytest.raises(BadRequestError, match="'reasoning_effort' is not supported with this model"):
        api.chat.completions.create(model="gpt-4o-mini", messages=USER, reasoning_effort="low")


def test_a_streamed_reasoning_reply_reports_its_reasoning_tokens(api: Client) -> None:
    chunks = list(api.chat.completions.create(model="gpt-5.4-mini", messages=USER, reasoning_effort="medium",
                                              stream=True, stream_options={"include_usage": True}))
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_responses_take_the_effort_and_report_reasoning_tokens(api: Client) -> None:
    body: dict[str, Any] = {"model": "gpt-5.4-mini", "input": "Summarise the history of Lisbon",
                            "reasoning": {"effort": "medium"}}
    assert spec("2026").request_errors("POST", "/responses", {}, "application/json", body) == []
    answer = api.responses.create(**body)
    assert answer["reasoning"]["effort"] == "medium" and answer["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
    assert spec("2026").check({"$ref": "#/components/schemas/Response"}, answer) == []
    with pytest.raises(BadRequestError) as caught:
        api.responses.create(model="gpt-5.4-mini", input="hi", reasoning={"effort": "extreme"})
    assert caught.value.param == "reasoning.effort"
