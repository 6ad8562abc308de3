"""The README stays true to the code: every setting is in its table, and every picture it shows exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def test_the_settings_table_lists_every_setting_and_its_default() -> None:
    from oai_magics.magics.oai import OAIMagics

    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", section("Settings"), flags=re.M))
    traits = OAIMagics.class_traits(config=True)
    assert set(rows) == set(traits)
    for name, trait in traits.items():
        default = trait.default_value
        if isinstance(default, (str, int, float, bool)):
            assert rows[name] == repr(default).replace("'", '"'), name


def test_every_picture_the_readme_shows_is_committed() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert pictures
    assert [p for p in pictures if not (ROOT / p).is_file()] == []
