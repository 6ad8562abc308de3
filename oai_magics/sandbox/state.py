"""What the handlers share: settings, the store, and the fine-tuned models made so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request

from .batch_limits import BatchLimits
from .store import Store

__all__ = ["Settings", "State", "state"]


@dataclass
class Settings:
    """How the sandbox behaves; the command line and `start()` set these."""

    data_dir: Path
    api_key: str | None = None  # when set, only this key is accepted
    token_delay: float = 0.0  # seconds between streamed chunks (demos look alive with ~0.02)
    run_delay: float = 0.0  # seconds a run spends in each of queued / in_progress
    job_delay: float = 1.0  # seconds a legacy fine-tune spends in each of pending / running
    run_expiry: float = 600.0  # seconds a run may wait for tool outputs before it expires
    batch_window: float = 24 * 3600.0  # seconds a batch may take before it expires
    max_upload_bytes: int = 512 * 1024 * 1024
    batch_limits: BatchLimits = field(default_factory=BatchLimits)  # what one batch may hold (the API's)
    # Switched off, these routes answer 404 as on a server that lacks them (llama.cpp, vLLM, LiteLLM ...),
    # so a client's fallbacks can be tried against the sandbox.
    assistants_api: bool = True  # /assistants, /threads (messages, runs, steps)
    conversations_api: bool = True  # /conversations (and its items)


@dataclass
class State:
    settings: Settings
    store: Store


def state(request: Request) -> State:
    return request.app.state.sandbox


def find(app: State, kind: str, object_id: str, *, what: str, param: str | None = None, parent: str | None = None) -> dict:
    """A stored object, or the API's 404 naming what was not found."""
    from .errors import not_found

    found = app.store.get(kind, object_id, parent=parent)
    if found is None:
        raise not_found(what, object_id, param)
    return found
