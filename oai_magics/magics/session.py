"""The state the magics share in one IPython session: the active profile and its client, the
key typed with `%oai key`, the conversations, the embedded sandbox, the local MCP servers (`mcp()`), a log
of every request, what the server's models listing says (`model_watch`), which token-limit parameter each
profile takes, the price table (the package's under `%config OAIMagics.prices`), and the rate limits last
heard."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

from IPython.core.error import UsageError

from .model_watch import ModelWatch
from .profiles import Profile, Profiles

if TYPE_CHECKING:  # pragma: no cover
    from ..client import Client
    from ..client.secret import Secret
    from ..chat_memory import ChatMemory
    from ..mcp.hub import McpHub
    from ..prices import PriceTable
    from ..sandbox import Sandbox

__all__ = ["Session", "NO_KEY", "TOKEN_NAMES"]

# Token counts as chat and completions name them, and as the Responses API does.
TOKEN_NAMES = {"prompt_tokens": "input_tokens", "completion_tokens": "output_tokens", "total_tokens": "total_tokens"}

# The path of a Batch object, or of its cancellation (which answers with it).
_BATCH = re.compile(r"/batches/([^/]+)(?:/cancel)?")

# Where a replayed profile without a URL of its own (the sandbox's, the OpenAI one) points: never
# reached, as replay answers by path; the path is the one those servers have.
REPLAY_URL = "http://replay.invalid/v1"

NO_KEY = ("No API key for profile {name!r}: run `%oai key` to type one (it is not echoed), set ${env}, "
          "or run `%oai use sandbox` to try everything on the local sandbox.")


class Session:
    """One per shell; built when the extension loads, heavy parts made on first use."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings  # the OAIMagics configurable: its traitlets are the defaults
        self.profile_name = settings.profile
        self.profiles = Profiles()  # this session's own: a profile added here is unknown elsewhere
        self._client: Client | None = None
        self.last_model: tuple[str, str] | None = None  # (kind, name) of the model chosen last
        self._typed_keys: dict[str, Secret] = {}
        self.sandbox: Sandbox | None = None
        self.conversations: dict[str, ChatMemory] = {}  # by the name `%%chat -c NAME` gives
        self.records: list[dict] = []
        self.watch = ModelWatch()
        self.token_limit_names: dict[str, str] = {}  # profile -> the max-tokens parameter its server took
        self._mcp: McpHub | None = None
        self._prices: PriceTable | None = None
        self.rate_limits: dict[str, str] = {}  # the x-ratelimit-* headers of the last answer that had them
        self.tape: Any = None  # `%oai record` / `%oai replay` (oai_record's modes): every client's transport

    @property
    def replaying(self) -> bool:
        return bool(getattr(self.tape, "replaying", False))

    def use_tape(self, mode: Any) -> None:
        """Record to, replay from, or (None) neither: the next request goes through a client built so."""
        self.tape = mode
        self._drop_client()

    # -- connection ----------------------------------------------------------------------------
    @property
    def profile(self) -> Profile:
        found = self.profiles.get(self.profile_name)
        if found is None:
            raise UsageError(f"Unknown profile {self.profile_name!r}; known: {', '.join(self.profiles.names())}.")
        return found

    def model(self, kind: str, chosen: str | None = None, *, about_to_use: bool = True) -> str:
        """The model to use: the flag, else `%config OAIMagics.<kind>_model`, else the profile's.
        One `about_to_use` gets a line when the server's listing says it is (nearly) shut down."""
        configured = getattr(self.settings, f"{kind}_model", "")
        name = chosen or configured or self.profile.model(kind)
        if about_to_use:
            self.last_model = (kind, name)
            for line in self.watch.used(self.profile_name, kind, name):
                print(line)
        return name

    def model_notes(self) -> None:
        """Lines for models used in this magic whose listing came while it ran."""
        for line in self.watch.notes():
            print(line)

    def use(self, name: str) -> Profile:
        if self.profiles.get(name) is None:
            raise UsageError(f"Unknown profile {name!r}; known: {', '.join(self.profiles.names())}.")
        self.profile_name = name
        self._drop_client()
        self.rate_limits = {}  # another server's limits
        return self.profile

    def server(self, profile: Profile) -> str:
        """Where a profile's requests go, for showing: in words when it is not a URL yet, and with a
        user or password written into the URL (a gateway's token) masked."""
        if profile.sandbox:
            return self.sandbox.base_url if self.sandbox is not None else "the embedded sandbox (starts on first use)"
        from ..client.urls import without_userinfo  # the client loads on first use

        return without_userinfo(profile.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1")

    def set_key(self, key: str) -> None:
        from ..client.secret import Secret

        self._typed_keys[self.profile_name] = Secret(key)
        self._drop_client()

    def key_source(self) -> str:
        """Where the active key comes from, never the key itself."""
        profile = self.profile
        if profile.sandbox:
            return "the embedded sandbox"
        if self.profile_name in self._typed_keys:
            return "typed with %oai key"
        if profile.key_env and os.environ.get(profile.key_env):
            return f"${profile.key_env}"
        return "none"

    @property
    def client(self) -> "Client":
        if self._client is None:
            self._client = self._connect()
        return self._client

    @contextlib.contextmanager
    def client_for(self, server: str, what: str) -> Iterator["Client"]:
        """A client for `server` (a URL as the stores keep it, without user info), for work begun
        there (`what`, "job job-1"): the active one when it points there, else one for the profile
        that does, with that profile's key (closed afterwards); else a one-line error saying which
        profile to add or use. While replaying, the active one: the recording answers for every server."""
        if self.replaying or self.server(self.profile) == server:
            yield self.client
            return
        for profile in self.profiles:
            if self.server(profile) == server:  # a sandbox not started has no URL yet: never a match
                client = self._new_client(profile)
                client.listeners.append(self._log)  # its requests are rows of %oai usage too
                try:
                    yield client
                finally:
                    client.close()
                return
        raise UsageError(f"{what} was sent to {server}, and no profile here points there: add one with "
                         f"`%oai profile add NAME --base-url URL`, then `%oai use NAME`")

    def _connect(self) -> "Client":
        client = self._new_client()
        client.listeners.append(self._log)
        client.response_observers.append(self._hear_limits)
        # The listing behind the shutdown notes, on a client of its own: not a row of %oai usage, nor
        # of a recording (the notebook never asked for it); a replay has no server to ask.
        if not self.replaying:
            self.watch.start(self.profile_name, self._new_client(taped=False))
        return client

    def _new_client(self, profile: Profile | None = None, taped: bool = True) -> "Client":
        """A client for `profile` (the active one by default), with its key; through the recording or
        replay in use unless `taped` is False."""
        from ..client import Client
        from ..client.transport import DEFAULT_MAX_CONNECTIONS as DEFAULT_CONNECTIONS

        profile = profile or self.profile
        transport = self.tape.transport(DEFAULT_CONNECTIONS) if self.tape is not None and taped else None
        if self.replaying:  # answered from the recording: no key, no sandbox, no network
            return Client(api_key=None, base_url=profile.base_url or REPLAY_URL, timeout=self.settings.timeout,
                          max_retries=self.settings.max_retries, transport=transport)
        if profile.sandbox:
            sandbox = self.start_sandbox()
            client = Client(api_key=sandbox.api_key, base_url=sandbox.base_url, timeout=self.settings.timeout,
                            max_retries=self.settings.max_retries, transport=transport)
        else:
            typed = self._typed_keys.get(profile.name)
            key = typed.value if typed else (os.environ.get(profile.key_env) if profile.key_env else None)
            if not key:
                raise UsageError(NO_KEY.format(name=profile.name, env=profile.key_env or "OPENAI_API_KEY"))
            client = Client(api_key=key, base_url=profile.base_url, timeout=self.settings.timeout,
                            max_retries=self.settings.max_retries, transport=transport)
        return client

    def start_sandbox(self) -> "Sandbox":
        if self.sandbox is None:
            try:
                from ..sandbox import start
            except ImportError as exc:
                raise UsageError(f"The sandbox needs its extra: pip install 'oai-magics[sandbox]' ({exc.name} is missing).") from None
            settings = self.settings
            self.sandbox = start(token_delay=settings.sandbox_token_delay, run_delay=settings.sandbox_run_delay,
                                 job_delay=settings.sandbox_job_delay, run_expiry=settings.sandbox_run_expiry)
        return self.sandbox

    def settings_changed(self) -> None:
        """A client setting (timeout, retries) changed: the next request goes through a client built with it."""
        self._drop_client()

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def mcp(self) -> "McpHub":
        """The local MCP servers of `%oai mcp add`, made on first use (the `mcp` SDK loads when one starts)."""
        if self._mcp is None:
            from ..mcp.hub import McpHub

            self._mcp = McpHub()
        return self._mcp

    def close(self) -> None:
        self.watch.close()
        if self._mcp is not None:
            self._mcp.close()
            self._mcp = None
        self._drop_client()
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def _log(self, record: Any) -> None:
        """One row of `%oai usage` per finished request (a stream finishes when it ends), with its
        cost, when it ended, and the cell it ran in (`%oai usage --since`)."""
        from ..prices import token_count

        usage = record.usage
        batch = self._batch_read(record)
        # A count a bad server got wrong (text, below 0, past any int64) is left out, as a missing one is.
        tokens = {name: token_count(usage.get(name, usage.get(alias))) for name, alias in TOKEN_NAMES.items()}
        self.records.append({"model": record.model, "method": record.method, "path": record.path,
                             "status": record.status, "seconds": round(record.seconds, 3),
                             **{name: value for name, value in tokens.items() if value is not None},
                             "cost": self.prices.cost(record.model, usage, batch=batch is not None),
                             "request_id": record.request_id, "retries": record.retries,
                             "at": datetime.now(timezone.utc), "cell": self.cell(), "batch": batch})

    def _batch_read(self, record: Any) -> str | None:
        """The Batch `record` read (None for any other request). A Batch object carries its whole
        job's usage so far, so each read of it tells that again: the rows of earlier reads lose theirs."""
        found = _BATCH.fullmatch(record.path)
        if found is None or not record.usage:
            return None
        for earlier in self.records:
            if earlier.get("batch") == found.group(1):
                for name in TOKEN_NAMES:
                    earlier.pop(name, None)
                earlier["cost"] = None
        return found.group(1)

    def _hear_limits(self, status: int, headers: Any) -> None:
        """Keep the rate-limit headers of the latest answer that carried them (for job estimates)."""
        limits = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ratelimit-")}
        if limits:
            self.rate_limits = limits

    def cell(self) -> int:
        """The number of the cell running now, as its prompt shows it. IPython counts the next cell
        while one runs, and numbers the running one's Out[] by `displayhook.prompt_count` (one less)."""
        shell = getattr(self.settings, "shell", None)
        return max(int(getattr(getattr(shell, "displayhook", None), "prompt_count", 0) or 0), 0)

    # -- prices ------------------------------------------------------------------------------------
    @property
    def prices(self) -> "PriceTable":
        """The package's price table with `%config OAIMagics.prices` over it (rebuilt when that changes)."""
        if self._prices is None:
            from ..prices import PriceError, builtin, read_overrides

            try:  # a file is read again here; changed since %config checked it, it must not cost an answer
                overrides = read_overrides(self.settings.prices)
            except PriceError as exc:
                print(f"{exc}; the package's prices are used until it is set again", file=sys.stderr)
                overrides = {}
            self._prices = builtin().with_overrides(overrides)
        return self._prices

    def prices_changed(self) -> None:
        self._prices = None

    def cost(self, model: str | None, usage: dict | None) -> float | None:
        """Dollars for one answer, or None (no price for the model, or no usage)."""
        return self.prices.cost(model, usage)

    # -- conversations -----------------------------------------------------------------------------
    def conversation(self, name: str, new: bool = False, system: str | None = None) -> "ChatMemory":
        from ..chat_memory import ChatMemory

        if new or name not in self.conversations:
            self.conversations[name] = ChatMemory(name, system)
        elif system is not None:
            self.conversations[name].system = system
        return self.conversations[name]
