"""oai_magics' own errors share one base and become one line in one place."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from IPython.core.error import UsageError

from oai_magics.local_errors import LocalError


def seven() -> list[tuple[type, type]]:
    """Every local error class, with the built-in kind it also is (callers still catch that)."""
    from oai_magics.assistants import RunTimeout, Unsupported
    from oai_magics.assistants.resolve import NotFound
    from oai_magics.display.plots import TooManyGroups
    from oai_magics.jobs.batch_status import JobNotReady
    from oai_magics.embeddings.direct import EmbeddingJobError
    from oai_magics.jobs.pacing import Stopped

    return [(TooManyGroups, ValueError), (RunTimeout, TimeoutError), (Unsupported, ValueError),
            (NotFound, LookupError), (Stopped, Exception), (EmbeddingJobError, Exception), (JobNotReady, Exception)]


def test_every_local_error_has_the_one_base_and_keeps_its_built_in_kind() -> None:
    for kind, built_in in seven():
        assert issubclass(kind, LocalError) and issubclass(kind, built_in), kind


def test_the_line_is_the_message_then_the_hint() -> None:
    assert LocalError("no such column", hint="pick one of a, b").line() == "no such column; pick one of a, b"
    assert LocalError("nothing to add").line() == "nothing to add"
    assert LocalError("two\nlines", hint="one").line() == "two lines; one"


def test_an_error_raised_without_words_says_what_happened_from_its_docstring() -> None:
    from oai_magics.jobs.pacing import Stopped

    assert str(Stopped()) == "The job was stopped (Ctrl-C) while a request waited for its turn."


def test_a_run_timeout_keeps_its_message_and_carries_its_hint() -> None:
    from oai_magics.assistants import RunTimeout

    error = RunTimeout({"id": "run_1", "status": "in_progress", "thread_id": "thread_1"}, 2)  # type: ignore[typeddict-item]
    assert str(error) == "run run_1 was still in_progress after 2 s of waiting"
    assert error.line() == "run run_1 was still in_progress after 2 s of waiting; it goes on at the server"


def failing(error: Exception) -> Any:
    from oai_magics.magics.common import friendly

    @friendly
    def magic(self: Any) -> None:
        raise error

    session = SimpleNamespace(settings=SimpleNamespace(short_errors=False), model_notes=lambda: None)  # what friendly() reads
    return magic(SimpleNamespace(session=session))


def test_the_magics_show_a_local_error_as_one_usage_line_whatever_short_errors_says() -> None:
    from oai_magics.assistants import RunTimeout

    timeout = RunTimeout({"id": "run_1", "status": "queued", "thread_id": "thread_1"}, 1)  # type: ignore[typeddict-item]
    with pytest.raises(UsageError) as caught:
        failing(timeout)  # also an OSError: the line must still carry the hint
    assert str(caught.value) == "run run_1 was still queued after 1 s of waiting; it goes on at the server"
    with pytest.raises(UsageError, match=r"^no assistant named 'x'; list them with %assistant list$"):
        failing(LocalError("no assistant named 'x'", hint="list them with %assistant list"))
