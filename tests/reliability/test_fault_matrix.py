"""The fault matrix: every fault the sandbox can inject, against every user action in `targets`.

Each case ends in one of the ways the table names: recovered (the result is complete and correct,
and the server saw exactly one retry), failed (one line saying what failed, no traceback, and what
could be kept is kept), partial (a stream broke: its text so far is kept and a note says so), or,
for a request that went out and got no answer, either re-sent under its idempotency key and
recovered, or failed with a line saying it was not re-sent. Nothing may hang: pytest-timeout bounds
each case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.sandbox import start
from oai_magics.sandbox.batch_limits import BatchLimits
from oai_magics.sandbox.embeddings import embed as sandbox_vector

from .conftest import Server
from .targets import TARGETS, Target, full_chat_reply

pytestmark = pytest.mark.timeout(60)

RECOVERED, FAILED, PARTIAL = "recovered", "failed", "partial"
# A request that went out and got no answer may have been done: re-sent only under the same idempotency
# key, or else reported as not re-sent.
UNANSWERED = "unanswered"
# What a user must never see: the insides of urllib3 or of Python.
INTERNALS = re.compile(r"Traceback|invalid literal|InvalidChunkLength|ProtocolError|IncompleteRead|urllib3|Connection broken")
MANY = 50  # a fault armed this many times outlasts every retry


@dataclass(frozen=True)
class Fault:
    """One way the network or the server lets a call down, and how each target must come out of it."""

    name: str
    arm: dict  # /sandbox/faults fields besides path, method and body
    outcome: str
    streamed_arm: dict | None = None  # for a streaming target, when it differs
    streamed_outcome: str | None = None
    words: tuple[str, ...] = ()  # a failure's line says at least these
    for_streams_only: bool = False

    def fields(self, target: Target) -> dict:
        return dict(self.streamed_arm if target.streams and self.streamed_arm is not None else self.arm)

    def expected(self, target: Target) -> str:
        outcome = self.streamed_outcome if target.streams and self.streamed_outcome else self.outcome
        return RECOVERED if outcome == UNANSWERED and not target.side_effects else outcome


FAULTS = [
    Fault("429 with Retry-After", {"status": 429, "retry_after": 0.05}, RECOVERED),
    Fault("5xx burst beyond the retries", {"status": 503, "retry_after": 0.05, "count": MANY}, FAILED, words=("503",)),
    Fault("dropped before the response", {"lose_response": True}, UNANSWERED),
    Fault("dropped mid-answer", {"drop": True}, UNANSWERED, streamed_arm={"drop_after": 4}, streamed_outcome=PARTIAL),
    Fault("stream cut without its end", {"truncate_after": 4}, PARTIAL, for_streams_only=True),
    Fault("slower than the timeout", {"delay": 6}, UNANSWERED, words=("2 s",)),  # the shell's timeout is 2 s
    Fault("malformed JSON with 200", {"malformed": True, "count": MANY}, FAILED, words=("JSON",)),
    Fault("HTML 502 page from a proxy", {"status": 502, "html": True, "count": MANY}, FAILED, words=("502", "Bad Gateway")),
]

# Rows that fail today because of a defect elsewhere, named precisely; strict, so a fix is noticed.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def case(fault: Fault, target: Target) -> Any:
    reason = KNOWN_DEFECTS.get((fault.name, target.name))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(fault, target, id=f"{fault.name} x {target.name}", marks=marks)


CASES = [case(fault, target) for fault in FAULTS for target in TARGETS.values() if target.streams or not fault.for_streams_only]


def run_cell(ip: InteractiveShell, cell: str) -> tuple[Any, str]:
    """Run a cell as a user would; (the error it ended with, or None; everything it printed)."""
    with capture_output() as captured:
        result = ip.run_cell(cell)
    return result.error_in_exec, captured.stdout + captured.stderr


def attempts(server: Server, target: Target) -> list[dict]:
    """The requests the server received for the one call the fault was aimed at."""
    return [r for r in server.seen(target.path, target.method) if target.body in r["body"]]


@pytest.mark.parametrize("fault, target", CASES)
def test_fault(fault: Fault, target: Target, shell: InteractiveShell, server: Server, tmp_path: Path) -> None:
    target.prepare(shell, tmp_path)
    server.arm(path=target.path, method=target.method, body=target.body, **fault.fields(target))
    error, output = run_cell(shell, target.cell.replace("{folder}", str(tmp_path)))
    server.disarm()
    assert not INTERNALS.search(output), output
    outcome = fault.expected(target)
    if outcome == UNANSWERED:
        check_unanswered(fault, target, shell, server, error, output)
    elif outcome == RECOVERED:
        assert error is None, output
        assert len(attempts(server, target)) == 2  # the broken attempt and one retry, no more
        target.check_complete(shell, server)
    elif outcome == FAILED:
        check_failed(fault, target, shell, server, error, output)
    else:
        (target.check_partial or check_partial)(shell, server, error, output)


def check_unanswered(fault: Fault, target: Target, ip: InteractiveShell, server: Server, error: Any, output: str) -> None:
    """Either re-sent under one idempotency key and complete, or not re-sent and reported so."""
    sent = attempts(server, target)
    if error is None:
        keys = {r["idempotency_key"] for r in sent}
        assert len(sent) == 2 and len(keys) == 1 and None not in keys, sent
        target.check_complete(ip, server)
    else:
        assert len(sent) == 1, sent
        check_failed(fault, target, ip, server, error, output)
        assert re.search(r"not (re-?sent|sent again)", str(error)), error


def check_failed(fault: Fault, target: Target, ip: InteractiveShell, server: Server, error: Any, output: str) -> None:
    """One line that says what failed (no traceback, no markup), and what could be kept is kept."""
    assert isinstance(error, UsageError), output
    line = str(error)
    assert "\n" not in line and len(line) < 400, line
    assert all(word in line for word in fault.words), line
    assert "<" not in line, line
    target.check_kept(ip, server, line)


def check_partial(ip: InteractiveShell, server: Server, error: Any, output: str) -> None:
    """A broken stream: the text that arrived is the reply, and a note says it is partial."""
    assert error is None, output
    full = full_chat_reply(server)
    partial = ip.user_ns["reply"]
    assert partial and full.startswith(partial) and len(partial) < len(full), (partial, full)
    assert "partial reply kept" in output, output


# What a server can hold against a thread of the responses back end: a thread it no longer has
# (deleted elsewhere, expired) and a function call nobody answered. `harm` does it to a fresh thread
# of the shell's (from outside, or through the shell); then the user's cell either goes on
# (recovered) or fails in one line with the server's words.
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "description": "The time in a city.",
                                              "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                             "required": ["city"]}}}
RUN_ON = "%assistant run --api responses helper --thread {thread} Tell me about the tides"


def forget_thread(ip: InteractiveShell, server: Server, thread: str) -> None:
    server.api("DELETE", f"/conversations/{thread}")


def leave_a_call(ip: InteractiveShell, server: Server, thread: str) -> None:
    """Another client's turn that asked for a tool and was never answered."""
    call = {"type": "function_call", "call_id": "call_left", "name": "get_time", "arguments": "{}"}
    server.api("POST", f"/conversations/{thread}/items", json={"items": [call]})


