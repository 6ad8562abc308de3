"""A notebook recorded against the sandbox (`python -m oai_magics.demo --record`), then run from its
recording with no sandbox and no network, shows the same outputs; the shipped quick start does so too."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from oai_magics.demo import execute, record, recording_of

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
QUICKSTART = NOTEBOOKS / "01-quickstart.ipynb"
# What may differ between a live run and its replay: how long a call took, and the lines that say
# which of the two is running (the first cell's, `%oai config`'s).
SECONDS = re.compile(r"\d+\.\d+ s\b")
SAYS_WHICH = ("%load_ext", "%oai config", "%oai usage")


def shown(notebook: Any) -> list[tuple[str, list[str]]]:
    """Each code cell's source and what its outputs show (text, HTML, Markdown, images), timings blanked."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source.startswith(SAYS_WHICH):
            continue
        parts = []
        for output in cell.outputs:
            parts.append(output.get("text", ""))
            for kind in ("text/plain", "text/html", "text/markdown", "image/png"):
                parts.append(str(output.get("data", {}).get(kind, "")))
        cells.append((cell.source, [SECONDS.sub("N s", part) for part in parts]))
    return cells


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick start in a folder of its own, to be recorded there afresh."""
    folder = tmp_path_factory.mktemp("notebook")
    return Path(shutil.copy(QUICKSTART, folder))


def test_a_notebook_replayed_with_no_sandbox_and_no_network_shows_what_it_showed_live(
        copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = record(copy, timeout=120)  # the kernel's sandbox stops with the kernel
    recording = recording_of(copy)
    assert recording == copy.parent / "01-quickstart.replay.jsonl" and recording.stat().st_size > 0
    # Every HTTP request of the replaying kernel would go to a proxy that is not there.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    replayed = execute(copy, timeout=120)
    first = replayed.cells[1].outputs[0].text
    assert "replaying " in first and "no sandbox started" in first
    assert shown(replayed) == shown(live)
    assert any("image/png" in output.get("data", {}) for cell in replayed.cells for output in cell.get("outputs", []))


def test_the_shipped_recording_is_the_quick_starts_with_no_header_or_address() -> None:
    recording = recording_of(QUICKSTART)
    assert recording is not None and recording.is_file()
    text = recording.read_text(encoding="utf-8")
    assert "Authorization" not in text and "127.0.0.1" not in text  # no header, and paths only
