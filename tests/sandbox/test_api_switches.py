"""The sandbox standing in for servers that lack some APIs: switched-off routes answer 404 as theirs
do, and what remains (chat completions, responses) works; the chat rules a client must keep."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from oai_magics.client import APIError, BadRequestError, Client, InternalServerError, NotFoundError
from oai_magics.sandbox import start


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A client on a sandbox with neither the Assistants nor the Conversations API."""
    with start(data_dir=tmp_path_factory.mktemp("bare"), assistants_api=False, conversations_api=False) as server:
        with Client(api_key=server.api_key, base_url=server.base_url, max_retries=0) as client:
            yield client


@pytest.mark.parametrize("call", [lambda c: c.assistants.list(), lambda c: c.threads.create(),
                                  lambda c: c.threads.runs.list("thread_x"), lambda c: c.conversations.create()],
                         ids=["assistants", "threads", "runs", "conversations"])
def test_switched_off_routes_answer_404(bare: Client, call: Any) -> None:
    with pytest.raises(NotFoundError, match="Invalid URL"):
        call(bare)


def test_what_remains_works(bare: Client) -> None:
    answer = bare.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    assert answer["choices"][0]["message"]["content"]
    first = bare.responses.create(model="gpt-4o-mini", input="Hi")
    assert bare.responses.create(model="gpt-4o-mini", input="And?", previous_response_id=first["id"])["status"] == "completed"
    with pytest.raises(NotFoundError):  # no conversation can exist here
        bare.responses.create(model="gpt-4o-mini", input="Hi", conversation="conv_abc")


def test_an_unanswered_tool_call_is_refused_as_the_api_refuses_it(bare: Client) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    asked = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None, "tool_calls": [call]}]
    with pytest.raises(BadRequestError, match="must be followed by tool messages"):
        bare.chat.completions.create(model="gpt-4o-mini", messages=asked + [{"role": "user", "content": "Well?"}])
    answered = asked + [{"role": "tool", "tool_call_id": "call_1", "content": "42"}]
    assert "42" in bare.chat.completions.create(model="gpt-4o-mini", messages=answered)["choices"][0]["message"]["content"]


def test_the_fail_word_fails_a_completion_as_a_server_error(bare: Client) -> None:
    failing = [{"role": "user", "content": "Please sandbox:fail now"}]
    with pytest.raises(InternalServerError, match="failed this completion on request"):
        bare.chat.completions.create(model="gpt-4o-mini", messages=failing)
    with pytest.raises(APIError, match="failed this completion on request") as caught:  # after the answer began
        list(bare.chat.completions.create(model="gpt-4o-mini", messages=failing, stream=True))
    assert caught.value.code == "server_error"
