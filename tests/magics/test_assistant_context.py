"""`%assistant run` and `messages add` with --image and --file, and `%assistant create --schema`, on
each back end against the sandbox: the reply names what reached the model, and a typed answer lands
in the run's result (`_.value`)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterator

import pytest
from IPython.core.error import UsageError
from PIL import Image

from tests.helpers.documents import pdf

from oai_magics.sandbox import Sandbox, start

from .conftest import run, shell_on

BACKENDS = ["assistants", "responses", "chat"]


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of this module's own: the assistants it makes on the server are listed by no other test."""
    with start(data_dir=tmp_path_factory.mktemp("context"), job_delay=0.1) as running:
        yield running


@pytest.fixture
def shell(own_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with shell_on(own_sandbox, monkeypatch) as ip:
        yield ip


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("api", BACKENDS)
def test_a_run_sees_the_images_and_files_given(shell: Any, api: str, tmp_path: Path) -> None:
    (tmp_path / "menu.pdf").write_bytes(pdf(3))
    shell.user_ns["photo"] = png((3000, 1000))
    run(shell, "assistant", f"create looker --api {api}")
    _, out = run(shell, "assistant", f"run looker --api {api} --image photo --file {tmp_path / 'menu.pdf'} "
                                     "What is on the menu in Porto?")
    outcome = shell.user_ns["_"]
    assert outcome.status == "completed" and "Porto" in outcome.text
    assert "image 1 (photo) downscaled from 3000×1000 to 2048×683 px, as the API reads it" in out.stdout
    if api == "assistants":  # image data and files go to that API as uploaded files
        assert "I was shown 1 image: the uploaded image file-" in outcome.text and "the uploaded file file-" in outcome.text
    else:
        assert "I was shown 1 image: PNG 2048×683 px (auto detail)." in outcome.text
        assert "I was given 1 file: menu.pdf, a PDF of 3 pages." in outcome.text
    run(shell, "assistant", f"messages add --api {api} --image photo --detail low And this one?")
    assert shell.user_ns["_"]["text"].startswith("And this one?\n[image")


@pytest.mark.parametrize("api", BACKENDS)
def test_a_pdf_above_the_inline_limit_goes_by_its_id(shell: Any, api: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from oai_magics.assistants import content

    (tmp_path / "big.pdf").write_bytes(pdf(4))
    monkeypatch.setattr(content, "PDF_LIMIT", 100)  # the 32 MB limit, scaled to a test's file
    run(shell, "assistant", f"create reader --api {api}")
    _, out = run(shell, "assistant", f"run reader --api {api} --file {tmp_path / 'big.pdf'} Read it")
    [uploaded] = [line.split(" as ")[1].split()[0] for line in out.stdout.splitlines() if "was uploaded first" in line]
    assert f"I was given 1 file: the uploaded file {uploaded}." in shell.user_ns["_"].text


def test_images_and_files_are_checked_before_anything_is_sent(shell: Any, tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(bytes(range(256)))
    run(shell, "assistant", "create checker --api responses")
    for line, says in ((f"run checker --api responses --file {tmp_path / 'data.bin'} Read it", "this is neither"),
                       ("run checker --api responses --image nothing_here.png Look", "nothing_here.png"),
                       ("run checker --api responses --detail low Look", "--detail goes with --image"),
                       ("messages --api responses --image x.png", "go with `messages add`")):
        with pytest.raises(UsageError, match=says):
            shell.run_line_magic("assistant", line)


@pytest.mark.parametrize("api", BACKENDS)
def test_an_assistant_made_with_a_schema_answers_in_it(shell: Any, api: str) -> None:
    pydantic = pytest.importorskip("pydantic")

    class Stay(pydantic.BaseModel):
        city: str
        stars: int

    shell.user_ns["Stay"] = Stay
    run(shell, "assistant", f"create rater --api {api} --schema Stay")
    run(shell, "assistant", f"run rater --api {api} Rate our stay in Lisbon: 4 stars")
    assert shell.user_ns["_"].value == Stay(city="Lisbon", stars=4)
    run(shell, "assistant", f'create speccy --api {api} --schema "city: str, stars: int | None"')
    run(shell, "assistant", f"run speccy --api {api} Rate our stay in Faro: 5 stars")
    assert shell.user_ns["_"].value == {"city": "Faro", "stars": 5}