def cancel_a_waiting_run(ip: InteractiveShell, server: Server, thread: str) -> None:
    """A run of ours that asked for a tool, cancelled while it waited for the output."""
    ip.user_ns["time_tool"] = TIME_TOOL
    for cell in ("%assistant create --api responses clock --model gpt-4o-mini --tools time_tool",
                 f"%assistant run --api responses clock --thread {thread} What time is it in Oslo?",
                 "%assistant cancel --api responses"):
        error, output = run_cell(ip, cell)
        assert error is None, output
    assert "cancelled" in output, output


@dataclass(frozen=True)
class ThreadFault:
    name: str
    harm: Any  # (shell, server, thread id) -> None: what the server (or the user) did to the thread
    cell: str  # {thread} stands for the thread's id
    outcome: str
    words: tuple[str, ...] = ()  # the outcome's line (a failure's, or what a recovery prints) says these


THREAD_FAULTS = [
    ThreadFault("a 404 thread deleted", forget_thread, "%assistant threads --api responses delete {thread}", RECOVERED,
                ("already gone from the server", "removed it from the local list")),
    ThreadFault("a 404 thread run on", forget_thread, RUN_ON, FAILED, ("404", "No conversation found", "{thread}")),
    ThreadFault("an unanswered call run on", leave_a_call, RUN_ON, FAILED,
                ("400", "No tool output found for function call call_left")),
    ThreadFault("a call left by a cancelled run", cancel_a_waiting_run, RUN_ON, RECOVERED),
]


