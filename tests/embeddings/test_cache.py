"""The embedding cache on its own: both ways of finding stored texts give the same rows, a text given
twice is served twice, a lookup reads one consistent snapshot while another kernel rewrites the file,
and two processes storing at once both keep everything they stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oai_magics.embeddings import cache as cache_module
from oai_magics.embeddings.cache import EmbeddingCache
from tests.helpers.together import run_together

SERVER, MODEL = "http://sandbox/v1", "text-embedding-3-small"


def vectors(texts: list[str], width: int = 8, salt: int = 0) -> np.ndarray:
    """A distinct, reproducible row per text."""
    return np.array([[hash((salt, text, i)) % 1000 / 7 for i in range(width)] for text in texts], dtype=np.float32)


def lookup(cache: EmbeddingCache, texts: list[str], width: int = 8) -> tuple[np.ndarray, list[int]]:
    """(the matrix, NaN where nothing was stored; the rows not stored) through `fill`."""
    matrix = np.full((len(texts), width), np.nan, dtype=np.float32)

    def put(rows: np.ndarray, block: np.ndarray) -> None:
        matrix[rows] = block

    missing = cache.fill(SERVER, MODEL, 8, texts, put)
    return matrix, missing


@pytest.fixture
def cache(tmp_path: Path) -> Any:
    store = EmbeddingCache(tmp_path / "embeddings.sqlite")
    yield store
    store.close()


@pytest.mark.parametrize("share", [10**9, 0], ids=["one pass over the keys", "a probe per key"])
def test_both_ways_of_finding_texts_give_every_stored_row_and_only_those(cache: EmbeddingCache, monkeypatch: Any,
                                                                          share: int) -> None:
    monkeypatch.setattr(cache_module, "_SCAN_SHARE", share)
    stored = [f"text {i}" for i in range(5000)]
    # Stored out of order and in pieces, so the vectors are not one run of rowids in the order asked.
    for part in (stored[3000:], stored[:1000], stored[1000:3000:2], stored[1001:3000:2]):
        cache.store(SERVER, MODEL, 8, part, vectors(part))
    asked = ["never stored", *stored[::-1], "text 7", "also new", "text 7"]  # "text 7" three times
    matrix, missing = lookup(cache, asked)
    assert missing == [0, asked.index("also new")]
    expected = vectors(asked)
    assert np.array_equal(matrix[1:-2], expected[1:-2]) and np.array_equal(matrix[-1], expected[-1])
    assert np.isnan(matrix[missing]).all()
    assert cache.missing(SERVER, MODEL, 8, asked) == missing
    assert cache.missing(SERVER, MODEL, 16, asked[:3]) == [0, 1, 2]  # another scope holds nothing


def test_a_vector_of_another_width_is_missing_rather_than_mixed_in(cache: EmbeddingCache) -> None:
    cache.store(SERVER, MODEL, 8, ["a", "b"], vectors(["a", "b"]))
    cache.store(SERVER, MODEL, 8, ["c"], vectors(["c"], width=4))
    matrix, missing = lookup(cache, ["a", "b", "c"])
    assert missing == [2] and np.array_equal(matrix[:2], vectors(["a", "b"]))


def test_a_lookup_reads_one_snapshot_while_another_kernel_clears_and_refills(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    texts = [f"old {i}" for i in range(5000)]  # more than one block, so the lookup reads in several steps
    reader, other = EmbeddingCache(path), EmbeddingCache(path)
    reader.store(SERVER, MODEL, 8, texts, vectors(texts))
    matrix = np.full((len(texts), 8), np.nan, dtype=np.float32)
    rewritten = []

    def put(rows: np.ndarray, block: np.ndarray) -> None:
        matrix[rows] = block
        if not rewritten:  # between two blocks: the other kernel empties the file and stores new texts,
            other.clear()  # whose rows take the rowids the lookup has yet to read
            other.store(SERVER, MODEL, 8, [f"new {i}" for i in range(5000)], vectors(texts, salt=1))
            rewritten.append(True)

    assert reader.fill(SERVER, MODEL, 8, texts, put) == [] and rewritten
    assert np.array_equal(matrix, vectors(texts))  # every row is the vector stored for its text
    assert reader.missing(SERVER, MODEL, 8, texts) == list(range(5000))  # the next lookup sees the new file
    reader.close()
    other.close()


WRITER = """
import sys
import numpy as np
from oai_magics.embeddings.cache import EmbeddingCache
cache = EmbeddingCache(sys.argv[1])
tag = sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()  # both writers start together
for part in range(20):
    texts = [f"{tag} {part} {i}" for i in range(200)]
    cache.store("http://sandbox/v1", "text-embedding-3-small", 8, texts, np.full((200, 8), part, dtype=np.float32))
