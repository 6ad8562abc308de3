"""%oai: configuration (profiles, key, defaults) and the session's history and usage.

The class also holds every default as a traitlet, so `%config OAIMagics` lists them and
`%config OAIMagics.chat_model = "gpt-4o"` changes them. Subcommands are a table
(`oai_table.ROUTER`): those defined here, and the modules imported below, each registering its own.
"""

from __future__ import annotations

import getpass
import math
import os
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
from traitlets import Any as AnyTrait, Bool, Dict, Float, Int, TraitError, Unicode, observe, validate

from ..assistants.names import BACKENDS as API_CHOICES
# Each subcommand module registers its subcommands on ROUTER when imported.
from . import oai_api, oai_files, oai_finetunes, oai_jobs, oai_mcp, oai_record, oai_usage  # noqa: F401
from . import profiles
from .arguments import argument, magic_arguments
from .common import friendly
from .oai_table import ROUTER
from .session import Session

__all__ = ["OAIMagics", "ROUTER"]


class Seconds(Float):
    """A number of seconds: finite, and at least `min` (NaN passes a bare `min` check, and a wait
    for NaN or infinite seconds never ends)."""

    def validate(self, obj: Any, value: Any) -> float:
        value = super().validate(obj, value)
        if not math.isfinite(value):
            raise TraitError(f"The value of the {self.name!r} trait must be a finite number of seconds, "
                             f"but {value} was specified")
        return value


