"""A run or a background response cancelled while its stream is being read: the stream stops
early and the server keeps the cancellation (the sandbox holds streamed runs in progress)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from oai_magics.client import APIConnectionError, Client
from oai_magics.sandbox import Sandbox, start


@pytest.fixture(scope="module")
def paced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("paced"), token_delay=0.3, run_delay=5.0) as running:
        yield running


@pytest.fixture
def api(paced: Sandbox) -> Client:
    return Client(api_key=paced.api_key, base_url=paced.base_url)


def test_background_response_cancelled_mid_stream(api: Client, tmp_path: Path) -> None:
    stream = api.responses.create(model="gpt-4o-mini", input="Tell me about the canals of Utrecht",
                                  background=True, stream=True)
    kinds = []
    with pytest.raises(APIConnectionError, match="ended before"):  # no terminal event: it was cancelled
        for event in stream:
            kinds.append(event["type"])
            if event["type"] == "response.created":
                response_id = event["response"]["id"]
            if event["type"] == "response.output_text.delta":
                assert api.responses.cancel(response_id)["status"] == "cancelled"
    assert "response.completed" not in kinds and kinds.count("response.output_text.delta") <= 2
    assert api.responses.retrieve(response_id)["status"] == "cancelled"


def test_run_cancelled_mid_stream(api: Client) -> None:
    assistant = api.assistants.create(model="gpt-4o-mini")
    thread = api.threads.create(messages=[{"role": "user", "content": "Tell me about the canals of Utrecht"}])
    names = []
    for item in api.threads.runs.create(thread["id"], assistant_id=assistant["id"], stream=True):
        names.append(item["event"])
        if item["event"] == "thread.message.delta" and names.count("thread.message.delta") == 1:
            assert api.threads.runs.cancel(thread["id"], run_id)["status"] == "cancelling"
        if item["event"] == "thread.run.created":
            run_id = item["data"]["id"]
    assert names[-2:] == ["thread.message.incomplete", "thread.run.cancelled"]
    assert api.threads.runs.retrieve(thread["id"], run_id)["status"] == "cancelled"
    message = api.threads.messages.list(thread["id"], order="desc")[0]
    assert message["status"] == "incomplete" and message["incomplete_details"] == {"reason": "run_cancelled"}
