"""The types of magic options, each read and checked as the line is parsed, before any request:
ids, model names, `-o` variable names, counts in a range, finite numbers, separate words.
`arguments.py` exports them beside the parsers; a bad value is one usage line naming the option."""

from __future__ import annotations

import argparse
import keyword
import math
from typing import Callable

__all__ = ["an_id", "a_name", "a_word", "a_model", "at_least", "a_number", "WORKERS"]


def an_id(text: str) -> str:
    """An `@argument(type=an_id)` for server ids: an empty one is a usage error, not a request."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an id cannot be empty")
    return text


def a_name(text: str) -> str:
    """An `@argument(type=a_name)` for `-o NAME`: a Python name, said before any request (a result
    paid for and then refused its variable would be lost). A keyword (`class`) is a name no cell can read."""
    if not text.isidentifier() or keyword.iskeyword(text):
        raise argparse.ArgumentTypeError(f"-o needs a Python name, got {text!r}")
    return text


def a_word(text: str) -> str:
    """An `@argument(type=a_word, nargs="+")` for a last positional whose words are separate values
    (`CALL=OUTPUT` pairs), not free text: each word is one value, and options may stand among them."""
    return text


def a_model(text: str) -> str:
    """An `@argument(type=a_model)` for `-m/--model`: an empty name would quietly mean the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a model name cannot be empty (leave the option out for the default model)")
    return text


def at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An `@argument(type=at_least(1))` (or `at_least(1, 48)`) for counts: a whole number in the
    range, said before any request. Outside it, one usage line names the flag and the range, rather
    than a value quietly bent to fit."""
    span = f" from {minimum:,} to {maximum:,}" if maximum is not None else ""

    def a_count(text: str) -> int:
        shown = text if len(text) <= 20 else text[:12] + "…"  # a run of 5,000 digits stays one short line
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number{span}, got {shown!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected a whole number{span}, got {shown}" if span else
                                             f"expected {minimum} or more, got {shown}")
        return value

    return a_count


def a_number(text: str) -> float:
    """An `@argument(type=a_number)` for sampling settings: NaN and infinities are no JSON a server
    accepts, so they are a usage error here rather than a broken request."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


# Requests one job keeps in flight (`--workers`): the client's pool of 64 connections holds them
# with room for streams beside them, and a server or rate limit rarely rewards more.
WORKERS = at_least(1, 48)
