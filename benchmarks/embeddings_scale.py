"""Embeddings at scale, measured (not asserted): peak memory of 100,000 x 1,536 into a DataFrame,
100,000 texts from the cache vs from the server, the cache lookup alone, and a direct job vs a Batch
API job.

    python benchmarks/embeddings_scale.py [memory] [cache] [lookup] [paths]

The sandbox runs in its own process so only the client's work and memory are measured.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Iterator

import numpy as np

MODEL = "text-embedding-3-small"


def corpus(count: int) -> list[str]:
    return [f"document {i}: notes about topic {i % 37} and item {i * 7 % 101}" for i in range(count)]


class Server:
    """`python -m oai_magics.sandbox` in a child process."""

    def __enter__(self) -> "Server":
        self.folder = tempfile.TemporaryDirectory()
        self.process = subprocess.Popen([sys.executable, "-m", "oai_magics.sandbox", "--port", "0", "--job-delay", "0.2",
                                         "--data-dir", self.folder.name], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.folder.cleanup()

    def client(self):  # type: ignore[no-untyped-def]
        from oai_magics.client import Client

        return Client(api_key="sk-bench", base_url=self.base_url, timeout=600)


def memory() -> None:
    from oai_magics.embeddings import embed_texts
    from oai_magics.frames import embedding_frame

    texts = corpus(100_000)
    with Server() as server:
        client = server.client()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        matrix = embed_texts(client, texts, MODEL, batch_size=2048, workers=4, progress=False)
        frame = embedding_frame(texts, matrix)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    floor = 100_000 * 1536 * 4
    print(f"memory: 100,000 x 1,536 into a DataFrame in {seconds:.1f} s; peak growth {peak / 1e6:.0f} MB = "
          f"{peak / floor:.2f}x the float32 matrix ({floor / 1e6:.0f} MB; goal <= 1.5x); frame {frame.shape}")


def cache() -> None:
    from oai_magics.embeddings import embed_texts
    from oai_magics.embeddings.cache import EmbeddingCache

    texts = corpus(100_000)
    with Server() as server, tempfile.TemporaryDirectory() as folder:
        client = server.client()
        path = Path(folder) / "embeddings.sqlite"
        store = EmbeddingCache(path)
        started = time.perf_counter()
        first = embed_texts(client, texts, MODEL, batch_size=2048, progress=False, cache=store)
        from_server = time.perf_counter() - started
        store.close()
        store = EmbeddingCache(path)  # opened afresh, as each %embed does
        started, cpu = time.perf_counter(), time.process_time()
        again = embed_texts(client, texts, MODEL, batch_size=2048, progress=False, cache=store)
        from_cache, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert np.array_equal(first, again)
        store.close()
    print(f"cache: 100,000 x 1,536 from the server {from_server:.2f} s, from the cache {from_cache:.2f} s "
          f"({cpu:.2f} s CPU; goal <= 1 s)")


def lookup() -> None:
    """The cache alone: 100,000 stored vectors of 1,536 dimensions looked up into the result matrix,
    each time through a newly opened cache (as each %embed opens it); CPU time, median of 5."""
    import statistics

    from oai_magics.embeddings.cache import EmbeddingCache
    from oai_magics.embeddings.direct import RowMatrix

    texts = corpus(100_000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "embeddings.sqlite"
        store = EmbeddingCache(path)
        rng = np.random.default_rng(0)
        for begin in range(0, len(texts), 10_000):
            store.store("http://bench/v1", MODEL, None, texts[begin:begin + 10_000],
                        rng.standard_normal((10_000, 1536), dtype=np.float32))
        store.close()
        seconds = []
        for _ in range(5):
            store, out = EmbeddingCache(path), RowMatrix(len(texts))
            cpu = time.process_time()
            missing = store.fill("http://bench/v1", MODEL, None, texts, out.put)
            seconds.append(time.process_time() - cpu)
            store.close()
            assert not missing and out.filled.all()
    print(f"lookup: 100,000 x 1,536 from the cache into the matrix, {statistics.median(seconds):.2f} s CPU "
          f"(median of 5: {', '.join(f'{s:.2f}' for s in seconds)}; goal <= 1 s)")


def paths() -> None:
    from oai_magics.embeddings import embed_texts
    from oai_magics.embeddings.batch_jobs import collect, submit
    from oai_magics.jobs.store import JobStore

    texts = corpus(20_000)
    with Server() as server, tempfile.TemporaryDirectory() as folder:
        client = server.client()
        started = time.perf_counter()
        direct = embed_texts(client, texts, MODEL, batch_size=2048, progress=False)
        direct_seconds = time.perf_counter() - started
        store = JobStore(Path(folder) / "jobs.sqlite")
        started = time.perf_counter()
        job = submit(client, store, texts, MODEL, batch_size=2048)
        batched, failed = collect(client, store, job, wait=True, poll=0.1)
        batch_seconds = time.perf_counter() - started
    assert not failed and np.array_equal(direct, batched)
    print(f"paths: 20,000 x 1,536 direct {direct_seconds:.1f} s, through the Batch API {batch_seconds:.1f} s "
          f"(3 stages of 0.2 s in the sandbox); identical matrices")


if __name__ == "__main__":
    for name in sys.argv[1:] or ["memory", "cache", "lookup", "paths"]:
        globals()[name]()