cache.close()
print("done", flush=True)
"""


def test_two_processes_storing_at_once_both_keep_all_they_stored(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    EmbeddingCache(path).close()  # the file and its WAL mode exist before the writers race
    run_together(WRITER, [[str(path), tag] for tag in ("one", "two")])
    cache = EmbeddingCache(path)
    texts = [f"{tag} {part} {i}" for tag in ("one", "two") for part in range(20) for i in range(200)]
    matrix, missing = lookup(cache, texts)
    assert missing == [] and np.array_equal(matrix[:, 0], [part for _ in range(2) for part in range(20) for _ in range(200)])
    assert [row["entries"] for row in cache.summary()] == [8000]
    assert cache.clear() == 8000 and cache.summary() == []
    cache.close()


def test_a_text_with_a_lone_surrogate_is_stored_and_found(cache: EmbeddingCache) -> None:
    texts = ["name read with surrogateescape \udcff", "plain"]
    cache.store(SERVER, MODEL, 8, texts[:1], vectors(texts[:1]))
    matrix, missing = lookup(cache, texts)
    assert missing == [1] and matrix[0].tolist() == vectors(texts[:1])[0].tolist()


def test_the_keys_of_scopes_without_line_breaks_are_the_ones_stored_so_far(cache: EmbeddingCache) -> None:
    """Entries written before scopes with line breaks were keyed apart are still found."""
    import hashlib
    import sqlite3
    cache.store(SERVER, MODEL, 8, ["text"], vectors(["text"]))
    earlier = hashlib.blake2b(f"{SERVER}\n{MODEL}\n8\ntext".encode(), digest_size=16).digest()
    with sqlite3.connect(cache.path) as db:
        assert db.execute("SELECT key FROM vectors").fetchall() == [(earlier,)]


@pytest.mark.parametrize("server, model", [(SERVER, "m\n8\nx"), (SERVER + "\nm", "8"), (SERVER, "m\n8")])
def test_a_scope_with_a_line_break_is_kept_apart_from_every_other(cache: EmbeddingCache, server: str,
                                                                  model: str) -> None:
    """Joined by line breaks, its parts and the text "t" would read as model "m" and a text holding
    "t" after a line break; its own entries are found as any other."""
    stored = ["x\n8\nt", "8\nt"]
    cache.store(SERVER, "m", 8, stored, vectors(stored))
    assert cache.missing(server, model, 8, ["t"]) == [0]
    cache.store(server, model, 8, ["t"], vectors(["t"]))
    assert cache.missing(server, model, 8, ["t"]) == [] and cache.missing(SERVER, "m", 8, stored + ["t"]) == [2]


def test_a_token_in_the_server_url_is_neither_stored_nor_hashed_into_a_key(tmp_path: Path) -> None:
    path, token = tmp_path / "embeddings.sqlite", "gw-token-5e0"
    texts = ["one", "two"]
    cache = EmbeddingCache(path)
    cache.store(f"https://{token}@gateway.example/v1", MODEL, 8, texts, vectors(texts))
    assert [row["server"] for row in cache.summary()] == ["https://***@gateway.example/v1"]
    # The same server reached with the token changed (or asked without it, masked) finds them.
    assert cache.missing("https://new-token@gateway.example/v1", MODEL, 8, texts) == []
    cache.close()
    assert [p.name for p in tmp_path.iterdir() if token.encode() in p.read_bytes()] == []


def test_vectors_an_earlier_version_stored_under_a_token_are_deleted_from_the_disk(tmp_path: Path) -> None:
    path, token = tmp_path / "embeddings.sqlite", "gw-token-9a4"
    cache = EmbeddingCache(path)
    cache.store(SERVER, MODEL, 8, ["kept"], vectors(["kept"]))
    cache.close()
    old = sqlite3.connect(path)  # as an earlier version wrote it: the URL as typed, in the row and the key
    old.execute("DELETE FROM migrations")
    old.execute("INSERT INTO vectors VALUES (?, ?, ?, ?, ?, ?)",
                (b"k" * 16, f"https://{token}@gateway.example/v1", MODEL, 8, b"\0" * 32, 1.0))
    old.commit()
    old.close()
    cache = EmbeddingCache(path)
    assert [(row["server"], row["entries"]) for row in cache.summary()] == [(SERVER, 1)]
    cache.close()
    assert [p.name for p in tmp_path.iterdir() if token.encode() in p.read_bytes()] == []
