"""Argument parsing shared by every magic: parsers built on first use, and a line splitter that
keeps a prompt as it was typed.

`magic_arguments` is a drop-in for IPython's decorator of the same name: IPython builds the
argparse parser (and formats its whole help text) when the module is imported, which made
`%load_ext` pay for every magic and subcommand up front; this one builds it the first time the
magic runs or its help is asked for (`%chat?` reads it through the `getdoc()` hook of IPython's
inspector, `%chat --help` through `parse`).

`parse(magic, line)` reads a line the way a notebook user means it:
- options (`-m gpt-4o`, `--system='Be brief'`, `-n4`, `--max-t 5`) come before the free text, and
  may stand between or after the other words (ids, names); their values lose their shell quotes
  (no backslash escapes: Windows paths stay whole);
- the last positional, when it takes any number of words (a prompt, a text), is free text: it
  is taken from the line as typed from its first word to the end, quotes, dashes and all
  (`%chat What does "foo" mean`, `%chat what does tar -s do`): an option word inside a prompt is
  part of the question, never a setting changed behind the user's back;
- `--` ends the options: everything after it is words;
- only a `-h` / `--help` before the first word asks for the help;
- given the notebook's namespace, `{{name}}` in an option value or a one-word positional (an id, a
  URL) is filled as in prompts, unless the line has `--no-interpolate`; the free text is the magic's.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser, argument, real_name
from IPython.core.magic_arguments import magic_arguments as _eager_magic_arguments

from .argument_types import WORKERS, a_model, a_name, a_number, a_word, an_id, at_least
from .prompts import interpolate

__all__ = ["magic_arguments", "argument", "an_id", "a_name", "a_word", "a_model", "at_least", "WORKERS", "a_number", "parser_of", "help_text",
           "parse", "HelpShown"]

# A word: runs of unquoted text and quoted spans; a lone quote (an apostrophe in "what's") is text.
_TOKEN = re.compile(r"""(?:[^\s"']+|"[^"]*"|'[^']*'|["'])+""")
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
_WORD_END = re.compile(r"\s|$")
_FREE_TEXT = ("*", "+", argparse.REMAINDER)
_PLACEHOLDERS = ("{{name}} (also {{name.attr}}, {{name[0]}}) in an id or an option value is replaced by the "
                 "value of that notebook variable, as in prompts; --no-interpolate (where the magic has it) sends "
                 "braces as they are.")


class HelpShown(Exception):
    """`--help` was asked for and printed: the magic has nothing more to do."""


class _LazyParser:
    """Builds a magic's parser from its `@argument` decorations once, when first needed."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.parser: MagicArgumentParser | None = None

    def get(self) -> MagicArgumentParser:
        if self.parser is None:
            func = self.func
            kwds = dict(getattr(func, "argcmd_kwds", {}))
            kwds.setdefault("description", func.__doc__)
            kwds.setdefault("epilog", _PLACEHOLDERS)
            parser = MagicArgumentParser(real_name(func), **kwds)
            group = None
            for decoration in func.decorators[::-1]:  # in the order they are written in the source
                group = decoration.add_to_parser(parser, group) or group
            self.parser = parser
        return self.parser


class magic_arguments(_eager_magic_arguments):
    """Mark a magic (or a subcommand) as parsed by its `@argument`s; the parser comes on first use."""

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not getattr(func, "has_arguments", False):
            func.has_arguments = True  # type: ignore[attr-defined]
            func.decorators = []  # type: ignore[attr-defined]
        if self.name is not None:
            func.argcmd_name = self.name  # type: ignore[attr-defined]
        lazy = _LazyParser(func)
        func.lazy_parser = lazy  # type: ignore[attr-defined]  # shared by functools.wraps copies
        func.getdoc = lambda: help_text(func)  # type: ignore[attr-defined]  # what `%magic?` shows
        return func


def parser_of(magic: Callable[..., Any]) -> MagicArgumentParser:
    """The parser of a magic decorated with ours (built now if needed) or with IPython's."""
    lazy = getattr(magic, "lazy_parser", None)
    return lazy.get() if lazy is not None else getattr(magic, "parser")


def help_text(magic: Callable[..., Any]) -> str:
    """The magic's help as `%magic -h` prints it (without IPython's RST "::" opening)."""
    return parser_of(magic).format_help().lstrip(":\n")


@dataclass
class _Word:
    text: str
    start: int
    end: int
    as_typed: bool = False  # a JSON value joined from several words: its quotes are its own, not the shell's


