"""What the run handles of the back ends with server-side runs (responses, assistants) share: read a
stream, fall back to polling when it breaks, poll until the run waits or ends, then close with the
run's outcome.

A back end's handle supplies four steps: how to read one stream item, how to fetch the run, what
to do between polls, and the closing events (`_settle`).
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from typing import Any, Callable, Iterator, Mapping

from ..client.polling import poll_delays
from .base import (APPROVE, DENY, RUN_TIMEOUT, OutputsMismatch, RunEvent, RunHandle, RunRecord, RunTimeout, StatusChanged, TERMINAL,
                   TextDelta)

__all__ = ["StreamOrPollRun"]

STOPS = TERMINAL + ("requires_action",)  # where events() stops: the run ended, or waits for tool outputs
RUN_POLL_CAP = 1.0  # a polled run is looked at at least every second: its reply is shown as soon as it is done


class StreamOrPollRun(RunHandle):
    """A run followed through its stream when there is one, by polling otherwise."""

    def __init__(self, thread_id: str, stream: bool, run_timeout: float = RUN_TIMEOUT) -> None:
        super().__init__(thread_id, stream)
        self.run_timeout = run_timeout  # seconds of polling before giving up (the run goes on at the server)
        self._stream: Any = None  # the open stream of the latest request, until it is read
        self._wake = threading.Event()  # set by cancel(): poll again at once
        self._announced = False

    # the steps a back end supplies
    @abstractmethod
    def _on_item(self, item: dict) -> Iterator[RunEvent]:
        """The events one stream item means."""

    @abstractmethod
    def _fetch(self) -> RunRecord:
        """The run as the server reports it now (storing it is left to the caller)."""

    def _wait_time(self, seconds: float) -> float:
        """How long to wait between polls for `seconds` (a back end whose client replays a recording at
        full speed waits for nothing)."""
        return seconds

    def _between_polls(self) -> Iterator[RunEvent]:
        """Anything to report while polling (steps, say)."""
        return iter(())

    @abstractmethod
    def _settle(self) -> Iterator[RunEvent]:
        """The closing events once the run stopped: ActionRequired, or the reply's rest and RunEnded."""

    @abstractmethod
    def _cancel_on_server(self) -> RunRecord:
        """Ask the server to cancel; the run as it then is."""

    # the shared machinery
    def events(self) -> Iterator[RunEvent]:
        if self._stream is None and self.state.run is not None and not self._announced:
            self._announced = True
            yield StatusChanged(self.state.run)  # a polled run: its first status came with its creation
        if self._stream is not None:
            yield from self._follow_stream()
        if self.status not in STOPS:
            yield from self._polled()
        yield from self._settle()

    def _follow_stream(self) -> Iterator[RunEvent]:
        from ..client import APIStatusError, OpenAIError

        stream, self._stream = self._stream, None
        try:
            with stream:
                for item in stream:
                    yield from self._on_item(item)
                    if self.status in STOPS:
                        return
        except APIStatusError:
            raise
        except OpenAIError as exc:  # dropped, cut short or garbled: the run goes on, so follow it by polling
            if self.run_id is None:
                raise
            if not self.cancel_requested.is_set():  # a server may end the stream of a run it cancels
                self.stream_broken = f"{type(exc).__name__}: {exc}"

    def _polled(self) -> Iterator[RunEvent]:
        deadline = time.monotonic() + self.run_timeout
        for interval in poll_delays(cap=RUN_POLL_CAP):
            if self.status in STOPS:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                assert self.state.run is not None, "a polled run has been created"
                raise RunTimeout(self.state.run, self.run_timeout)
            yield from self._between_polls()
            if self._wake.wait(self._wait_time(min(interval, left))):
                self._wake.clear()
            yield from self._update(self._fetch)

    def _update(self, fetch: Callable[[], RunRecord]) -> Iterator[RunEvent]:
        """Take in the run's latest state; a StatusChanged when its status moved."""
        before = self.status
        self.state.run = fetch()
        if self.state.run["status"] != before:
            yield StatusChanged(self.state.run)

    def _add_text(self, text: str, message_id: str | None = None) -> Iterator[RunEvent]:
        if text:
            self.state.text_parts.append(text)
            yield TextDelta(text, message_id)

    def _rest_of_reply(self, reply: str) -> Iterator[RunEvent]:
        """The part of the final reply not seen yet: all of it when polled, the rest of a broken stream."""
        received = self.text
        if reply.startswith(received):
            yield from self._add_text(reply[len(received):])

    def _check_outputs(self, outputs: Mapping[str, str]) -> None:
        """Refuse, before anything is sent, outputs that leave a waiting call unanswered or answer a
        call the run does not wait for (the server would refuse the whole round)."""
        waiting = [c["id"] for c in self.pending_calls]
        unknown = [call_id for call_id in outputs if call_id not in waiting]
        if unknown:
            raise OutputsMismatch(f"the run waits for no tool call {', '.join(unknown)}",
                                  hint=f"it waits for {', '.join(waiting) or 'none'}")
        missing = [call_id for call_id in waiting if call_id not in outputs]
        if missing:
            raise OutputsMismatch(f"no output given for tool call(s) {', '.join(missing)}")
        undecided = [c["id"] for c in self.pending_calls if "server" in c and outputs[c["id"]] not in (APPROVE, DENY)]
        if undecided:
            raise OutputsMismatch(f"an MCP approval request is answered with {APPROVE} or {DENY}, not an output: "
                                  f"{', '.join(undecided)}")

    def _resumed(self) -> None:
        """Outputs were sent on a stream: the run is queued again until the stream says more."""
        if self._stream is not None and self.state.run is not None:
            queued = {**self.state.run, "status": "queued", "required_calls": []}
            self.state.run = RunRecord(queued)  # type: ignore[typeddict-item]

    def cancel(self) -> RunRecord:
        self.cancel_requested.set()
        self._wake.set()
        if self.run_id is None:
            raise ValueError("the run has not started yet: nothing to cancel")
        self.state.run = self._cancel_on_server()
        return self.state.run

    def refresh(self) -> RunRecord:
        if self.run_id is None:
            raise ValueError("the run has not started yet")
        self.state.run = self._fetch()
        return self.state.run
