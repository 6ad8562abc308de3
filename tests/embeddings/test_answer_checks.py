"""Embedding answers whose vectors do not fit their inputs (an index repeated or out of range, a
count that differs): a direct job and a batch collect both leave those rows failed, keep the rows
that did arrive, and store nothing wrong in the cache."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oai_magics.client import Client
from oai_magics.embeddings import EmbeddingJobError, embed_texts
from oai_magics.embeddings.batch_jobs import collect
from oai_magics.jobs.store import Job, JobStore
from oai_magics.embeddings.cache import EmbeddingCache
from tests.helpers.rawserver import RawServer, client_for, serve  # noqa: F401 (serve is a fixture)

MODEL = "m"


def indexes_of(inputs: list[str]) -> list[int]:
    """The indexes the server below gives: right, except that a batch holding "bad" repeats index 0."""
    return [0] * len(inputs) if "bad" in inputs else list(range(len(inputs)))


def embeddings_server(connection: socket.socket, server: RawServer) -> None:
    """Answers each /embeddings request with one float vector per input, numbered by `indexes_of`."""
    server.read_request(connection)
    request = server.requests[-1]  # the whole request (the job sends one at a time: workers=1)
    inputs = json.loads(request.partition(b"\r\n\r\n")[2])["input"]
    data = [{"object": "embedding", "embedding": [float(len(text)), 1.0], "index": index}
            for text, index in zip(inputs, indexes_of(inputs))]
    body = json.dumps({"object": "list", "data": data}).encode()
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                       b"Connection: close\r\n\r\n%s" % (len(body), body))


@pytest.fixture
def cache(tmp_path: Path) -> Any:
    store = EmbeddingCache(tmp_path / "embeddings.sqlite")
    yield store
    store.close()


def test_a_direct_batch_with_repeated_indexes_fails_its_rows_and_keeps_the_others(serve: Any,
                                                                                  cache: EmbeddingCache) -> None:
    server = serve(embeddings_server)
    client = client_for(server)
    texts = ["one", "three", "bad", "seven"]
    with pytest.raises(EmbeddingJobError, match=r"1 of 2 batches failed \(rows 2-3\): POST /embeddings answered "
                                                r"with embedding indexes 0, 0, not 0 to 1 once each; 2 rows succeeded"
                       ) as info:
        embed_texts(client, texts, MODEL, batch_size=2, workers=1, attempts=1, progress=False, cache=cache)
    assert info.value.failed_rows == [2, 3]
    assert info.value.matrix[:2].tolist() == [[3.0, 1.0], [5.0, 1.0]] and np.isnan(info.value.matrix[2:]).all()
    assert cache.missing(client.base_url, MODEL, None, texts) == [2, 3]  # the refused answer was not stored


def test_a_collected_record_that_does_not_fit_its_rows_leaves_them_failed(client: Client, cache: EmbeddingCache,
                                                                         tmp_path: Path) -> None:
    def record(custom_id: str, indexes: list[int]) -> dict:
        data = [{"object": "embedding", "embedding": [float(i), 1.0], "index": i} for i in indexes]
        return {"custom_id": custom_id, "response": {"status_code": 200, "body": {"object": "list", "data": data}}}

    records = [record("rows-0-1", [1, 0]), record("rows-2-3", [0, 0]), record("rows-4-5", [0])]
    output = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    uploaded = client.files.create(("output.jsonl", output), purpose="batch")
    texts = [f"text {i}" for i in range(6)]
    job = Job(id="job-check", server=client.base_url, model=MODEL, dimensions=None, texts=texts,
              batches=[{"id": "batch_check", "status": "completed", "output_file_id": uploaded["id"]}])
    store = JobStore(tmp_path / "jobs.sqlite")
    try:
        matrix, failed = collect(client, store, job, cache=cache)
    finally:
        store.close()
    assert failed == [2, 3, 4, 5]  # repeated indexes; one vector for two rows
    assert matrix[:2].tolist() == [[0.0, 1.0], [1.0, 1.0]] and np.isnan(matrix[2:]).all()
    assert cache.missing(client.base_url, MODEL, None, texts) == [2, 3, 4, 5]