def _unquote(text: str, lone_quote_is_text: bool = False) -> str:
    """Shell quotes off an option value or a positional word; backslashes are kept as typed. A word
    with an unclosed quote is an error, or, with `lone_quote_is_text`, the word as typed (`say=it's`)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split, lexer.escape, lexer.commenters = True, "", ""  # `#` is text, not a comment
    lexer.whitespace = ""  # the value is one word already: keep its inner spaces
    try:
        return "".join(lexer)
    except ValueError as exc:  # an unclosed quote
        if lone_quote_is_text:
            return text
        raise UsageError(f"cannot read the arguments: {exc} in {_one_line(text)}") from None


class _Options:
    """The option strings a parser knows, resolved as argparse resolves them (exact, `--name=value`,
    a unique prefix of a long option, a short option with its value attached)."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.by_string = {s: action for action in parser._actions for s in action.option_strings}
        self.longs = [s for s in self.by_string if s.startswith("--")]

    def match(self, text: str) -> tuple[argparse.Action, str | None] | None:
        """(action, its value written in the same word), or None for a word that is no option of ours."""
        if text in self.by_string:
            return self.by_string[text], None
        if text.startswith("--"):
            name, sep, value = text.partition("=")
            found = [self.by_string[name]] if name in self.by_string else [
                self.by_string[s] for s in self.longs if s.startswith(name)]
            if len({id(a) for a in found}) == 1:
                return found[0], (value if sep else None)
            return None
        action = self.by_string.get(text[:2])
        if action is not None and action.nargs != 0:
            return action, text[2:]
        return None


def _looks_like_option(text: str) -> bool:
    return text.startswith("-") and len(text) > 1 and not _NEGATIVE_NUMBER.match(text)


def _option_argv(action: argparse.Action, values: list[str]) -> list[str]:
    """The option in a form argparse cannot misread, whatever its value starts with."""
    name = next((s for s in action.option_strings if s.startswith("--")), action.option_strings[0])
    if "--" in values:  # argparse drops a "--" value and stores an empty list instead
        raise UsageError(f"argument {name}: '--' ends the options, it cannot be a value")
    if len(values) == 1:
        return [f"{name}={values[0]}" if name.startswith("--") else name + values[0]]
    return [name, *values]


def _take_values(action: argparse.Action, words: list[_Word], index: int) -> tuple[list[str], int]:
    """The words an option takes after it, and where the next one starts. A one-value option
    takes the next word whatever it looks like (`-t -1`, `-s -h`), as the user plainly meant."""
    nargs = action.nargs
    if nargs == 0 or index >= len(words) or words[index].text == "--":
        return [], index
    if nargs is None:
        return [words[index].text], index + 1
    if nargs == "?":
        return ([], index) if _looks_like_option(words[index].text) else ([words[index].text], index + 1)
    end = index
    limit = index + nargs if isinstance(nargs, int) else len(words)
    while end < min(limit, len(words)) and not _looks_like_option(words[end].text):
        end += 1
    return [w.text for w in words[index:end]], end


def split_line(parser: argparse.ArgumentParser, line: str, in_text: list[str] | None = None,
               fill: Callable[[str], str] | None = None) -> list[str] | None:
    """The argv for `parser` from a magic's line, or None when the line asks for the help. The
    option words of `parser` found inside the free text (taken as text) are added to `in_text`.
    `fill` is applied to each option value and each single-word positional (not the free text)."""
    positionals = [a for a in parser._actions if not a.option_strings]
    words = _words(line, json_pairs=bool(positionals) and positionals[-1].type is a_word)
    free_text = bool(positionals) and positionals[-1].nargs in _FREE_TEXT and positionals[-1].type is not a_word
    options = _Options(parser)
    read = _read_options(options, words, len(positionals) - 1 if free_text else None)
    if read is None:
        return None
    argv, runs = read
    if fill is not None and any(_says_no_interpolate(options, word) for word in argv):
        fill = None  # the line asks for its braces to be sent as they are
    argv = [fill(word) for word in argv] if fill else argv  # an option is one word with its value here
    flat = [word for run in runs for word in run]
    kept = {id(word) for word in flat}
    explicit = any(word.text == "--" and id(word) not in kept for word in words)  # `--` ended the options
    fixed = len(positionals) - 1 if free_text else len(flat)  # the words before the free text, one each
    words_argv = [w.text if w.as_typed else _unquote(w.text, lone_quote_is_text=True) for w in flat[:fixed]]
    words_argv = [fill(word) for word in words_argv] if fill else words_argv
    if free_text and flat[fixed:]:
        words_argv.append(_raw_text(line, runs, flat[fixed]))
        if in_text is not None and not explicit:  # after `--` the user said it is all text
            in_text += [w.text for w in flat[fixed:] if w.text.partition("=")[0] in options.by_string
                        and w.text not in ("-h", "--help")]
    # "--" keeps argparse from reading a word as an option; only added when needed, as it shows in its errors
    return argv + (["--"] if any(w.startswith("-") for w in words_argv) else []) + words_argv