@magics_class
class OAIMagics(Magics):
    """The %oai magic, and the settings every oai_magics magic reads."""

    profile = Unicode("openai", help="The profile used when the extension loads (openai, sandbox, or your own).").tag(config=True)
    profiles = Dict(help="Extra profiles: {name: {base_url, key_env, chat_model, embedding_model, ...}}.").tag(config=True)
    short_errors = Bool(True, help="Show API errors as one line instead of a traceback.").tag(config=True)
    chat_model = Unicode("", help="Default chat model (empty: the profile's).").tag(config=True)
    completion_model = Unicode("", help="Default legacy completion model (empty: the profile's).").tag(config=True)
    embedding_model = Unicode("", help="Default embedding model (empty: the profile's).").tag(config=True)
    image_model = Unicode("", help="Default image model (empty: the profile's).").tag(config=True)
    speech_model = Unicode("", help="Default text-to-speech model (empty: the profile's).").tag(config=True)
    transcription_model = Unicode("", help="Default transcription model (empty: the profile's).").tag(config=True)
    moderation_model = Unicode("", help="Default moderation model (empty: the profile's).").tag(config=True)
    edit_model = Unicode("", help="Default legacy edit model (empty: the profile's).").tag(config=True)
    timeout = Seconds(120.0, min=0.001, max=86400.0, help="Seconds to wait for an answer before giving up.").tag(config=True)
    max_retries = Int(2, min=0, help="Retries of failed requests (connection errors, 429, 5xx).").tag(config=True)
    run_timeout = Seconds(600.0, min=0.0, help="Seconds %assistant run and the run builder wait for a run that is polled "
                        "(not streamed, or after its stream broke off) before giving up; the run goes on at the "
                        "server.").tag(config=True)
    table_rows = Int(50, min=1, help="Rows of a DataFrame or Series that {{name}} puts into a prompt (%%chat, "
                     "%%chat --each, %assistant run and messages add, %image) as a Markdown table; one line says how "
                     "many more there are.").tag(config=True)
    render_interval = Seconds(0.15, min=0.0, help="Seconds between re-renders of a streaming reply.").tag(config=True)
    prices = AnyTrait({}, help="Prices over the package's table (dollars per million tokens, as OpenAI's pricing page "
                       "writes them): a dict such as {'gpt-4.1-mini': {'input': 0.4, 'cached_input': 0.1, "
                       "'output': 1.6}}, or the path of a JSON or TOML file holding one.").tag(config=True)
    estimate_over = Int(1000, min=1, help="%embed of more texts than this says what it will cost before sending "
                        "(%%chat --each and --batch always do).").tag(config=True)
    confirm_over = Float(1.0, min=0.0, help="Dollars: a job estimated above this asks before it sends anything "
                         "(--yes skips the question).").tag(config=True)
    cache_path = Unicode("", help="The embedding cache file (empty: embeddings.sqlite in $OAI_MAGICS_CACHE_DIR, "
                                  "else the user's cache folder).").tag(config=True)
    # The embedded sandbox reads these on every request: a change applies to the running one at once.
    sandbox_token_delay = Seconds(0.02, min=0.0, help="Seconds between streamed chunks of the embedded sandbox "
                                "(0 streams at full speed). Applies at once, also to a running sandbox.").tag(config=True)
    sandbox_run_delay = Seconds(0.5, min=0.0, help="Seconds an assistant run or background response of the embedded "
                              "sandbox spends queued and in progress. Applies at once.").tag(config=True)
    sandbox_job_delay = Seconds(1.0, min=0.0, help="Seconds a legacy fine-tune or batch of the embedded sandbox spends in "
                              "each of its waiting states. Applies at once.").tag(config=True)
    sandbox_run_expiry = Seconds(600.0, min=0.0, help="Seconds an assistant run of the embedded sandbox waits for tool "
                               "outputs before it expires. Applies at once.").tag(config=True)

    def __init__(self, shell: Any) -> None:
        super().__init__(shell, config=shell.config)
        self.session = Session(self)
        self._register_profiles(self.profiles)

    @observe("sandbox_token_delay", "sandbox_run_delay", "sandbox_job_delay", "sandbox_run_expiry")
    def _on_sandbox_setting(self, change: Any) -> None:
        sandbox = getattr(getattr(self, "session", None), "sandbox", None)
        if sandbox is not None:
            setting = change["name"].removeprefix("sandbox_")
            sandbox.configure(**{setting: change["new"]})
            print(f"the running sandbox now uses {setting} = {change['new']:g} s")

    @observe("timeout", "max_retries")
    def _on_client_setting(self, change: Any) -> None:
        if hasattr(self, "session"):  # the client in use was built with the old value: the next request builds anew
            self.session.settings_changed()

    @validate("prices")
    def _check_prices(self, proposal: Any) -> Any:
        from ..prices import PriceError, read_overrides

        try:  # read now, so a bad table or file is one line at %config, not at the next reply
            read_overrides(proposal["value"])
        except PriceError as exc:  # a TraitError: traitlets then puts the value it had back
            raise TraitError(str(exc)) from None
        return proposal["value"]

    @observe("prices")
    def _on_prices(self, change: Any) -> None:
        if hasattr(self, "session"):
            self.session.prices_changed()

    @observe("profiles")
    def _on_profiles(self, change: Any) -> None:
        if hasattr(self, "session"):  # while traitlets applies the config, __init__ registers them next
            self._register_profiles(change["new"])

    def _register_profiles(self, entries: dict) -> None:
        for name, values in (entries or {}).items():
            try:
                self.session.profiles.register(profiles.from_config(name, dict(values)))
            except (TypeError, ValueError) as exc:
                raise UsageError(f"OAIMagics.profiles: {exc}") from None

    @friendly
    @no_var_expand
    @line_magic
    def oai(self, line: str) -> Any:
        """Configuration and the rest of the API: `%oai help` lists the subcommands."""
        return ROUTER.dispatch(self, line)


@ROUTER.command("config")
@magic_arguments(name="oai config")
def show_config(magics: OAIMagics, args: Any) -> None:
    """Show the profile, server, key source (never the key) and default models."""
    session = magics.session
    profile = session.profile
    lines = [f"profile   {profile.name}", f"server    {session.server(profile)}", f"api key   {session.key_source()}"]
    if session.tape is not None:
        lines.append(f"requests  {oai_record.describe(session.tape)}")
    from .. import model_defaults

    for kind in model_defaults.kinds():
        lines.append(f"{kind + ' model':<22}{session.model(kind, about_to_use=False)}" + ("  (legacy)" if model_defaults.is_legacy(kind) else ""))
    lines.append(f"short errors          {magics.short_errors}")
    print("\n".join(lines))


@ROUTER.command("key")
@magic_arguments(name="oai key")
@argument("--env", metavar="VAR", help="take the key from this environment variable instead of asking")
def set_key(magics: OAIMagics, args: Any) -> None:
    """Enter the API key for the active profile (asked for without echo, kept in memory only)."""
    if args.env:
        key = os.environ.get(args.env, "")
        if not key:
            raise UsageError(f"${args.env} is not set")
    else:
        key = getpass.getpass(f"API key for profile {magics.session.profile_name!r} (not shown): ").strip()
    if not key:
        raise UsageError("No key entered; nothing changed.")
    magics.session.set_key(key)
    print(f"key set for profile {magics.session.profile_name!r} ({len(key)} characters)")


