"""What the server's models listing says about the models a session uses.

The listing (`GET /models`, which carries each model's `shutdown_date`) is fetched at most once per
profile per session (once more when it failed and the profile's client is made anew, as a new key
makes it), by a background thread started when the profile's client is made, on a client of its
own: it never delays a reply, and it is not a row of `%oai usage`. (`%oai models` refreshes it.)
It feeds two one-line notes:
- a model about to be used that is past its shutdown date or within 30 days of it: the date, and
  how to choose another (said once per model and profile);
- after a `model_not_found` answer: the models of that kind the server does list, and the setting
  that picks one.
A listing that cannot be had (no such route, a failure) means no notes, and nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from ..client import Client

__all__ = ["ModelWatch", "SOON"]

SOON = dt.timedelta(days=30)  # a shutdown this close is worth a line before each new use
_SHOWN = 6  # models named in a model_not_found line before "and N more"
# A model id a note may suggest: one a user can type after -m and inside %config's quotes (a
# listing may hold any text, and a line break would split the one-line note).
TYPABLE = re.compile(r"[\w.:/@+-]+")


@dataclass
class _Listing:
    done: threading.Event = field(default_factory=threading.Event)
    models: dict[str, dict] | None = None  # id -> model object; None until (unless) it came
    client: Any = None
    thread: threading.Thread | None = None


class ModelWatch:
    """One session's model listings, by profile, and the notes already given."""

    def __init__(self) -> None:
        self._listings: dict[str, _Listing] = {}
        self._pending: list[tuple[str, str, str]] = []  # (profile, kind, model) used before the listing came
        self._noted: set[tuple[str, str]] = set()

    # -- the listing -----------------------------------------------------------------------------
    def start(self, profile: str, client: "Client") -> None:
        """Fetch `profile`'s listing in the background with `client` (closed when done), unless it
        came before or is on its way. One that failed is asked for again: the profile's client is
        made anew when its key or settings change, and a refused key is the common failure."""
        known = self._listings.get(profile)
        if known is not None and (known.models is not None or not known.done.is_set()):
            client.close()
            return
        listing = self._listings[profile] = _Listing(client=client)
        listing.thread = threading.Thread(target=self._fetch, args=(listing,), name=f"oai-models-{profile}", daemon=True)
        listing.thread.start()

    @staticmethod
    def _fetch(listing: _Listing) -> None:
        try:
            listing.models = _by_id(listing.client.models.list())
        except Exception:  # no listing, no notes: the magics work as before
            pass
        finally:
            listing.client.close()
            listing.done.set()

    def store(self, profile: str, items: Iterable[dict]) -> None:
        """A listing fetched in the open (`%oai models`): the freshest there is."""
        listing = self._listings.setdefault(profile, _Listing())
        listing.models = _by_id(items)
        listing.done.set()

    def ready(self, profile: str) -> threading.Event | None:
        """Set when `profile`'s listing has come (or failed); None when it was never asked for."""
        listing = self._listings.get(profile)
        return listing.done if listing is not None else None

    def models(self, profile: str) -> dict[str, dict] | None:
        """`profile`'s listing by id, or None when it is not (yet) known. Never waits."""
        listing = self._listings.get(profile)
        return listing.models if listing is not None and listing.done.is_set() else None

    def close(self) -> None:
        """Abort listings still in flight (their clients close) and let their threads end."""
        for listing in self._listings.values():
            if listing.thread is not None and not listing.done.is_set():
                listing.client.close()
                listing.thread.join(timeout=5)

    # -- shutdown notes ----------------------------------------------------------------------------
    def used(self, profile: str, kind: str, model: str) -> list[str]:
        """A model about to be used: its note when the listing says it is (nearly) shut down."""
        self._pending.append((profile, kind, model))
        return self.notes()

    def notes(self, today: dt.date | None = None) -> list[str]:
        """Notes for the models used so far whose listing has come; each model is noted once per profile."""
        today = today or dt.datetime.now(dt.timezone.utc).date()
        lines, waiting = [], []
        for profile, kind, model in self._pending:
            listed = self.models(profile)
            if listed is None:
                if self.ready(profile) is not None and not self.ready(profile).is_set():
                    waiting.append((profile, kind, model))  # it may still come: look again after the magic
                continue
            if (profile, model) in self._noted:
                continue
            line = shutdown_note(kind, model, listed, today)
            if line:
                self._noted.add((profile, model))
                lines.append(line)
        self._pending = waiting
        return lines


def _by_id(items: Iterable[Any]) -> dict[str, dict]:
    return {item["id"]: item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)}


def shutdown_of(model: dict | None) -> dt.date | None:
    """A listed model's shutdown date (None when it has none, or one no date parser reads)."""
    text = (model or {}).get("shutdown_date")
    try:
        return dt.date.fromisoformat(text[:10]) if isinstance(text, str) else None
    except ValueError:
        return None


def shutdown_note(kind: str, model: str, listed: dict[str, dict], today: dt.date) -> str | None:
    """One line when `model` is past its shutdown date or within `SOON` of it, else None."""
    date = shutdown_of(listed.get(model))
    if date is None or date - today > SOON:
        return None
    days = (date - today).days
    when = (f"was shut down on {date}" if days < 0 else "shuts down today" if days == 0 else
            f"shuts down on {date}, in {days} day{'s' if days != 1 else ''}")
    return f"note: {model} {when} (the server's models list says so); {how_to_choose(kind, model, listed, today)}"


def alternatives(kind: str, listed: dict[str, dict], today: dt.date, but: str = "") -> list[str]:
    """Listed models of `kind` not near their end: the preferred ones first (in their order), then the rest by name."""
    from .. import model_defaults

    usable = [m for m in listed if m != but and TYPABLE.fullmatch(m) and model_defaults.kind_of(m) == kind and
              (shutdown_of(listed[m]) is None or shutdown_of(listed[m]) - today > SOON)]
    preferred = [m for m in model_defaults.preferred(kind) if m in usable]
    return preferred + sorted(set(usable) - set(preferred))


def how_to_choose(kind: str, model: str, listed: dict[str, dict], today: dt.date) -> str:
    others = alternatives(kind, listed, today, but=model)
    example = others[0] if others else "MODEL"
    return (f"choose another {kind} model with -m {example}, or for the session "
            f"%config OAIMagics.{kind}_model = '{example}'" + ("" if others else " (%oai models lists them)"))


def not_found_note(kind: str, model: str, listed: dict[str, dict] | None, today: dt.date | None = None) -> str:
    """What to say after the server answered `model_not_found` for `model`."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    if not listed:
        return f"pick another {kind} model with -m MODEL or %config OAIMagics.{kind}_model (%oai models lists them)"
    others = alternatives(kind, listed, today, but=model)
    if not others:
        return f"the server lists no other {kind} model (%oai models shows what it has)"
    more = f" and {len(others) - _SHOWN} more" if len(others) > _SHOWN else ""
    return (f"the server's {kind} models: {', '.join(others[:_SHOWN])}{more}; pick one with -m {others[0]} "
            f"or %config OAIMagics.{kind}_model = '{others[0]}'")
