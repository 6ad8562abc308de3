"""What every magic shares: one-line errors, `--param key=value`, storing results."""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic import Magics
from IPython.core.magic_arguments import parse_argstring
from IPython.utils.process import arg_split

__all__ = ["SessionMagics", "friendly", "parse", "parse_params", "publish", "read_variable"]


class SessionMagics(Magics):
    """A family of magics that shares the extension's session (profile, client, history)."""

    shell: Any  # always set: these magics are only made for a running shell

    def __init__(self, shell: Any, session: Any) -> None:
        super().__init__(shell)
        self.session = session


def _unquote(value: Any) -> Any:
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


class HelpShown(Exception):
    """`--help` was asked for and printed: the magic has nothing more to do."""


def parse(magic: Callable[..., Any], line: str, intermixed: bool = False) -> Any:
    """The magic's own @magic_arguments parser, with quotes removed from quoted values
    (IPython's splitter keeps them: `-s 'Be brief'` would otherwise send the quotes).
    `-h` / `--help` prints the parser's help (IPython's parsers have no help flag of their own).
    `intermixed`: options may also stand between the words of a free-text positional."""
    try:
        if {"-h", "--help"} & set(arg_split(line)):
            print(getattr(magic, "parser").format_help().lstrip(":\n"))
            raise HelpShown()
        if intermixed:
            args = getattr(magic, "parser").parse_intermixed_args(arg_split(line))
        else:
            args = parse_argstring(magic, line)
    except ValueError as exc:  # shlex: an unclosed quote, say
        raise UsageError(f"cannot read the arguments: {exc}") from None
    for name, value in vars(args).items():
        setattr(args, name, _unquote(value))
    return args


def friendly(method: Callable[..., Any]) -> Callable[..., Any]:
    """API errors and bad local input become one UsageError line (unless short_errors is off)."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        from ..client import OpenAIError  # the client loads on first use, not at %load_ext

        try:
            return method(self, *args, **kwargs)
        except HelpShown:
            return None
        except OpenAIError as exc:
            if self.session.settings.short_errors:
                raise UsageError(f"{type(exc).__name__}: {exc}") from None
            raise
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise UsageError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None

    return wrapper


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """`--param key=value` pairs; values are JSON when they parse as JSON, text otherwise."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param expects key=value, got {pair!r}")
        try:
            params[key.strip()] = json.loads(raw)
        except ValueError:
            params[key.strip()] = raw
    return params


def publish(shell: Any, value: Any, name: str | None) -> None:
    """Store a result that was already displayed: in `name` (-o) and in `_`, without showing it again."""
    if name:
        if not name.isidentifier():
            raise UsageError(f"-o needs a Python name, got {name!r}")
        shell.user_ns[name] = value
    shell.displayhook.update_user_ns(value)


def read_variable(shell: Any, name: str) -> Any:
    if name not in shell.user_ns:
        raise UsageError(f"There is no variable named {name!r}.")
    return shell.user_ns[name]
