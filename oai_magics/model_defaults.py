"""The models used when neither a flag, `%config OAIMagics.<kind>_model` nor the profile names one.

They live in one data file, `data/models.json`: per kind, the preferred OpenAI models in order (the
first is the default, the next ones are what a warning suggests when it is retired), with the date
they were checked and the specification they were checked against. The file is read on first use,
never at `%load_ext`. Beside them, the reasoning efforts today's API takes (for `--reasoning`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["kinds", "preferred", "default", "is_legacy", "provenance", "kind_of", "REASONING_EFFORTS"]

# ReasoningEffort in the same specification (not every reasoning model takes every value).
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return json.loads(resources.files("oai_magics").joinpath("data/models.json").read_text(encoding="utf-8"))


def kinds() -> list[str]:
    """Every kind of model a magic asks for, in the file's order (chat, image, ... edit)."""
    return list(_table()["kinds"])


def preferred(kind: str) -> list[str]:
    """The preferred models of a kind, best first."""
    return list(_table()["kinds"][kind]["models"])


def default(kind: str) -> str:
    return _table()["kinds"][kind]["models"][0]


def is_legacy(kind: str) -> bool:
    """A kind only legacy endpoints take (completions, edits)."""
    return bool(_table()["kinds"][kind].get("legacy"))


def provenance(kind: str | None = None) -> str:
    """When the defaults were checked, and against what: "checked 2026-12-07 against the OpenAPI ... (f85dbe2)"."""
    table = _table()
    source = (table["kinds"].get(kind) or {}).get("source") or table["source"]
    return f"checked {table['checked']} against the {source['document']} of {source['date']} ({source['commit']})"


def kind_of(model_id: str) -> str | None:
    """The kind of a listed model, told from its id as the file's patterns say (None: no kind a magic uses)."""
    entries = _table()["kinds"]
    for kind, entry in entries.items():
        if entry.get("match") and re.search(entry["match"], model_id):
            return kind
    chat = entries["chat"]
    return None if chat.get("not") and re.search(chat["not"], model_id) else "chat"