@pytest.mark.parametrize("fault", THREAD_FAULTS, ids=[fault.name for fault in THREAD_FAULTS])
def test_thread_fault(fault: ThreadFault, shell: InteractiveShell, server: Server) -> None:
    for cell in ("%assistant create --api responses helper --model gpt-4o-mini",
                 "%assistant threads --api responses new --title Tides -o thread"):
        error, output = run_cell(shell, cell)
        assert error is None, output
    thread = shell.user_ns["thread"]["id"]
    fault.harm(shell, server, thread)
    error, output = run_cell(shell, fault.cell.format(thread=thread))
    assert not INTERNALS.search(output), output
    words = [word.format(thread=thread) for word in fault.words]
    if fault.outcome == FAILED:
        assert isinstance(error, UsageError), output
        line = str(error)
        assert "\n" not in line and len(line) < 400 and all(word in line for word in words), line
        return
    assert error is None, output
    assert all(word in output for word in words), output
    if fault.cell == RUN_ON:
        assert shell.user_ns["_"].status == "completed", output
    else:
        run_cell(shell, "threads = %assistant threads --api responses")
        assert thread not in list(shell.user_ns["threads"].get("id", [])), shell.user_ns["threads"]


def usage_retries(ip: InteractiveShell, path: str) -> int:
    """The retries `%oai usage` counts for requests to `path` (a `retries` or an `attempts` column)."""
    with capture_output():
        frame = ip.run_line_magic("oai", "usage")
    rows = frame[frame["endpoint"].str.startswith(path.removeprefix("/v1"))]
    return int(rows["retries"].sum())


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
def test_retries_are_counted_in_usage(target: Target, shell: InteractiveShell, server: Server, tmp_path: Path) -> None:
    target.prepare(shell, tmp_path)
    server.arm(path=target.path, method=target.method, body=target.body, status=429, retry_after=0.05)
    error, output = run_cell(shell, target.cell.replace("{folder}", str(tmp_path)))
    assert error is None, output
    assert usage_retries(shell, target.path) == 1


def test_a_rerun_of_a_failed_embedding_job_sends_only_the_failed_rows(shell: InteractiveShell, server: Server,
                                                                       tmp_path: Path) -> None:
    target = TARGETS["embed batches"]
    target.prepare(shell, tmp_path)
    server.arm(path=target.path, body=target.body, status=503, retry_after=0.05, count=MANY)
    error, output = run_cell(shell, target.cell)
    assert isinstance(error, UsageError), output
    server.disarm()
    server.forget()
    error, output = run_cell(shell, target.cell)
    assert error is None, output
    sent = server.seen(target.path)
    assert len(sent) == 1 and '"charlie harbour"' in sent[0]["body"] and '"delta harbour"' in sent[0]["body"], sent
    assert not any(f'"{text}"' in sent[0]["body"] for text in ("alpha harbour", "bravo harbour", "echo harbour")), sent
    target.check_complete(shell, server)


