"""What the fault matrix breaks: one user action each, run in a real IPython shell.

A target says which API path its requests take, whether its answer streams, what the user types,
how to tell a complete and correct result, and what must be kept when it fails. The matrix in
`test_fault_matrix.py` runs every fault against every target registered here; other parts of the
extension add their own actions with `register(Target(...))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from .conftest import Server

__all__ = ["Target", "TARGETS", "register"]

CHAT_PROMPT = "Summarise the lighthouse keeper's logbook for the winter storms"
CHAT_MODEL = "gpt-4o-mini"
COMPLETE_PROMPT = "Continue the harbour log for the winter storms"
COMPLETE_MODEL = "gpt-3.5-turbo-instruct"
EMBED_TEXTS = ["alpha harbour", "bravo harbour", "charlie harbour", "delta harbour", "echo harbour", "foxtrot harbour"]
EMBED_MODEL = "text-embedding-3-small"
UPLOAD_TEXT = '{"prompt": "tide", "completion": "high"}\n' * 20


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # where its requests go: faults are armed on this path (and `body`, when set)
    method: str
    streams: bool  # its answer is an event stream
    prepare: Callable[[InteractiveShell, Path], None]  # variables and files the cell needs
    cell: str  # what the user runs; {folder} stands for a fresh folder holding what `prepare` wrote
    check_complete: Callable[[InteractiveShell, Server], None]  # after a recovery: the whole, right result
    check_kept: Callable[[InteractiveShell, Server, str], None]  # after a failure, given its line: what was kept
    body: str = ""  # a text only one of its requests carries: that one is broken, the others go through
    side_effects: bool = True  # sending it twice could do (and bill) the work twice
    # after a broken stream, given (error, output): what must be kept; None: a chat reply's partial text
    check_partial: Callable[[InteractiveShell, Server, Any, str], None] | None = None


TARGETS: dict[str, Target] = {}


def register(target: Target) -> Target:
    TARGETS[target.name] = target
    return target


def full_chat_reply(server: Server) -> str:
    answer = server.api("POST", "/chat/completions", json={"model": CHAT_MODEL, "messages": [{"role": "user", "content": CHAT_PROMPT}]})
    return answer["choices"][0]["message"]["content"]


def chat_complete(ip: InteractiveShell, server: Server) -> None:
    assert ip.user_ns["reply"] == full_chat_reply(server)


def chat_nothing_kept(ip: InteractiveShell, server: Server, line: str) -> None:
    """No text arrived, so there is none to keep: the reply variable is not set to something made up."""
    assert "reply" not in ip.user_ns


def embedded_directly(server: Server, texts: list[str]) -> list[list[float]]:
    answer = server.api("POST", "/embeddings", json={"model": EMBED_MODEL, "input": texts, "encoding_format": "float"})
    return [item["embedding"] for item in sorted(answer["data"], key=lambda item: item["index"])]


def vector_columns(frame: Any) -> Any:
    return frame.drop(columns=["text"])


def embed_complete(ip: InteractiveShell, server: Server) -> None:
    import numpy as np

    frame = ip.user_ns["vectors"]
    assert list(frame["text"]) == EMBED_TEXTS
    assert np.allclose(vector_columns(frame).to_numpy(), np.array(embedded_directly(server, EMBED_TEXTS)), atol=1e-6)


def embed_kept(ip: InteractiveShell, server: Server, line: str) -> None:
    """The batches that succeeded are in `_` and in the -o variable; the failed rows are NaN and named."""
    import numpy as np

    assert "rows 2-3" in line and "4 rows succeeded" in line, line
    frame = ip.user_ns["_"]
    assert ip.user_ns.get("vectors") is frame
    values = vector_columns(frame).to_numpy()
    assert np.isnan(values[2:4]).all()
    kept = [0, 1, 4, 5]
    assert np.allclose(values[kept], np.array(embedded_directly(server, [EMBED_TEXTS[i] for i in kept])), atol=1e-6)


def upload_complete(ip: InteractiveShell, server: Server) -> None:
    frame = ip.user_ns["_"]
    assert list(frame["filename"]) == ["notes.jsonl"] and int(frame["bytes"].iloc[0]) == len(UPLOAD_TEXT.encode())
    stored = [f for f in server.api("GET", "/files")["data"] if f["id"] == frame["id"].iloc[0]]
    assert stored and stored[0]["bytes"] == len(UPLOAD_TEXT.encode())


def nothing_to_keep(ip: InteractiveShell, server: Server, line: str) -> None:
    return None


def full_completion(server: Server) -> str:
    answer = server.api("POST", "/completions", json={"model": COMPLETE_MODEL, "prompt": COMPLETE_PROMPT})
    return answer["choices"][0]["text"]


def complete_complete(ip: InteractiveShell, server: Server) -> None:
    assert ip.user_ns["reply"] == full_completion(server)


def complete_partial(ip: InteractiveShell, server: Server, error: Any, output: str) -> None:
    """A broken completion stream: the text that arrived is kept, and a note says it is partial."""
    assert error is None, output
    full, partial = full_completion(server), ip.user_ns["reply"]
    assert partial and full.startswith(partial) and len(partial) < len(full), (partial, full)
    assert "partial reply kept" in output, output


def write_notes(ip: InteractiveShell, folder: Path) -> None:
    (folder / "notes.jsonl").write_text(UPLOAD_TEXT)


def nothing(ip: InteractiveShell, folder: Path) -> None:
    return None


register(Target("chat --no-stream", "/v1/chat/completions", "POST", False, nothing,
                f"%%chat --no-stream -m {CHAT_MODEL} -o reply\n{CHAT_PROMPT}", chat_complete, chat_nothing_kept))
register(Target("chat streamed", "/v1/chat/completions", "POST", True, nothing,
                f"%%chat -m {CHAT_MODEL} -o reply\n{CHAT_PROMPT}", chat_complete, chat_nothing_kept))
register(Target("oai complete streamed", "/v1/completions", "POST", True, nothing,
                f"%oai complete -m {COMPLETE_MODEL} -o reply {COMPLETE_PROMPT}", complete_complete, chat_nothing_kept,
                check_partial=complete_partial))
register(Target("embed batches", "/v1/embeddings", "POST", False,
                lambda ip, folder: ip.user_ns.__setitem__("texts", list(EMBED_TEXTS)),
                f"%embed -i texts -m {EMBED_MODEL} --batch-size 2 --workers 1 -o vectors", embed_complete, embed_kept,
                body="charlie harbour", side_effects=False))
register(Target("files upload", "/v1/files", "POST", False, write_notes,
                "%oai files upload {folder}/notes.jsonl --purpose fine-tune", upload_complete, nothing_to_keep))


# -- %assistant run, streamed and polled, on both back ends ----------------------------------------
# A run is server-side work: a stream that breaks after the run exists is followed to its end by
# polling, so the whole reply arrives; a failure before it exists leaves nothing to keep.

RUN_REQUESTS = {"assistants": ("/v1/threads/", '"assistant_id"'),  # POST /threads/{id}/runs (only it names the assistant)
                "responses": ("/v1/responses", "")}


def an_assistant(api: str) -> Callable[[InteractiveShell, Path], None]:
    def prepare(ip: InteractiveShell, folder: Path) -> None:
        with capture_output():
            ip.run_line_magic("assistant", f"create steady --model {CHAT_MODEL} --api {api}")

    return prepare


def run_complete(ip: InteractiveShell, server: Server) -> None:
    result = ip.user_ns["result"]
    assert result.status == "completed" and result.text == full_chat_reply(server), result


def run_kept(ip: InteractiveShell, server: Server, line: str) -> None:
    """The thread is named (the message is there, and the run when the server made one); the text
    that arrived is kept, none made up."""
    result = ip.user_ns["result"]
    assert result.thread_id in line and full_chat_reply(server).startswith(result.text), (result, line)
    if result.text:
        assert f"{len(result.text)} characters of the reply kept" in line, line


def run_resumed(ip: InteractiveShell, server: Server, error: Any, output: str) -> None:
    """The run goes on at the server when its stream breaks: it is followed to its end, and a note says so."""
    assert error is None, output
    run_complete(ip, server)
    assert "the stream broke off" in output and "followed to its end" in output, output


for api, (path, body) in RUN_REQUESTS.items():
    for polled in (False, True):
        register(Target(f"assistant run {'polled' if polled else 'streamed'} ({api})", path, "POST", not polled,
                        an_assistant(api),
                        f"%assistant run steady --api {api} {'--no-stream ' if polled else ''}-o result {CHAT_PROMPT}",
                        run_complete, run_kept, body=body, check_partial=run_resumed))
