"""Embeddings decode into one float32 matrix; pages walk with `after=`."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from werkzeug import Response

from oai_magics.client import APIError, Client, EmbeddingResult


def embedding_answer(vectors: list[list[float]], as_base64: bool, order: list[int]) -> str:
    data = []
    for index in order:
        vec = vectors[index]
        encoded: Any = base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode() if as_base64 else vec
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return json.dumps({"object": "list", "data": data, "model": "m", "usage": {"prompt_tokens": 2, "total_tokens": 2}})


def test_base64_embeddings_decode_in_input_order(client: Client, recorder: Any) -> None:
    vectors = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.125]]
    recorder.reply = lambda r: Response(embedding_answer(vectors, True, [1, 0]), content_type="application/json")
    result = client.embeddings.create(model="m", input=["a", "b"])
    assert isinstance(result, EmbeddingResult) and result["usage"]["total_tokens"] == 2
    assert result.matrix.dtype == np.float32 and result.matrix.tolist() == vectors
    assert isinstance(result["data"][0]["embedding"], str)  # the raw JSON is untouched


def test_float_embeddings_work_too(client: Client, recorder: Any) -> None:
    vectors = [[0.5, -1.0], [2.0, 4.0]]
    recorder.reply = lambda r: Response(embedding_answer(vectors, False, [0, 1]), content_type="application/json")
    result = client.embeddings.create(model="m", input=["a", "b"], encoding_format="float")
    assert recorder.last.body["encoding_format"] == "float"
    assert result.matrix.tolist() == vectors


def test_an_answer_without_indexes_is_taken_in_the_order_given(client: Client, recorder: Any) -> None:
    data = [{"object": "embedding", "embedding": [float(i), 0.0]} for i in range(3)]
    recorder.reply = lambda r: Response(json.dumps({"object": "list", "data": data}), content_type="application/json")
    assert client.embeddings.create(model="m", input=["a", "b", "c"]).matrix[:, 0].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("vector, message", [
    ("AAAAAA!AAAAA=", "POST /embeddings answered with embedding 1 that is not a vector"),  # not a base64 character
    (base64.b64encode(b"\0" * 6).decode(), "POST /embeddings answered with embedding 1 that is not a vector"),  # 1.5 floats
    (base64.b64encode(b"\0" * 12).decode(), "POST /embeddings answered with embeddings of different lengths"),
    ([1, "a"], "POST /embeddings answered with embedding 1 that is not a vector"),  # a string among the numbers
    ([[0.0, 0.0]], "POST /embeddings answered with embedding 1 that is not a vector"),  # nested one level too deep
    (None, "POST /embeddings answered with embedding 1 that is not a vector"),
])
def test_a_vector_that_does_not_decode_is_a_one_line_error(client: Client, recorder: Any, vector: Any,
                                                           message: str) -> None:
    data = [{"object": "embedding", "index": 0, "embedding": base64.b64encode(b"\0" * 8).decode()},
            {"object": "embedding", "index": 1, "embedding": vector}]
    recorder.reply = lambda r: Response(json.dumps({"object": "list", "data": data}), content_type="application/json")
    with pytest.raises(APIError) as caught:
        client.embeddings.create(model="m", input=["a", "b"]).matrix
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_auto_paging_walks_every_page(client: Client, recorder: Any) -> None:
    ids = [f"asst_{i}" for i in range(7)]

    def reply(request: Any) -> Response:
        after = request.args.get("after")
        start = ids.index(after) + 1 if after else 0
        page = ids[start:start + 3]
        body = {"object": "list", "data": [{"id": i} for i in page], "first_id": page[0], "last_id": page[-1],
                "has_more": start + 3 < len(ids)}
        return Response(json.dumps(body), content_type="application/json")

    recorder.reply = reply
    first = client.assistants.list(limit=3)
    assert len(first) == 3 and first.has_more and first.last_id == "asst_2"
    assert [a["id"] for a in first.auto_paging_iter()] == ids
    assert [r.query.get("after") for r in recorder.requests] == [None, "asst_2", "asst_5"]
    assert all(r.query["limit"] == "3" for r in recorder.requests)


def pages_by_cursor(recorder: Any, pages: dict[str | None, list[str]]) -> None:
    """The server answers `after=<cursor>` with the page listed for it, always saying there is more."""

    def reply(request: Any) -> Response:
        page = pages[request.args.get("after")]
        body = {"object": "list", "data": [{"id": i} for i in page], "last_id": page[-1], "has_more": True}
        return Response(json.dumps(body), content_type="application/json")

    recorder.reply = reply


@pytest.mark.timeout(30)  # the defect this guards against is an endless loop
def test_a_server_ignoring_after_stops_the_walk_with_a_clear_error(client: Client, recorder: Any) -> None:
    same = ["asst_0", "asst_1"]
    pages_by_cursor(recorder, {None: same, "asst_1": same})
    walked = []
    with pytest.raises(APIError, match="the server ignored after='asst_1'"):
        walked.extend(a["id"] for a in client.assistants.list().auto_paging_iter())
    assert walked == same and len(recorder.requests) == 2  # nothing repeated, nothing more asked


@pytest.mark.timeout(30)
def test_a_cursor_coming_round_again_stops_the_walk(client: Client, recorder: Any) -> None:
    pages_by_cursor(recorder, {None: ["a", "b"], "b": ["c", "d"], "d": ["a", "b"]})
    with pytest.raises(APIError, match="ignored after='d'"):
        list(client.assistants.list().auto_paging_iter())
    assert len(recorder.requests) == 3
