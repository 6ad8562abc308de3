"""`python -m oai_magics.demo` (what `make demo` runs): a line per notebook, executed copies and HTML
pages, a non-zero exit on failure, the back end said first, and a key that never reaches a page."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from oai_magics.demo import choose_backend, main
from oai_magics.sandbox import start

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "build" / "test-artifacts"
CANARY = "canary-demo-key-7f3a9c1e5b2d"


def _load_make_pictures() -> object:
    spec = importlib.util.spec_from_file_location("make_pictures", ROOT / "docs" / "make_pictures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_pictures: Any = _load_make_pictures()


def write_notebook(path: Path, *sources: str) -> Path:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)
    return path


def test_a_line_per_notebook_pages_written_and_failure_is_the_exit_status(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    books = tmp_path / "books"
    books.mkdir()
    write_notebook(books / "a-good.ipynb", "import os\nprint(os.environ.get('OPENAI_API_KEY'))")
    write_notebook(books / "b-bad.ipynb", "1 / 0", "print('never')")
    status = main([str(books), "--out", str(tmp_path / "out"), "--timeout", "60"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert lines[0] == "Running 2 notebooks against the embedded sandbox (no key, no network)"
    assert lines[1].startswith("a-good.ipynb") and " ok " in lines[1] and lines[1].endswith("1 code cells")
    assert lines[2].startswith("b-bad.ipynb") and " failed " in lines[2] and "ZeroDivisionError" in lines[2]
    assert lines[3].startswith("1 of 2 notebooks ran")
    good = nbformat.read(tmp_path / "out" / "a-good.ipynb", as_version=4)
    assert good.cells[0].outputs[0].text == "None\n"  # the kernel never saw a key
    assert "<html" in (tmp_path / "out" / "a-good.html").read_text(encoding="utf-8")
    assert not (tmp_path / "out" / "b-bad.html").exists()


def test_the_back_end_follows_the_key_unless_the_sandbox_is_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_backend("auto") == ("the embedded sandbox (no key, no network)", False)
    with pytest.raises(SystemExit, match="needs OPENAI_API_KEY"):
        choose_backend("openai")
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    assert choose_backend("auto")[1] is True and "OpenAI API" in choose_backend("auto")[0]
    assert choose_backend("sandbox") == ("the embedded sandbox (no key, no network)", False)


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, str]:
    """Every demo notebook against a sandbox that requires a canary key, given as the user gives a
    real one (OPENAI_API_KEY, OPENAI_BASE_URL): (exit status, output folder, what was printed)."""
    out = tmp_path_factory.mktemp("demo") / "out"
    patch = pytest.MonkeyPatch()
    printed = io.StringIO()
    try:
        with start(api_key=CANARY) as sandbox:
            patch.setenv("OPENAI_API_KEY", CANARY)
            patch.setenv("OPENAI_BASE_URL", sandbox.base_url)
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                status = main([str(NOTEBOOKS), "--out", str(out), "--backend", "openai", "--timeout", "120"])
    finally:
        patch.undo()
    return status, out, printed.getvalue()


def test_no_notebook_page_or_line_holds_the_key(canary_run: tuple[int, Path, str]) -> None:
    status, out, printed = canary_run
    assert status == 0, printed
    assert "against the OpenAI API" in printed.splitlines()[0]
    pages = sorted(out.glob("*.ipynb")) + sorted(out.glob("*.html"))
    assert len(pages) == 2 * len(list(NOTEBOOKS.glob("*.ipynb")))
    executed = nbformat.read(pages[0], as_version=4)
    assert "api.openai.com" not in json.dumps(executed) and "key from $OPENAI_API_KEY" in json.dumps(executed)
    for page in pages:
        assert CANARY not in page.read_text(encoding="utf-8"), page.name
    assert CANARY not in printed


def test_a_notebook_with_a_recording_runs_from_it(canary_run: tuple[int, Path, str]) -> None:
    """The quick start names its recording: demo copies it beside the executed copy, which runs from it."""
    status, out, printed = canary_run
    assert status == 0, printed
    assert (out / "01-quickstart.replay.jsonl").read_bytes() == (NOTEBOOKS / "01-quickstart.replay.jsonl").read_bytes()
    first = nbformat.read(out / "01-quickstart.ipynb", as_version=4).cells[1].outputs[0].text
    assert "replaying " in first and "no key is needed" in first


@pytest.mark.skipif(not Path(make_pictures.CHROMIUM).exists(), reason="Debian's chromium is not installed (make test installs it)")
def test_the_pages_render_in_chromium_and_each_picture_shows_its_cell(canary_run: tuple[int, Path, str]) -> None:
    """The README's pictures, taken from these pages as `make pictures` takes them; kept as artifacts."""
    from PIL import Image

    _, out, _ = canary_run
    artifacts = ARTIFACTS / "demo-pictures"
    shutil.rmtree(artifacts, ignore_errors=True)
    written = make_pictures.take(out, artifacts)
    expected = {picture for page, _, picture in make_pictures.PICTURES if (out / f"{page}.html").exists()}
    assert {path.name for path in written} == expected and len(expected) >= 6
    for path in written:
        with Image.open(path) as picture:
            width, height = picture.size
            colours = len(picture.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16))
        assert width >= 600 and height >= 60 and colours > 8, (path.name, picture.size, colours)
