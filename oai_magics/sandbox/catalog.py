"""The models the sandbox answers to: today's OpenAI names and the legacy ones the notebooks and the
reference surface use, each with what it can do.

As on api.openai.com, a model may carry a `shutdown_date`: the sandbox dates them from its own clock
(so a warning for a model near its end can be shown any day), and a model past it is retired: still
listed, but a request naming it gets the API's 404 `model_not_found`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .errors import ApiError
from .store import now

__all__ = ["MODELS", "Model", "lookup", "require_model", "shutdown_date"]

CREATED = 1_700_000_000  # a fixed date keeps answers deterministic


@dataclass(frozen=True)
class Model:
    id: str
    kind: str  # chat, completion, edit, embedding, image, speech, transcription, moderation
    dimensions: int = 0  # embeddings only
    context: int = 16_384
    reasoning: bool = False  # a reasoning model: takes reasoning_effort, refuses max_tokens
    shutdown_in_days: int | None = None  # its shutdown date, in days from the sandbox's today (< 0: retired)


def _many(kind: str, *names: str, **extra: int | bool) -> list[Model]:
    return [Model(name, kind, **extra) for name in names]


MODELS: dict[str, Model] = {m.id: m for m in [
    *_many("chat", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.4", "gpt-5.5", "gpt-5", "gpt-5-mini", "gpt-5-nano", "o3",
           "o3-mini", "o4-mini", reasoning=True),
    Model("o1-preview", "chat", reasoning=True, shutdown_in_days=-120),  # retired: listed, but model_not_found
    Model("gpt-4o-2024-05-13", "chat", shutdown_in_days=21),  # shuts down within the month: a warning before use
    Model("gpt-4o-mini", "chat", shutdown_in_days=180),  # on a published retirement path, months away
    *_many("chat", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4-turbo", "gpt-4",
           "gpt-3.5-turbo", "gpt-3.5-turbo-1106", "gpt-4-1106-preview", "gpt-5.2-chat-latest", "sandbox-chat"),
    *_many("completion", "gpt-3.5-turbo-instruct", "davinci-002", "babbage-002", "text-davinci-003", "davinci",
           "curie", "babbage", "ada", "sandbox-complete"),
    *_many("edit", "text-davinci-edit-001", "code-davinci-edit-001"),
    Model("text-embedding-3-small", "embedding", 1536, 8192),
    Model("text-embedding-3-large", "embedding", 3072, 8192),
    Model("text-embedding-ada-002", "embedding", 1536, 8192),
    Model("sandbox-embed", "embedding", 256, 8192),
    *_many("image", "dall-e-2", "dall-e-3", "gpt-image-1-mini", "gpt-image-1", "gpt-image-1.5", "gpt-image-2"),
    *_many("speech", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"),
    *_many("transcription", "whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"),
    *_many("moderation", "text-moderation-latest", "text-moderation-stable", "omni-moderation-latest"),
]}


def lookup(name: str, extra: dict[str, str] | None = None) -> Model | None:
    """A catalogue model, or a fine-tuned one (`extra` maps its id to its base model)."""
    if name in MODELS:
        return MODELS[name]
    base = (extra or {}).get(name)
    if base is not None:
        parent = MODELS.get(base)
        return Model(name, parent.kind if parent else "completion")
    return None


def require_model(name: object, kinds: tuple[str, ...], extra: dict[str, str] | None = None, param: str = "model") -> Model:
    """The model a request names, or the API's 404 `model_not_found` / 400 for the wrong kind."""
    if not isinstance(name, str) or not name:
        raise ApiError(400, "you must provide a model parameter", param=param)
    model = lookup(name, extra)
    if model is None or (model.shutdown_in_days is not None and model.shutdown_in_days < 0):
        raise ApiError(404, f"The model `{name}` does not exist or you do not have access to it.",
                       param=param, code="model_not_found")
    if model.kind not in kinds:
        raise ApiError(400, f"The model `{name}` is a {model.kind} model and cannot be used here; "
                            f"use a {' or '.join(kinds)} model.", param=param, code="model_not_supported")
    return model


def shutdown_date(model: Model) -> str | None:
    """The model's shutdown date as the API writes it (YYYY-MM-DD), or None when none is announced."""
    if model.shutdown_in_days is None:
        return None
    today = dt.datetime.fromtimestamp(now(), dt.timezone.utc).date()
    return (today + dt.timedelta(days=model.shutdown_in_days)).isoformat()


def model_object(model: Model, created: int = CREATED, owned_by: str = "sandbox") -> dict:
    return {"id": model.id, "object": "model", "created": created, "owned_by": owned_by,
            "shutdown_date": shutdown_date(model)}
