"""The local store of the responses and chat back ends: assistant records, the thread index, the
run index, and (for the chat back end, whose server keeps nothing) each thread's messages and runs.

The Responses API keeps no assistants and cannot list conversations, so these live in a small
SQLite file in the user's config folder (`$OAI_MAGICS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/oai_magics`,
else `~/.config/oai_magics`). Every row belongs to one server (its base URL, without user info:
a gateway's token written into the URL is never stored, and rows an earlier version stored with
it are rewritten when the file is first opened), so records made against the sandbox never show
up for api.openai.com. Two kernels may share the file: it is opened
as every shared store is (`sqlite_store`: WAL, a busy timeout) and each change is one transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from ..sqlite_store import connect, forget_userinfo, migrate, transaction

__all__ = ["AssistantStore", "config_dir"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS assistants (server TEXT, id TEXT, name TEXT, body TEXT, created_at INTEGER,
                                       PRIMARY KEY (server, id));
CREATE TABLE IF NOT EXISTS threads (server TEXT, id TEXT, title TEXT, metadata TEXT, created_at INTEGER,
                                    PRIMARY KEY (server, id));
CREATE TABLE IF NOT EXISTS runs (server TEXT, id TEXT, thread_id TEXT, assistant_id TEXT, responses TEXT,
                                 outputs TEXT, created_at INTEGER, cancelled INTEGER DEFAULT 0,
                                 PRIMARY KEY (server, id));
CREATE TABLE IF NOT EXISTS messages (server TEXT, id TEXT, thread_id TEXT, body TEXT, created_at INTEGER,
                                     PRIMARY KEY (server, id));
CREATE TABLE IF NOT EXISTS local_runs (server TEXT, id TEXT, thread_id TEXT, body TEXT, created_at INTEGER,
                                       PRIMARY KEY (server, id));
CREATE TABLE IF NOT EXISTS kept_responses (server TEXT, id TEXT, body TEXT, PRIMARY KEY (server, id));
"""


def config_dir() -> Path:
    chosen = os.environ.get("OAI_MAGICS_CONFIG_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA") or Path.home() / ".config"
    return Path(base) / "oai_magics"


