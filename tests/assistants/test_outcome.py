"""One record of how a run ended, for the magic and the form alike."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from oai_magics.assistants import RunHandle, RunOutcome


class Ended(RunHandle):
    """A handle whose run is already in a given state (no server involved: only the record is tested)."""

    def __init__(self, run: dict, text: str = "", messages: list[dict] | None = None) -> None:
        super().__init__(run["thread_id"], stream=False)
        self.state.run = run  # type: ignore[assignment]
        self.state.text_parts = [text]
        self.state.messages = messages or []  # type: ignore[assignment]

    def events(self) -> Iterator[Any]:
        return iter(())

    def submit(self, outputs: Mapping[str, str]) -> None: ...

    def cancel(self) -> Any:
        return self.state.run

    def refresh(self) -> Any:
        return self.state.run


def run(status: str, error: str | None = None, calls: list[dict] | None = None) -> dict:
    return {"id": "run_1", "thread_id": "thread_1", "status": status, "error": error, "required_calls": calls or []}


def test_a_failed_run_says_why_and_keeps_its_text_and_messages_without_raw() -> None:
    message = {"id": "msg_1", "role": "assistant", "text": "Hel", "raw": {"big": "object"}}
    outcome = RunOutcome.of(Ended(run("failed", "server_error: boom"), "Hel", [message]))
    assert (outcome.status, outcome.error, outcome.text, outcome.run_id) == ("failed", "server_error: boom", "Hel", "run_1")
    assert outcome.messages == [{"id": "msg_1", "role": "assistant", "text": "Hel"}]
    assert repr(outcome) == "RunOutcome(thread_id='thread_1', run_id='run_1', status='failed', 3 characters)"


def test_a_run_cancelled_on_request_or_completed_is_no_error() -> None:
    for status, reason in (("cancelled", "cancelled on request"), ("completed", None)):
        assert RunOutcome.of(Ended(run(status, reason))).error is None


def test_a_waiting_run_lists_its_calls_and_a_failure_to_follow_it_is_the_error() -> None:
    call = {"id": "call_1", "name": "get_time", "arguments": "{}"}
    handle = Ended(run("requires_action", calls=[call]))
    assert RunOutcome.of(handle).pending_calls == [call]
    broken = RunOutcome.of(handle, status="error", error="APIConnectionError: the stream broke")
    assert (broken.status, broken.error) == ("error", "APIConnectionError: the stream broke")
