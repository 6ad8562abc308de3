"""The models the sandbox answers to: common OpenAI names, each with what it can do."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError

__all__ = ["MODELS", "Model", "lookup", "require_model"]

CREATED = 1_700_000_000  # a fixed date keeps answers deterministic


@dataclass(frozen=True)
class Model:
    id: str
    kind: str  # chat, completion, edit, embedding, image, speech, transcription, moderation
    dimensions: int = 0  # embeddings only
    context: int = 16_384


def _many(kind: str, *names: str, **extra: int) -> list[Model]:
    return [Model(name, kind, **extra) for name in names]


MODELS: dict[str, Model] = {m.id: m for m in [
    *_many("chat", "gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4-turbo", "gpt-4",
           "gpt-3.5-turbo", "gpt-3.5-turbo-1106", "gpt-4-1106-preview", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini",
           "sandbox-chat"),
    *_many("completion", "gpt-3.5-turbo-instruct", "davinci-002", "babbage-002", "text-davinci-003", "davinci",
           "curie", "babbage", "ada", "sandbox-complete"),
    *_many("edit", "text-davinci-edit-001", "code-davinci-edit-001"),
    Model("text-embedding-3-small", "embedding", 1536, 8192),
    Model("text-embedding-3-large", "embedding", 3072, 8192),
    Model("text-embedding-ada-002", "embedding", 1536, 8192),
    Model("sandbox-embed", "embedding", 256, 8192),
    *_many("image", "dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2"),
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
    if model is None:
        raise ApiError(404, f"The model `{name}` does not exist or you do not have access to it.",
                       param=param, code="model_not_found")
    if model.kind not in kinds:
        raise ApiError(400, f"The model `{name}` is a {model.kind} model and cannot be used here; "
                            f"use a {' or '.join(kinds)} model.", param=param, code="model_not_supported")
    return model


def model_object(model: Model, created: int = CREATED, owned_by: str = "sandbox") -> dict:
    return {"id": model.id, "object": "model", "created": created, "owned_by": owned_by}
