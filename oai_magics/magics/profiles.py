"""Profiles: a named server (base URL), where its key comes from, and its default models.

Profiles live in one registry; the built-ins are registered through the same `register()` a
user's own (`%oai profile add ...`, or `c.OAIMagics.profiles` in an IPython config) goes through.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

__all__ = ["Profile", "PROFILES", "register", "get"]

DEFAULT_MODELS = {
    "chat": "gpt-4o-mini", "completion": "gpt-3.5-turbo-instruct", "edit": "text-davinci-edit-001",
    "embedding": "text-embedding-3-small", "image": "dall-e-3", "speech": "tts-1", "transcription": "whisper-1",
    "moderation": "omni-moderation-latest",
}


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str | None = None  # None: the client's default (OPENAI_BASE_URL or api.openai.com)
    key_env: str | None = "OPENAI_API_KEY"  # the environment variable that holds the key
    models: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    sandbox: bool = False  # start the embedded sandbox and use it
    assistants_api: str | None = None  # %assistant's back end: "responses" or "assistants"; None: ask the server

    def model(self, kind: str) -> str:
        return self.models.get(kind) or DEFAULT_MODELS[kind]

    def with_models(self, **models: str) -> "Profile":
        return replace(self, models={**self.models, **{k: v for k, v in models.items() if v}})


PROFILES: dict[str, Profile] = {}


def register(profile: Profile) -> Profile:
    PROFILES[profile.name] = profile
    return profile


def get(name: str) -> Profile | None:
    return PROFILES.get(name)


def from_config(name: str, values: dict) -> Profile:
    """A profile from a config dict: base_url, key_env, and `<kind>_model` entries."""
    known = {f.name for f in fields(Profile)} - {"name", "models"}
    models = {key[: -len("_model")]: value for key, value in values.items() if key.endswith("_model")}
    unknown = set(values) - known - {f"{kind}_model" for kind in models}
    if unknown:
        raise ValueError(f"unknown profile setting(s) for {name!r}: {', '.join(sorted(unknown))}")
    return Profile(name=name, **{k: v for k, v in values.items() if k in known}).with_models(**models)


register(Profile("openai"))
register(Profile("sandbox", key_env=None, sandbox=True))