# What a server can do to a Batch API job: fail a batch over one of its own limits (lower than the
# API's, which the client splits by), or be handed texts holding line separators other than "\n".
# Each job is sent with `%embed --batch` or `%%chat --each --batch` and collected with --wait; the
# sandbox holds the row's limits.
@dataclass(frozen=True)
class BatchFault:
    name: str
    limits: BatchLimits
    cell: str  # sends the job, leaving it in `job`
    outcome: str
    words: tuple[str, ...] = ()


SEPARATED = ["before\u2028after", "one\u2029two", "next\u0085line", "plain text", "tab\tand\rreturn"]
BATCH_FAULTS = [
    BatchFault("a batch over the server's embedding input limit", BatchLimits(embedding_inputs=3),
               "job = %embed -i texts -d 8 --batch", FAILED, ("failed", "at most 3 embedding inputs")),
    BatchFault("a batch over the server's request limit", BatchLimits(requests=2),
               "job = %embed -i texts -d 8 --batch-size 1 --batch", FAILED, ("failed", "at most 2 requests")),
    BatchFault("a batch file over the server's size limit", BatchLimits(file_bytes=200),
               "job = %embed -i texts -d 8 --batch", FAILED, ("failed", "larger than the 200 maximum")),
    BatchFault("a line separator in an embedding batch file", BatchLimits(),
               "job = %embed -i texts -d 8 --batch", RECOVERED),
    BatchFault("a chat batch over the server's request limit", BatchLimits(requests=2),
               "%%chat --each texts --batch -o job\nSay {{row}}", FAILED, ("failed", "at most 2 requests")),
    BatchFault("a line separator in a chat batch file", BatchLimits(),
               "%%chat --each texts --batch -o job\nSay {{row}}", RECOVERED),
]


@pytest.mark.parametrize("fault", BATCH_FAULTS, ids=[fault.name for fault in BATCH_FAULTS])
def test_batch_fault(fault: BatchFault, shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with start(data_dir=tmp_path / "limited", job_delay=0.02, batch_limits=fault.limits) as limited:
        monkeypatch.setenv("LIMITED_KEY", limited.api_key)
        with capture_output():
            shell.run_line_magic("oai", f"profile add limited --base-url {limited.base_url} --key-env LIMITED_KEY")
            shell.run_line_magic("oai", "use limited")
        shell.user_ns["texts"] = SEPARATED
        error, output = run_cell(shell, fault.cell)
        assert error is None, output
        job = shell.user_ns["job"]
        collect = "%embed --collect" if job.kind == "embeddings" else "%chat --collect"
        error, output = run_cell(shell, f"answer = {collect} {job.id} --wait")
    assert not INTERNALS.search(output), output
    if fault.outcome == RECOVERED:
        assert error is None, output
        answer = shell.user_ns["answer"]
        if job.kind == "embeddings":  # each text's own vector, the separators inside it kept
            assert list(answer["text"]) == SEPARATED
            expected = np.stack([sandbox_vector(text, 1536, 8) for text in SEPARATED])
            np.testing.assert_allclose(answer.filter(regex=r"^e\d").to_numpy(), expected, atol=1e-6)
        else:
            assert answer["error"].isna().all() and answer["reply"].str.len().gt(0).all()
    elif job.kind == "embeddings":  # one line naming the server's limit; the job kept, to be sent again
        assert isinstance(error, UsageError), output
        line = str(error)
        assert "\n" not in line and all(word in line for word in fault.words), line
        assert f"--collect {job.id} --resend" in line
    else:  # each row marked with why it got no answer
        assert error is None, output
        reasons = set(shell.user_ns["answer"]["error"])
        assert len(reasons) >= 1 and all(all(word in r for word in fault.words) for r in reasons), reasons
