"""Clusters named in words by a chat model: one request per cluster, built from its most central
texts, sent paced and concurrently by `jobs.rows`, and kept in a small table beside the embedding
cache, so the same texts asked of the same model (and server) are never sent twice.

Clusters given the same name are asked once more, each beside some of the others' texts, and any
still alike are numbered. A naming that fails leaves that cluster's name empty and is told in one
line; the others stand.
Noise (cluster -1) is named "noise" and costs no request.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..client import Client
from ..client.urls import without_userinfo
from ..sqlite_store import connect, transaction
from .maps import central_rows, unit_rows

__all__ = ["INSTRUCTIONS", "CENTRAL", "NameCache", "naming_prompt", "contrast_prompt", "name_clusters"]

CENTRAL = 8  # texts shown to the model per cluster: enough to see the theme, few enough to stay cheap
TEXT_LIMIT = 300  # characters of each text: a long document's opening says what it is about
INSTRUCTIONS = ("You name groups of texts. Answer with a name of two to five words for what the texts you are "
                "given have in common, and nothing else: no quotes, no full stop.")
NOISE = "noise"
MOST_WORDS = 8  # five are asked for; a name a word or three longer is still a name, cut shorter it is not
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cluster_names (
    key BLOB PRIMARY KEY, server TEXT NOT NULL, model TEXT NOT NULL, name TEXT NOT NULL, stored REAL NOT NULL
)
"""


class NameCache:
    """Names by (server, model, prompt), in the embedding cache's SQLite file. Safe between threads."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = connect(path, _SCHEMA)

    @staticmethod
    def key(server: str, model: str, prompt: str) -> bytes:
        parts = [part.encode("utf-8", "surrogatepass") for part in (without_userinfo(server), model, prompt)]
        return hashlib.blake2b(b"".join(len(p).to_bytes(8, "little") + p for p in parts), digest_size=16).digest()

    def get(self, server: str, model: str, prompt: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT name FROM cluster_names WHERE key=?",
                                   (self.key(server, model, prompt),)).fetchone()
        return row[0] if row else None

    def put(self, server: str, model: str, prompt: str, name: str) -> None:
        with self._lock, transaction(self._db) as db:
            db.execute("INSERT OR REPLACE INTO cluster_names VALUES (?, ?, ?, ?, ?)",
                       (self.key(server, model, prompt), without_userinfo(server), model, name, time.time()))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def naming_prompt(texts: Sequence[str]) -> str:
    """The user message for one cluster: its central texts, one per line, each cut short."""
    return "Texts:\n" + _listed(texts)


def contrast_prompt(texts: Sequence[str], name: str, others: Sequence[str]) -> str:
    """The user message asking again for a cluster whose name another cluster was given too: its
    texts, and some of the other's, to name it apart from them."""
    return (f"{naming_prompt(texts)}\n\nAnother group was also named \"{name}\". Name these texts apart from "
            f"that group: what only these have in common.\n{CONTRAST_MARK}\n{_listed(others)}")


CONTRAST_MARK = "The other group's texts:"  # the sandbox's naming reads past it (sandbox.textgen.short_name)
CONTRASTED = 3  # texts of each other cluster shown when asking for a name apart


def _listed(texts: Sequence[str]) -> str:
    return "\n".join(f"- {' '.join(str(text).split())[:TEXT_LIMIT]}" for text in texts)


def name_clusters(client: Client, model: str, vectors: np.ndarray, labels: np.ndarray, texts: Sequence[str], *,
                  cache: NameCache | None = None, workers: int = 4) -> tuple[dict[int, str], list[str]]:
    """({cluster: name}, one line per failed naming). Cached names are not asked again. Clusters
    given the same name are asked once more, each beside the others' texts, and any still alike
    are numbered ("Bread and Baking (2)"): a legend of two identical names tells nothing apart."""
    unit = unit_rows(vectors)
    ids = sorted(int(c) for c in np.unique(labels) if c >= 0)
    central = {c: [texts[i] for i in central_rows(unit, labels, c, CENTRAL)] for c in ids}
    names, failures = _ask(client, model, {c: naming_prompt(central[c]) for c in ids}, cache, workers)
    alike = _alike(names)
    if alike:
        again = {c: contrast_prompt(central[c], names[c], [t for o in group if o != c for t in central[o][:CONTRASTED]])
                 for group in alike for c in group}
        renamed, _ = _ask(client, model, again, cache, workers)  # a failure here keeps the first name
        names.update({c: name for c, name in renamed.items() if name})
    for group in _alike(names):
        for number, c in enumerate(group[1:], 2):
            names[c] = f"{names[c]} ({number})"
    if (labels < 0).any():
        names[-1] = NOISE
    return names, failures


def _ask(client: Client, model: str, prompts: Mapping[int, str], cache: NameCache | None,
         workers: int) -> tuple[dict[int, str], list[str]]:
    """A name for each cluster's prompt (cached, else asked: paced and concurrent); "" where the
    naming failed, with a line for it."""
    from ..jobs.rows import run_rows

    server = client.base_url
    names: dict[int, str] = {}
    asked: dict[int, str] = {}
    for cluster, prompt in prompts.items():
        known = cache.get(server, model, prompt) if cache is not None else None
        if known is None:
            asked[cluster] = prompt
        else:
            names[cluster] = known

    def send(job_client: Client, prompt: str, headers: Mapping[str, str]) -> str:
        answer = job_client.chat.completions.create(
            model=model, messages=[{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": prompt}],
            extra_headers=headers)
        return tidy((answer.get("choices") or [{}])[0].get("message", {}).get("content") or "")

    failures = []
    results = run_rows(client, list(asked.values()), send, workers=workers, progress=len(prompts) > 8) if asked else []
    for (cluster, prompt), result in zip(asked.items(), results):
        if result.error or not result.value:
            names[cluster] = ""
            failures.append(f"cluster {cluster} was not named: {result.error or 'the model gave no name'}")
            continue
        names[cluster] = result.value
        if cache is not None:
            cache.put(server, model, prompt, result.value)
    return dict(sorted(names.items())), failures


def _alike(names: Mapping[int, str]) -> list[list[int]]:
    """The groups of clusters (in order) whose names are the same but for case; unnamed ones apart."""
    groups: dict[str, list[int]] = {}
    for cluster, name in sorted(names.items()):
        if name and cluster >= 0:
            groups.setdefault(name.casefold(), []).append(cluster)
    return [group for group in groups.values() if len(group) > 1]


def tidy(answer: str) -> str:
    """The name a model gave, as one short line: its first line, without the markdown, a "Name:"
    label, quotes, a trailing full stop or words past MOST_WORDS. Models asked for a bare name still
    often answer `**Name:** "Bread and Baking"` and a sentence of why on the next line."""
    lines = [line for line in answer.splitlines() if line.strip(" *_#`")]
    first = re.sub(r"[*_#`]+", "", lines[0] if lines else "").strip()
    first = _LABEL.sub("", first).strip().strip("\"'“”‘’").strip().rstrip(".").strip()
    return " ".join(first.split()[:MOST_WORDS])


_LABEL = re.compile(r"^(cluster |group )?(name|title|label)\s*:\s*", re.IGNORECASE)
