"""An id is one path segment on the sandbox too: `a%2Fb` is looked up as the id `a/b`, not routed as two."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import requests

from oai_magics.client import Client, NotFoundError
from oai_magics.sandbox import Sandbox

IDS = ["a/b", "%2F", "?x", "#x", "a/../b", "ünï/ü"]

LOOKUPS: dict[str, tuple[Callable[[Client, str], Any], str]] = {
    "file": (lambda api, id_: api.files.retrieve(id_), "No file found with id {!r}."),
    "file content": (lambda api, id_: api.files.content(id_), "No file found with id {!r}."),
    "thread messages": (lambda api, id_: api.threads.messages.list(id_), "No thread found with id {!r}."),
    "model": (lambda api, id_: api.models.retrieve(id_), "The model {!r} does not exist"),
}


@pytest.mark.parametrize("lookup", LOOKUPS)
@pytest.mark.parametrize("id_", IDS)
def test_an_id_with_a_slash_question_mark_or_hash_is_looked_up_whole(api: Client, id_: str, lookup: str) -> None:
    call, message = LOOKUPS[lookup]
    with pytest.raises(NotFoundError) as info:
        call(api, id_)
    assert info.value.message == message.format(id_)  # not "Invalid URL": the route matched, the id is whole


def test_a_model_id_with_an_unescaped_slash_still_reaches_the_model_route(sandbox: Sandbox) -> None:
    answer = requests.get(f"{sandbox.base_url}/models/org/model", timeout=10,
                          headers={"Authorization": f"Bearer {sandbox.api_key}"})
    assert answer.status_code == 404 and answer.json()["error"]["message"] == "The model 'org/model' does not exist"


def test_an_unknown_path_is_still_an_invalid_url(sandbox: Sandbox) -> None:
    answer = requests.get(f"{sandbox.base_url}/files/a%2Fb/nothing", timeout=10,
                          headers={"Authorization": f"Bearer {sandbox.api_key}"})
    assert answer.status_code == 404 and answer.json()["error"]["message"] == "Invalid URL (GET /v1/files/a%2Fb/nothing)"


def test_a_real_file_is_found_by_its_id(api: Client) -> None:
    created = api.files.create(file=("notes.jsonl", b'{"a": 1}\n'), purpose="batch")
    assert api.files.retrieve(created["id"])["id"] == created["id"]
