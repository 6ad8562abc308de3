"""The reference client's functions (openai.ex 0.6.2, listed in tests/data/reference_functions.txt)
and the README's table that maps each of them to a method of oai_magics.client."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "data" / "reference_functions.txt"


def reference_functions() -> set[str]:
    """Every public function name documented in the reference."""
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    return {line.split("|", 1)[0].strip() for line in lines if line.strip() and not line.startswith("#")}


def readme_table() -> dict[str, str]:
    """README rows `| `function(args)` | `client.x.y` | ... |` as {function name: method path}."""
    table: dict[str, str] = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([a-z_]+)\(([^`]*)\)`\s*\|\s*`client\.([a-z_.]+)`", line)
        if match:
            table.setdefault(match.group(1), match.group(3))
            table[f"{match.group(1)}({match.group(2)})"] = match.group(3)
    return table


README_TABLE = readme_table()
