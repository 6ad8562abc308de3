"""Profiles: a named server (base URL), where its key comes from, and its default models.

A profile names only the models chosen for it; every other kind uses the package's defaults
(`model_defaults`, today's inexpensive OpenAI models). The built-in `openai` and `sandbox` profiles
name none: the sandbox answers today's names, so a notebook shows the same models on both.

Each session has its own registry (`Profiles`), so a profile added in one shell never shows up in
another (nor in the next test). The built-ins are registered through the same `register()` a
user's own (`%oai profile add ...`, or `c.OAIMagics.profiles` in an IPython config) goes through.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Iterator

from .reasoning import LIMIT_NAMES

__all__ = ["Profile", "Profiles", "BUILTINS", "from_config"]


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str | None = None  # None: the client's default (OPENAI_BASE_URL or api.openai.com)
    key_env: str | None = "OPENAI_API_KEY"  # the environment variable that holds the key
    models: dict[str, str] = field(default_factory=dict)  # kind -> model chosen for this profile; the rest: defaults
    sandbox: bool = False  # start the embedded sandbox and use it
    assistants_api: str | None = None  # %assistant's back end: "responses", "assistants" or "chat"; None: ask the server
    # The parameter that bounds a chat reply: today's OpenAI API wants max_completion_tokens (its reasoning
    # models refuse max_tokens), most compatible servers know max_tokens only. A refusal switches it (magics/reasoning).
    token_limit: str = "max_tokens"

    def __post_init__(self) -> None:
        if self.token_limit not in LIMIT_NAMES:
            raise ValueError(f"token_limit must be one of {', '.join(LIMIT_NAMES)}, not {self.token_limit!r}")

    def __repr__(self) -> str:
        from ..client.urls import without_userinfo  # the client loads on first use

        shown = without_userinfo(self.base_url) if self.base_url else None
        return (f"Profile(name={self.name!r}, base_url={shown!r}, key_env={self.key_env!r}, models={self.models!r}, "
                f"sandbox={self.sandbox!r}, assistants_api={self.assistants_api!r}, token_limit={self.token_limit!r})")

    def model(self, kind: str) -> str:
        from .. import model_defaults  # the data file is read on first use, not at %load_ext

        return self.models.get(kind) or model_defaults.default(kind)

    def with_models(self, **models: str) -> "Profile":
        return replace(self, models={**self.models, **{k: v for k, v in models.items() if v}})


BUILTINS = (Profile("openai", token_limit="max_completion_tokens"), Profile("sandbox", key_env=None, sandbox=True))


class Profiles:
    """One session's profiles by name: the built-ins first, then the user's own."""

    def __init__(self) -> None:
        self._by_name: dict[str, Profile] = {}
        for profile in BUILTINS:
            self.register(profile)

    def register(self, profile: Profile) -> Profile:
        self._by_name[profile.name] = profile
        return profile

    def get(self, name: str) -> Profile | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Profile]:
        return iter(list(self._by_name.values()))


def from_config(name: str, values: dict) -> Profile:
    """A profile from a config dict: base_url, key_env, and `<kind>_model` entries."""
    known = {f.name for f in fields(Profile)} - {"name", "models"}
    models = {key[: -len("_model")]: value for key, value in values.items() if key.endswith("_model")}
    unknown = set(values) - known - {f"{kind}_model" for kind in models}
    if unknown:
        raise ValueError(f"unknown profile setting(s) for {name!r}: {', '.join(sorted(unknown))}")
    return Profile(name=name, **{k: v for k, v in values.items() if k in known}).with_models(**models)