class AssistantStore:
    """One SQLite file; safe to share between kernels, and between a kernel and a form's worker thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect(self.path, SCHEMA)
        migrate(self._db, {f"{table}: no user info in server URLs": forget_userinfo(table)
                           for table in ("assistants", "threads", "runs")})

    @staticmethod
    def default_path() -> Path:
        """The file the responses and chat back ends keep their records in, in the config folder."""
        return config_dir() / "assistants.sqlite3"

    @classmethod
    def default(cls) -> "AssistantStore":
        return cls(cls.default_path())

    def _run(self, sql: str, *params: Any) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def _change(self) -> Iterator[sqlite3.Connection]:
        """One transaction for a change of several statements, or one that reads what it rewrites."""
        with self._lock, transaction(self._db) as db:
            yield db

    # -- assistants --------------------------------------------------------------------------------
    def add_assistant(self, server: str, body: dict) -> dict:
        record = {"id": f"asst_{uuid.uuid4().hex[:24]}", "object": "assistant", "created_at": int(time.time()), **body}
        self._run("INSERT INTO assistants VALUES (?, ?, ?, ?, ?)", server, record["id"], record.get("name"),
                  json.dumps(record), record["created_at"])
        return record

    def assistants(self, server: str) -> list[dict]:
        rows = self._run("SELECT body FROM assistants WHERE server = ? ORDER BY created_at, rowid", server)
        return [json.loads(body) for (body,) in rows]

    def change_assistant(self, server: str, assistant_id: str, change: Callable[[dict], dict]) -> dict | None:
        """Store `change(record)` in place of the record; None if there is no such assistant.

        The record is read and rewritten in one transaction, so a change another kernel makes
        meanwhile (another field, another attached file) is kept, not overwritten by a stale copy.
        """
        with self._change() as db:
            row = db.execute("SELECT body FROM assistants WHERE server = ? AND id = ?", (server, assistant_id)).fetchone()
            if row is None:
                return None
            record = change(json.loads(row[0]))
            db.execute("UPDATE assistants SET name = ?, body = ? WHERE server = ? AND id = ?",
                       (record.get("name"), json.dumps(record), server, assistant_id))
        return record

    def delete_assistant(self, server: str, assistant_id: str) -> None:
        self._run("DELETE FROM assistants WHERE server = ? AND id = ?", server, assistant_id)

    # -- threads -----------------------------------------------------------------------------------
    def add_thread(self, server: str, thread_id: str, title: str | None, metadata: dict, created_at: int) -> None:
        self._run("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?, ?)", server, thread_id, title,
                  json.dumps(metadata), created_at)

    def threads(self, server: str) -> list[dict]:
        rows = self._run("SELECT id, title, metadata, created_at FROM threads WHERE server = ? ORDER BY created_at, rowid",
                         server)
        return [{"id": i, "title": t, "metadata": json.loads(m), "created_at": c} for i, t, m, c in rows]

    def delete_thread(self, server: str, thread_id: str) -> None:
        with self._change() as db:
            db.execute("DELETE FROM threads WHERE server = ? AND id = ?", (server, thread_id))
            chains = db.execute("SELECT responses FROM runs WHERE server = ? AND thread_id = ?", (server, thread_id))
            kept = [(server, response_id) for (chain,) in chains.fetchall() for response_id in json.loads(chain)]
            db.executemany("DELETE FROM kept_responses WHERE server = ? AND id = ?", kept)
            db.execute("DELETE FROM runs WHERE server = ? AND thread_id = ?", (server, thread_id))
            db.execute("DELETE FROM messages WHERE server = ? AND thread_id = ?", (server, thread_id))
            db.execute("DELETE FROM local_runs WHERE server = ? AND thread_id = ?", (server, thread_id))

    # -- messages kept here (chat back end): in the order they were added ------------------------
    def add_messages(self, server: str, thread_id: str, bodies: list[dict]) -> list[dict]:
        """Append messages to a thread in one transaction; each gets an id and a creation time."""
        with self._change() as db:
            return _append(db, server, thread_id, bodies)

    def answer_messages(self, server: str, thread_id: str, response_id: str, outputs: list[dict]) -> None:
        """The thread's messages not yet answered were taken by response `response_id`, which
        answered with `outputs`: both noted in one transaction (a chain's head is the last answer)."""
        with self._change() as db:
            rows = db.execute("SELECT id, body FROM messages WHERE server = ? AND thread_id = ?", (server, thread_id))
            for message_id, body in rows.fetchall():
                message = json.loads(body)
                if not message.get("response_id"):
                    db.execute("UPDATE messages SET body = ? WHERE server = ? AND id = ?",
                               (json.dumps({**message, "response_id": response_id}), server, message_id))
            _append(db, server, thread_id, [{**output, "response_id": response_id} for output in outputs])

    def remove_messages(self, server: str, message_ids: list[str]) -> None:
        with self._change() as db:
            db.executemany("DELETE FROM messages WHERE server = ? AND id = ?", [(server, i) for i in message_ids])

    def messages(self, server: str, thread_id: str) -> list[dict]:
        rows = self._run("SELECT body FROM messages WHERE server = ? AND thread_id = ? ORDER BY rowid", server, thread_id)
        return [json.loads(body) for (body,) in rows]

    # -- runs kept here whole (chat back end) ----------------------------------------------------
    def save_run(self, server: str, run: dict) -> None:
        """Store a run as it is now (`id`, `thread_id`, `created_at` and whatever else it holds)."""
        # An upsert, not a replace: the row keeps its place among runs started in the same second.
        self._run("INSERT INTO local_runs VALUES (?, ?, ?, ?, ?) ON CONFLICT (server, id) DO UPDATE SET body = excluded.body",
                  server, run["id"], run["thread_id"], json.dumps(run), run["created_at"])

    def local_run(self, server: str, run_id: str) -> dict | None:
        rows = self._run("SELECT body FROM local_runs WHERE server = ? AND id = ?", server, run_id)
        return json.loads(rows[0][0]) if rows else None

    def local_runs(self, server: str, thread_id: str) -> list[dict]:
        rows = self._run("SELECT body FROM local_runs WHERE server = ? AND thread_id = ? ORDER BY created_at, rowid",
                         server, thread_id)
        return [json.loads(body) for (body,) in rows]

    # -- responses kept here as they came (chained responses: the server may keep none) -----------
    def keep_response(self, server: str, response: dict) -> None:
        self._run("INSERT OR REPLACE INTO kept_responses VALUES (?, ?, ?)", server, response["id"], json.dumps(response))

    def kept_response(self, server: str, response_id: str) -> dict | None:
        rows = self._run("SELECT body FROM kept_responses WHERE server = ? AND id = ?", server, response_id)
        return json.loads(rows[0][0]) if rows else None

    # -- runs: a run is a chain of responses (one more per round of tool outputs) ------------------
    def add_run(self, server: str, run_id: str, thread_id: str, assistant_id: str, created_at: int) -> None:
        self._run("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, 0)", server, run_id, thread_id, assistant_id,
                  json.dumps([run_id]), "{}", created_at)

    def cancel_run(self, server: str, run_id: str) -> None:
        """A run that waits for tool outputs has nothing running on the server: it ends here."""
        self._run("UPDATE runs SET cancelled = 1 WHERE server = ? AND id = ?", server, run_id)

    def extend_run(self, server: str, run_id: str, response_id: str, outputs: dict[str, str]) -> None:
        """Add one response (and the tool outputs it answered) to the run's chain. Read and written in
        one transaction: another kernel extending the same run meanwhile waits, and neither is lost."""
        with self._change() as db:
            row = db.execute("SELECT responses, outputs FROM runs WHERE server = ? AND id = ?", (server, run_id)).fetchone()
            if row is None:
                return
            responses, known = json.loads(row[0]), json.loads(row[1])
            db.execute("UPDATE runs SET responses = ?, outputs = ? WHERE server = ? AND id = ?",
                       (json.dumps([*responses, response_id]), json.dumps({**known, **outputs}), server, run_id))

    def run(self, server: str, run_id: str) -> dict | None:
        rows = self._run("SELECT id, thread_id, assistant_id, responses, outputs, created_at, cancelled FROM runs "
                         "WHERE server = ? AND id = ?", server, run_id)
        return _run_row(rows[0]) if rows else None

    def runs(self, server: str, thread_id: str) -> list[dict]:
        rows = self._run("SELECT id, thread_id, assistant_id, responses, outputs, created_at, cancelled FROM runs "
                         "WHERE server = ? AND thread_id = ? ORDER BY created_at, rowid", server, thread_id)
        return [_run_row(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _append(db: sqlite3.Connection, server: str, thread_id: str, bodies: list[dict]) -> list[dict]:
    made = [{"id": f"msg_{uuid.uuid4().hex[:24]}", "created_at": int(time.time()), **body} for body in bodies]
    db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?)",
                   [(server, m["id"], thread_id, json.dumps(m), m["created_at"]) for m in made])
    return made


def _run_row(row: tuple) -> dict:
    run_id, thread_id, assistant_id, responses, outputs, created_at, cancelled = row
    return {"id": run_id, "thread_id": thread_id, "assistant_id": assistant_id, "responses": json.loads(responses),
            "outputs": json.loads(outputs), "created_at": created_at, "cancelled": bool(cancelled)}
