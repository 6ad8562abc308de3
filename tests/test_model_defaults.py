"""The default models: one data file in the package, every name a model of the spec it was checked
against, read on first use, and shipped in the wheel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from oai_magics import model_defaults
from tests.helpers.openapi import ERAS, SPEC_DIR

AGREED = {"chat": "gpt-5.4-mini", "image": "gpt-image-1-mini", "speech": "gpt-4o-mini-tts",
          "transcription": "gpt-4o-mini-transcribe", "embedding": "text-embedding-3-small",
          "moderation": "omni-moderation-latest", "completion": "gpt-3.5-turbo-instruct"}


def model_ids(era: str) -> set[str]:
    """Every name a spec lists in an enum: its model ids among them."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.update(value for value in node.get("enum") or [] if isinstance(value, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads((SPEC_DIR / ERAS[era]).read_text(encoding="utf-8")))
    return found


def era_of(source: dict) -> str:
    """The trimmed spec in tests/data/openapi/ cut from the source a kind names."""
    for era, name in ERAS.items():
        trimmed = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))["info"]["x-trimmed-from"]
        if (trimmed["date"], trimmed["commit"]) == (source["date"], source["commit"]):
            return era
    raise AssertionError(f"no trimmed spec for {source}")


def test_every_default_is_a_model_of_the_spec_it_names() -> None:
    table = json.loads(Path(model_defaults.__file__).with_name("data").joinpath("models.json").read_text())
    assert table["checked"] == "2026-12-07" and era_of(table["source"]) == "2026"
    for kind, entry in table["kinds"].items():
        source = entry.get("source", table["source"])
        missing = set(entry["models"]) - model_ids(era_of(source))
        assert not missing, f"{kind}: {missing} not in the spec of {source['date']}"
        if era_of(source) != "2026":  # only a legacy kind may name a model today's API no longer has
            assert entry.get("legacy"), kind


def test_the_agreed_first_choices_and_the_legacy_kinds() -> None:
    assert {kind: model_defaults.default(kind) for kind in AGREED} == AGREED
    assert [kind for kind in model_defaults.kinds() if model_defaults.is_legacy(kind)] == ["completion", "edit"]
    assert "2026-08-21" in model_defaults.provenance("chat") and "2023-12-22" in model_defaults.provenance("edit")


def test_loading_the_extension_does_not_read_the_file() -> None:
    code = ("import IPython, oai_magics.model_defaults as d; from IPython.core.interactiveshell import InteractiveShell; "
            "InteractiveShell.instance().run_line_magic('load_ext', 'oai_magics'); print(d._table.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == "0"


def test_the_package_data_declares_the_file() -> None:
    """setuptools puts a non-Python file in the wheel only when package-data names it."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    root = Path(__file__).resolve().parents[1]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["oai_magics"]
    data = Path(model_defaults.__file__).parent
    assert any(data.joinpath("data/models.json") in data.glob(pattern) for pattern in declared)


# What an OpenAI model id looks like in prose and code (gpt-5.4-mini, o4-mini, dall-e-3, whisper-1, ...).
MODEL_NAME = re.compile(r"(?<![\w/.-])(gpt-\d[\w.]*(?:-[\w.]+)*|o[1-9](?:-[a-z]+)*|dall-e-\d|text-embedding-[\w-]+|"
                        r"tts-1(?:-hd)?|whisper-1|(?:text-|code-)?davinci[\w-]*|babbage[\w-]*|curie|"
                        r"(?:omni|text)-moderation-[\w-]+|chatgpt-[\w-]+)(?![\w-])")


def test_the_readme_and_notebooks_name_only_models_of_todays_api() -> None:
    """Every model they name is in the 2026 spec; a legacy kind's model (edits) in the spec it was checked against."""
    root = Path(__file__).resolve().parents[1]
    known = model_ids("2026") | {m for kind in model_defaults.kinds() if model_defaults.is_legacy(kind)
                                 for m in model_defaults.preferred(kind)}
    for path in [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]:
        named = set(MODEL_NAME.findall(path.read_text(encoding="utf-8")))
        assert not named - known, f"{path.name}: {sorted(named - known)}"


# Models the 2026 spec still names in its enums but api.openai.com no longer serves (OpenAI removed
# both dall-e models on 2026-05-12): a notebook may use them only in a section headed "Legacy".
RETIRED = ("dall-e-2", "dall-e-3")


def test_a_notebook_uses_a_retired_model_only_under_a_legacy_heading() -> None:
    """With a key, a notebook runs top to bottom on today's API: no cell before its legacy section
    asks for a model that answers model_not_found there (the cells after it would fail too)."""
    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        legacy = False
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            heading = re.match(r"#+ (.*)", source) if cell["cell_type"] == "markdown" else None
            legacy = "legacy" in heading[1].lower() if heading else legacy
            if cell["cell_type"] == "code" and not legacy:
                assert not [m for m in RETIRED if m in source], f"{path.name}: {source!r}"
