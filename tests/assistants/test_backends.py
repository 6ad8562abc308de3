"""The back ends through their Python interface, as a form uses them: a worker thread iterates a
run's events while another thread cancels it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from oai_magics.assistants import RunEnded, RunEvent, StatusChanged, TextDelta, backend_for
from oai_magics.assistants.store import AssistantStore
from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start


@pytest.fixture(scope="module")
def paced_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Runs spend a second in each phase and replies stream a piece every 0.3 s, so there is time
    to cancel one on its way."""
    with start(data_dir=tmp_path_factory.mktemp("paced"), run_delay=1.0, token_delay=0.3) as running:
        yield running


@pytest.fixture(params=["assistants", "responses"])
def backend(request: pytest.FixtureRequest, paced_sandbox: Sandbox, tmp_path: Path) -> Any:
    client = Client(api_key=paced_sandbox.api_key, base_url=paced_sandbox.base_url)
    return backend_for(client, request.param, AssistantStore(tmp_path / "store.sqlite3"))


def cancel_once(handle: Any, seen_enough: Callable[[RunEvent], bool]) -> list[RunEvent]:
    """Follow the run on a worker thread, as a form does; cancel from here once `seen_enough`."""
    ready, seen = threading.Event(), []

    def follow() -> None:
        for event in handle.events():
            seen.append(event)
            if seen_enough(event):
                ready.set()

    worker = threading.Thread(target=follow)
    worker.start()
    assert ready.wait(30)
    handle.cancel()
    worker.join(30)
    assert not worker.is_alive() and isinstance(seen[-1], RunEnded)
    return seen


def test_cancel_from_another_thread_ends_a_polled_run(backend: Any) -> None:
    backend.create_assistant(name="slowpoke", model="gpt-4o-mini")
    handle = backend.start_run("slowpoke", message="Tell me about the tides", stream=False)
    seen = cancel_once(handle, lambda event: True)
    assert isinstance(seen[0], StatusChanged)
    assert seen[-1].run["status"] in ("cancelled", "cancelling") and handle.done is (handle.status == "cancelled")
    assert backend.get_run(handle.thread_id, handle.run_id)["status"] in ("cancelled", "cancelling")


def test_cancel_from_another_thread_ends_a_streamed_run_mid_reply(backend: Any) -> None:
    backend.create_assistant(name="chatty", model="gpt-4o-mini")
    handle = backend.start_run("chatty", message="Tell me about the lighthouses of Brittany", stream=True)
    seen = cancel_once(handle, lambda event: isinstance(event, TextDelta))
    assert seen[-1].run["status"] == "cancelled" and handle.stream_broken is None
    assert "Brittany" not in handle.text  # the reply stopped where the cancel caught it


@pytest.mark.parametrize("api", ["assistants", "responses"])
def test_a_polled_run_replayed_at_full_speed_waits_between_no_polls(api: str, tmp_path: Path) -> None:
    """Each poll of a replayed run waited its interval, so a replay at full speed took as long as the run had."""
    from oai_magics.client.recording import RecordingTransport, TapeWriter
    from oai_magics.client.replay import ReplayTransport
    from oai_magics.client.tape import Tape

    path, store = tmp_path / "run.replay.jsonl", AssistantStore(tmp_path / "store.sqlite3")
    with start(data_dir=tmp_path / "sandbox", run_delay=0.1) as sandbox:
        live = backend_for(Client(api_key=sandbox.api_key, base_url=sandbox.base_url,
                                  transport=RecordingTransport(TapeWriter(path))), api, store)
        made = live.create_assistant(name="tidal", model="gpt-4o-mini")
        thread = live.create_thread()
        run = live.start_run(made["id"], thread_id=thread["id"], message="Tell me about the tides", stream=False)
        assert isinstance(list(run.events())[-1], RunEnded)
        url = sandbox.base_url
    for speed in ("full", "recorded"):
        client = Client(api_key=None, base_url=url, transport=ReplayTransport(Tape.load(path), speed))  # type: ignore[arg-type]
        waits: list[float] = []
        asked = client.wait_time
        client.wait_time = lambda seconds: waits.append(asked(seconds)) or waits[-1]  # type: ignore[method-assign]
        again = backend_for(client, api, store).start_run(made["id"], thread_id=thread["id"],
                                                           message="Tell me about the tides", stream=False)
        ended = list(again.events())[-1]
        assert isinstance(ended, RunEnded) and ended.run["status"] == "completed"
        assert waits and all((wait == 0.0) if speed == "full" else (wait > 0) for wait in waits), (speed, waits)
