"""Direct embedding jobs against a live sandbox: retries, pacing, the connection pool, row order."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from oai_magics.client import Client, RetryPolicy
from oai_magics.embeddings import EmbeddingJobError, embed_texts
from oai_magics.jobs.pacing import Pacer
from oai_magics.sandbox.embeddings import embed as sandbox_vector

MODEL = "text-embedding-3-small"
FULL = 1536  # the model's own width; shorter vectors are its first values, renormalised


def texts(count: int, tag: str = "") -> list[str]:
    return [f"sentence {i} {tag} about topic {i % 7} and item {i * 13 % 31}" for i in range(count)]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_an_error_a_retry_cannot_mend_is_not_retried(client: Client, faults: Any, status: int) -> None:
    items = texts(40, "perm")
    faults(path="/v1/embeddings", status=status, count=1)  # the first request only
    answers: list[int] = []
    client.response_observers.append(lambda status, headers: answers.append(status))
    with pytest.raises(EmbeddingJobError, match=rf"1 of 4 batches failed \(rows 0-9\): {status}.*30 rows succeeded") as info:
        embed_texts(client, items, MODEL, dimensions=4, batch_size=10, workers=1, progress=False)
    assert answers == [status, 200, 200, 200]  # four batches, one request each: the failed one was not sent again
    assert np.isnan(info.value.matrix[:10]).all() and not np.isnan(info.value.matrix[10:]).any()
    assert info.value.failed_rows == list(range(10))


def test_a_rate_limited_job_keeps_within_the_limits_without_a_storm_of_429s(client: Client, traffic: Any) -> None:
    traffic.limit(requests=6, tokens=4000, window=0.5)
    pacer = Pacer()
    matrix = embed_texts(client, texts(600, "paced"), MODEL, dimensions=4, batch_size=20, workers=8, progress=False,
                         pacer=pacer)
    assert matrix.shape == (600, 4) and not np.isnan(matrix).any()
    # The first request goes alone; its answer's headers then keep every request within the limits.
    assert traffic.refused() == 0 and traffic.seen() == 30


def test_429s_from_the_server_slow_the_job_and_it_still_completes(client: Client, faults: Any, traffic: Any) -> None:
    faults(path="/v1/embeddings", status=429, retry_after=0.2, count=2)
    pacer = Pacer()
    matrix = embed_texts(client, texts(80, "busy"), MODEL, dimensions=4, batch_size=10, workers=4, progress=False,
                         pacer=pacer)
    assert not np.isnan(matrix).any() and pacer.rate_limited == 2
    assert pacer.waited > 0  # other batches were held back by the pause, not only the one that got the 429


def test_48_workers_never_overflow_the_connection_pool(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="urllib3")
    matrix = embed_texts(client, texts(960, "pool"), MODEL, dimensions=4, batch_size=10, workers=48, progress=False)
    assert matrix.shape == (960, 4) and not np.isnan(matrix).any()
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


def test_more_workers_than_pooled_connections_are_clamped_to_the_pool(sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="urllib3")
    with Client(api_key=sandbox.api_key, base_url=sandbox.base_url, max_connections=4) as small:
        matrix = embed_texts(small, texts(400, "clamp"), MODEL, dimensions=4, batch_size=10, workers=32, progress=False)
    assert not np.isnan(matrix).any()
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


def test_concurrent_batches_put_every_vector_on_its_own_row(client: Client) -> None:
    items = texts(300, "order")
    matrix = embed_texts(client, items, MODEL, dimensions=8, batch_size=7, workers=8, progress=False)
    expected = np.stack([sandbox_vector(t, FULL, 8) for t in items])
    for row, (got, want) in enumerate(zip(matrix, expected)):
        assert np.allclose(got, want, atol=1e-6), f"row {row} holds another text's vector"


@pytest.mark.parametrize("option", [{"workers": 0}, {"workers": -1}, {"batch_size": 0}, {"dimensions": 0},
                                    {"dimensions": -8}, {"attempts": 0}])
def test_a_count_below_one_is_refused_before_anything_is_sent(client: Client, traffic: Any, option: dict) -> None:
    name = next(iter(option))
    with pytest.raises(ValueError, match=f"{name} must be at least 1"):
        embed_texts(client, texts(5, "none"), MODEL, progress=False, **option)
    assert traffic.seen() == 0


@pytest.mark.timeout(120)  # the guard against the hang this test is about, not a measure of speed
def test_texts_longer_than_the_servers_whole_token_window_fail_at_once_and_the_rest_is_kept(client: Client,
                                                                                             traffic: Any) -> None:
    # Each long text is estimated at more tokens than the server allows in a whole window: it goes
    # alone instead of waiting forever for room that never comes, and the server decides. The API
    # refuses such a request with a 429 ("Request too large ... Limit 40, Requested 87"), which no
    # wait mends; the sandbox used to admit it whenever its window was empty, so this path was only
    # ever tried against a server kinder than the API, and the job sent each refused request again
    # after the client's own retries, twice as many requests for an answer that could not change.
    traffic.limit(tokens=40, window=0.3)
    long = [f"text {i}: " + "many words in this rather long text " * 12 for i in range(4)]
    with pytest.raises(EmbeddingJobError, match=r"4 of 5 batches failed \(rows 0-3\): 429.*Request too large") as info:
        embed_texts(client, [*long, "a short one"], MODEL, dimensions=8, batch_size=1, workers=2, progress=False)
    assert np.isnan(info.value.matrix[:4]).all() and not np.isnan(info.value.matrix[4]).any()
    assert traffic.seen() == 4 * (1 + RetryPolicy().max_retries) + 1  # the client's own tries; not one more