@ROUTER.command("use")
@magic_arguments(name="oai use")
@argument("name", help="a profile name; 'auto' = openai when $OPENAI_API_KEY is set, else sandbox")
def use_profile(magics: OAIMagics, args: Any) -> None:
    """Switch profile: `%oai use sandbox` starts the local sandbox; `%oai use auto` picks for you."""
    name = args.name
    if name == "auto":
        name = "openai" if os.environ.get("OPENAI_API_KEY") else "sandbox"
    profile = magics.session.use(name)
    if profile.sandbox and magics.session.replaying:  # its answers come from the recording: none is started
        print("using the oai_magics sandbox's recorded answers (replayed: no sandbox started, no key needed)")
    elif profile.sandbox:
        sandbox = magics.session.start_sandbox()
        print(f"using the oai_magics sandbox at {sandbox.base_url} (no key needed; answers are generated locally)")
    else:
        source = magics.session.key_source()
        key = (f"key from {source}" if source != "none" else
               f"no API key yet: type one with %oai key, or set ${profile.key_env or 'OPENAI_API_KEY'} and run %oai use {name} again")
        print(f"using profile {name!r} ({magics.session.server(profile)}; {key})")
    from .assistant_backend import describe_backend

    print(describe_backend(magics.session))


@ROUTER.command("profiles", listing=True)
@magic_arguments(name="oai profiles")
def list_profiles(magics: OAIMagics, args: Any) -> Any:
    """The known profiles as a DataFrame."""
    import pandas as pd

    from .. import model_defaults

    # Each profile's model per kind: its own choice, else the package's default.
    rows = [{"name": p.name, "active": p.name == magics.session.profile_name, "base_url": magics.session.server(p),
             "key_env": p.key_env, "sandbox": p.sandbox, **{f"{k}_model": p.model(k) for k in model_defaults.kinds()}}
            for p in magics.session.profiles]
    return pd.DataFrame(rows).set_index("name")


@ROUTER.command("profile")
@magic_arguments(name="oai profile")
@argument("action", choices=["add"], help="what to do")
@argument("name", help="the new profile's name")
@argument("--base-url", required=True, help="the server's API root, e.g. http://localhost:11434/v1")
@argument("--key-env", help="the environment variable holding its key (none: a key is asked with %%oai key)")
@argument("--chat-model", help="its default chat model")
@argument("--embedding-model", help="its default embedding model")
@argument("--image-model", help="its default image model")
@argument("--assistants-api", choices=API_CHOICES,
          help="the API %%assistant uses on it (default: found by asking the server once)")
def add_profile(magics: OAIMagics, args: Any) -> None:
    """Register a profile for another OpenAI-compatible server."""
    from ..client.urls import is_web_address

    if not is_web_address(args.base_url):
        raise UsageError("--base-url must start with http:// or https://, e.g. http://localhost:11434/v1")
    profile = profiles.Profile(args.name, base_url=args.base_url, key_env=args.key_env,
                               assistants_api=args.assistants_api).with_models(
        chat=args.chat_model, embedding=args.embedding_model, image=args.image_model)
    magics.session.profiles.register(profile)
    print(f"profile {args.name!r} added; switch to it with %oai use {args.name}")


@ROUTER.command("history", listing=True)
@magic_arguments(name="oai history")
@argument("-c", "--conversation", default="default", help="which conversation (default: 'default')")
def history(magics: OAIMagics, args: Any) -> Any:
    """A conversation's messages as a DataFrame."""
    import pandas as pd

    conversation = magics.session.conversations.get(args.conversation)
    if conversation is None:
        known = ", ".join(magics.session.conversations) or "none yet"
        raise UsageError(f"No conversation named {args.conversation!r} (known: {known}).")
    frame = pd.DataFrame(conversation.rows(), columns=["turn", "role", "content", "model", "at", "interrupted"])
    # Proper dtypes even for an empty conversation; rows without a model show None, not NaN.
    model = frame["model"].astype(object)
    return frame.astype({"turn": "int64", "interrupted": "bool"}).assign(
        model=model.where(model.notna(), None), at=pd.to_datetime(frame["at"], utc=True))
