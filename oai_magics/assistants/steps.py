"""A run's steps as a person follows them: the steps the server reported, and the tool calls
answered since. A tool-call step counts as done once every call it holds has its output, so the
step counter and the step list never lag behind a tool output already shown (the server marks the
step completed only after the outputs are in). `%assistant run` and the form both keep one."""

from __future__ import annotations

from .base import StepRecord

__all__ = ["StepTally", "call_ids"]


def call_ids(step: StepRecord) -> set[str]:
    """The ids of the tool calls a step holds: the Assistants API lists them in its step details,
    the Responses API's step is one function call item."""
    raw = step["raw"] or {}
    calls = (raw.get("step_details") or {}).get("tool_calls") or []
    return {str(i) for i in [c.get("id") for c in calls] + [raw.get("call_id")] if i}


class StepTally:
    """The steps of one run by id, in the order they came, and the call ids answered."""

    def __init__(self) -> None:
        self.steps: dict[str, StepRecord] = {}
        self.answered: set[str] = set()

    def update(self, step: StepRecord) -> None:
        self.steps[step["id"]] = step

    def replace(self, steps: list[StepRecord]) -> None:
        """The steps as the server lists them (once the run is over)."""
        self.steps = {step["id"]: step for step in steps}

    def answer(self, call_id: str) -> None:
        self.answered.add(call_id)

    def status(self, step: StepRecord) -> str:
        """The step's status, "completed" for a tool-call step whose calls all have their outputs."""
        calls = call_ids(step) if step["type"] == "tool_calls" and step["status"] == "in_progress" else set()
        return "completed" if calls and calls <= self.answered else step["status"]

    def counter(self) -> str:
        """"1/2 steps": those done, of those reported."""
        done = sum(1 for step in self.steps.values() if self.status(step) == "completed")
        return f"{done}/{len(self.steps)} steps"
