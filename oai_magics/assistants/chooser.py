"""Which assistants back end a server gets, decided in one place for `%assistant` and the form.

The back end asked for (`--api`, the form's `api=`), else the profile's setting, else what the
server answered when it was asked which APIs it has: asked once per server and remembered, so
the magic and the form agree and neither asks again.

The probe, in order: api.openai.com gets `responses` (it retired the Assistants API); a server
that answers GET /assistants gets `assistants`; one that makes (and then deletes) a conversation
gets `responses`; one that has /responses but no Conversations API gets `responses` with threads
kept as chains of responses; any other gets `chat`, which works wherever chat completions do. A
server that answers the probe with something else than "here" or "not here" (a 500, a page that is
not JSON) is asked the next question (LiteLLM answers GET /assistants with a 500 where no
provider for it is set up); one whose answers all fail so gets `chat` too, and the line that says
so is shown once, at the first command.

`responses` asked for by name (`--api`, a profile's setting) on a server that was not probed, or
was probed for another back end, is asked once whether the server keeps conversations: without
them its threads are chains too, instead of a 404 from /conversations at the first command.
"""

from __future__ import annotations

from typing import Any, Callable

from .base import RUN_TIMEOUT, Backend, Probed, Unsupported
from .names import BACKENDS

__all__ = ["BACKENDS", "CHAINS", "PROBED", "Probed", "backend_for", "backend_name", "choose_backend", "fallback_note", "probe",
           "probed"]

PROBED: dict[str, "Probed"] = {}  # base URL -> what `probe` found there
CHAINS: dict[str, "Probed"] = {}  # base URL -> how `responses` asked for by name works there (`responses_probed`)


def choose_backend(client: Any, requested: str | None = None, configured: str | None = None, *,
                   store: Any = None, run_timeout: float = RUN_TIMEOUT) -> Backend:
    """The back end for `client`: `requested`, else `configured` (the profile's), else the probe's.
    `responses` on a server not probed for it is asked first whether it keeps conversations."""
    name = backend_name(client, requested, configured)
    if name == "responses":
        responses_probed(client)
    return backend_for(client, name, store, run_timeout)


def backend_name(client: Any, requested: str | None = None, configured: str | None = None) -> str:
    """`requested` when given, else `configured`, else the (remembered) answer of `probe`."""
    if requested or configured:
        return str(requested or configured)
    return probed(client).name


def probed(client: Any) -> Probed:
    """What `probe` found for this server, asked once. A server that cannot be reached, or refuses
    the key, raises (nothing is remembered: it is asked again next time)."""
    server = str(client.base_url)
    if server not in PROBED:
        PROBED[server] = probe(client)
    return PROBED[server]


def fallback_note(client: Any) -> str | None:
    """Why the chat back end was taken for this server when its probe could not tell, the first
    time it is asked (the magic's first command, or a form, shows it once); None otherwise."""
    found = PROBED.get(str(client.base_url))
    if found is None or not found.fallback or found.told:
        return None
    found.told = True
    return found.why


def backend_for(client: Any, name: str, store: Any = None, run_timeout: float = RUN_TIMEOUT) -> Backend:
    """The back end `name` over `client`; `store` (an `AssistantStore`) holds local records;
    `run_timeout` bounds the polling of a run (seconds)."""
    if name == "assistants":
        from .assistants_api import AssistantsBackend

        return AssistantsBackend(client, run_timeout)
    if name not in BACKENDS:
        raise Unsupported(f"unknown assistants back end {name!r}; choose one of: {', '.join(BACKENDS)}")
    from .store import AssistantStore

    store = store or AssistantStore.default()
    if name == "chat":
        from .chat_api import ChatBackend

        return ChatBackend(client, store, run_timeout)
    found = _responses_found(client)
    if found is not None and not found.conversations:
        from .responses_chain import ChainedResponsesBackend

        return ChainedResponsesBackend(client, store, run_timeout, found)
    from .responses_api import ResponsesBackend

    return ResponsesBackend(client, store, run_timeout)


def _responses_found(client: Any) -> Probed | None:
    """What is known of the responses back end on this server, without asking it."""
    server = str(client.base_url)
    found = PROBED.get(server)
    return found if found is not None and found.name == "responses" else CHAINS.get(server)


def responses_probed(client: Any) -> Probed:
    """How the responses back end keeps threads on this server: the probe's answer when it chose
    `responses`, else whether the server keeps conversations, asked once (api.openai.com does)."""
    from ..client import APIConnectionError, AuthenticationError, NotRecordedError, OpenAIError, PermissionDeniedError
    from ..client.urls import host_of

    found = _responses_found(client)
    if found is None:
        try:
            keeps = host_of(client.base_url) == "api.openai.com" or _present(lambda: _conversation_round_trip(client))
        except (APIConnectionError, AuthenticationError, PermissionDeniedError, NotRecordedError):
            raise  # about the server, the key or a replayed recording: said in one line, asked again next time
        except OpenAIError:  # an answer that does not tell: conversations, whose own commands then say what fails
            return Probed("responses", "asked for by name")
        found = CHAINS[str(client.base_url)] = Probed("responses", "asked for by name", conversations=keeps)
    return found


def probe(client: Any) -> Probed:
    """Which back end a server wants (see the module's docstring for the order of the questions)."""
    from ..client import APIConnectionError, AuthenticationError, NotRecordedError, OpenAIError, PermissionDeniedError
    from ..client.urls import host_of

    if host_of(client.base_url) == "api.openai.com":
        return Probed("responses", "api.openai.com retired the Assistants API")
    doubts: list[str] = []  # answers that were neither "here" nor "not here", first line each

    def present(ask: Callable[[], Any]) -> bool:
        try:
            return _present(ask)
        except (APIConnectionError, AuthenticationError, PermissionDeniedError, NotRecordedError):
            raise  # about the server, the key or a replayed recording, not about its APIs: say so, ask again later
        except OpenAIError as exc:  # that API is broken there (LiteLLM's unconfigured /assistants): ask on
            doubts.append(str(exc).splitlines()[0][:120])
            return False

    if present(lambda: client.assistants.list(limit=1)):
        return Probed("assistants", "the server has the Assistants API")
    if present(lambda: _conversation_round_trip(client)):
        return Probed("responses", "the server has the Responses and Conversations APIs")
    if present(client.responses.create):  # no body: refused as invalid where the route exists
        return Probed("responses", "the server has the Responses API without Conversations: "
                                   "a thread is a chain of responses", conversations=False)
    if doubts:
        return Probed("chat", f"the server's answer did not say which APIs it has ({doubts[0]}); chat completions "
                              "work on every server", fallback=True)
    return Probed("chat", "the server has neither the Assistants nor the Responses API")


def _present(ask: Callable[[], Any]) -> bool:
    """Whether the route `ask` calls exists: it answers (or refuses the request as invalid: 400,
    422), or is missing (404, 405). Any other failure is raised."""
    from ..client import APIStatusError

    try:
        ask()
    except APIStatusError as exc:
        if exc.status_code in (404, 405):
            return False
        if exc.status_code in (400, 422):
            return True
        raise
    return True


def _conversation_round_trip(client: Any) -> None:
    """Make an empty conversation and delete it again: only a server that keeps them can."""
    made = client.conversations.create()
    made_id = made.get("id") if isinstance(made, dict) else None
    if isinstance(made_id, str):  # an answer without an id still says the route is there
        client.conversations.delete(made_id)