def _words(line: str, json_pairs: bool = False) -> list[_Word]:
    """The line's words; with `json_pairs`, a `KEY={...}` or `KEY=[...]` pair is one word, from the
    bracket to its match (strings and escapes respected) as typed, so that
    `call_1={"status": "shipped", "eta": "monday"}` is one value."""
    words: list[_Word] = []
    found = _TOKEN.search(line)
    while found:
        word = _Word(found.group(), found.start(), found.end())
        key, sep, value = word.text.partition("=")
        if json_pairs and sep and value.startswith(("{", "[")):
            closed = _matching_bracket(line, word.start + len(key) + 1)
            if closed is None:
                raise UsageError(f"{key}=: the {value[0]} of this output is never closed; "
                                 f"quote the output: {key}='{value[0]}...'")
            stop = _WORD_END.search(line, closed).start()  # to the end of the word the bracket closes in
            word = _Word(line[word.start:stop], word.start, stop, as_typed=True)
        words.append(word)
        found = _TOKEN.search(line, word.end)
    return words


def _matching_bracket(text: str, start: int) -> int | None:
    """Where the JSON value opening at `text[start]` ({ or [) ends (one past its closing bracket), or None."""
    depth, in_string, escaped = 0, False, False
    for position in range(start, len(text)):
        char = text[position]
        if in_string:
            escaped, in_string = (not escaped and char == "\\"), in_string and (escaped or char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return position + 1
    return None


def _says_no_interpolate(options: _Options, word: str) -> bool:
    matched = options.match(word) if word.startswith("--") else None
    return matched is not None and matched[0].dest == "no_interpolate"


def _read_options(options: _Options, words: list[_Word], free_from: int | None) -> tuple[list[str], list[list[_Word]]] | None:
    """The options as argv, and the other words in runs of neighbours (an option between two words
    splits them into two runs); None when a help flag comes before the first word. From the
    free text's first word on (after `free_from` other words), every word is text."""
    argv: list[str] = []
    runs: list[list[_Word]] = []
    index, last_word, seen = 0, -2, 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.text == "--":
            runs.append(words[index:])
            break
        if free_from is not None and seen >= free_from and not _looks_like_option(word.text):
            runs.append(words[index - 1:])  # the free text has begun: options are not read inside it
            break
        matched = options.match(word.text) if _looks_like_option(word.text) else None
        if matched is not None:
            action, value = matched
            values, index = ([value], index) if value is not None else _take_values(action, words, index)
            if not values and action.nargs not in (0, "?", "*"):  # said here: argparse would take a later word
                raise UsageError(f"argument {'/'.join(action.option_strings)}: expected "
                                 f"{'at least one argument' if action.nargs == '+' else 'one argument'}")
            argv += _option_argv(action, [_unquote(v) for v in values]) if values else [word.text]
        elif word.text in ("-h", "--help") and not runs:
            return None
        elif _looks_like_option(word.text) and not runs:
            argv.append(word.text)  # an unknown option before any word: argparse names it in its error
        else:
            if last_word == index - 2:
                runs[-1].append(word)
            else:
                runs.append([word])
            last_word, seen = index - 1, seen + 1
    return argv, runs


def _raw_text(line: str, runs: list[list[_Word]], first: _Word) -> str:
    """The free text from `first` on, as typed: each run of words sliced from the line, runs joined by a space."""
    pieces = []
    for run in runs:
        kept = [w for w in run if w.start >= first.start]
        if kept:
            pieces.append(line[kept[0].start:kept[-1].end])
    return " ".join(pieces)


def parse(magic: Callable[..., Any], line: str, *, intermixed: bool = True, namespace: dict | None = None) -> Any:
    """The magic's arguments from its line (see the module docstring); `-h` prints the help.
    Options may always stand between the words (`intermixed` is accepted for callers that ask for it).
    With the notebook's `namespace`, `{{name}}` in option values and ids is filled from it."""
    parser = parser_of(magic)
    in_text: list[str] = []
    fill = functools.partial(interpolate, namespace=namespace) if namespace is not None else None
    argv = split_line(parser, line, in_text, fill)
    if argv is None:
        print(help_text(magic))
        raise HelpShown()
    if in_text:  # said, so that `%embed hello -o vec` does not quietly embed "-o vec" and set nothing
        print(f"note: {' '.join(dict.fromkeys(in_text))} was read as part of the text: options go before it")
    args, extra = parser.parse_known_args(argv)
    if extra:
        raise UsageError(_unrecognized(parser, extra))
    return args


def _unrecognized(parser: argparse.ArgumentParser, extra: list[str]) -> str:
    """What argparse could not place, as the user wrote it (without the `--` we may have added)."""
    words = [word for word in extra if word != "--"]
    known = [s for action in parser._actions for s in action.option_strings]
    unknown = next((w.partition("=")[0] for w in words if _looks_like_option(w)), None)
    close = difflib.get_close_matches(unknown, known, n=1) if unknown else []
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unrecognized arguments: {_one_line(' '.join(words))} ({hint}%{parser.prog} -h lists what it takes)"


def _one_line(text: str, limit: int = 120) -> str:
    """Typed text quoted in an error: its line breaks shown as \\n, and cut when long."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
