"""`%%chat --image X` and `--file PATH`: images and files from the notebook into the prompt, against
the sandbox, whose reply names what it saw (count, type, pixel size; a PDF's pages)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from PIL import Image

from oai_magics.assistants.image_fit import fitted
from tests.helpers.documents import pdf
from tests.helpers.openapi import spec

from .conftest import run


def png(size: tuple[int, int], kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, format=kind)
    return buffer.getvalue()


def sent_content(shell: Any) -> list:
    """The user message of the last exchange of the default conversation, as it was sent."""
    from oai_magics.magics import session_of

    return session_of(shell).conversations["default"].exchanges[-1].messages[0]["content"]


def test_a_path_a_url_and_bytes_go_as_parts_the_spec_allows(shell: Any, tmp_path: Path) -> None:
    (tmp_path / "small.png").write_bytes(png((64, 48)))
    shell.user_ns["photo"] = png((30, 20), "JPEG")
    _, out = run(shell, "chat", f"--image {tmp_path / 'small.png'} --image https://example.com/cat.png "
                                "--image photo --detail high", "What do you see?")
    assert ("I was shown 3 images: PNG 64×48 px (high detail); an image by URL, not fetched offline (high detail); "
            "JPEG 30×20 px (high detail).") in shell.user_ns["_"]
    content = sent_content(shell)
    assert content[0] == {"type": "text", "text": "What do you see?"}
    assert content[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(png((64, 48))).decode()
    assert content[2]["image_url"] == {"url": "https://example.com/cat.png", "detail": "high"}
    body = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": content}]}
    assert spec("2026").request_errors("post", "/chat/completions", {}, "application/json", body) == []


def test_memory_keeps_the_image_for_the_next_question(shell: Any) -> None:
    shell.user_ns["photo"] = png((30, 20))
    run(shell, "chat", "--image photo", "What is this?")
    run(shell, "chat", "", "And what colour was it?")
    assert "Earlier in the conversation: 1 image." in shell.user_ns["_"]
    from oai_magics.magics import session_of

    rows = session_of(shell).conversations["default"].rows()
    assert rows[0]["content"] == "What is this? [1 image]"


def test_a_pil_image_a_figure_an_axes_and_the_current_figure(shell: Any) -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(3, 2), dpi=50)
    axes.plot([1, 3, 2])
    shell.user_ns.update(picture=Image.new("RGBA", (40, 30)), figure=figure, axes=axes, plt=plt)
    try:
        for source in ("picture", "figure", "axes", "plt"):
            run(shell, "chat", f"--no-memory --image {source}", "Describe it")
            assert "I was shown 1 image: PNG" in shell.user_ns["_"], source
        assert "PNG 40×30 px" in run(shell, "chat", "--no-memory --image picture -o r", "x")[1].stdout
    finally:
        plt.close("all")
    with pytest.raises(UsageError, match="--image plt: there is no current figure"):
        run(shell, "chat", "--image plt", "Describe it")


def test_an_image_magic_result_goes_in_whole(shell: Any) -> None:
    run(shell, "image", "-n 2 --size 256x256 -m dall-e-2 -o pics a red fox")
    run(shell, "chat", "--no-memory --image pics", "Which is better?")
    assert "I was shown 2 images: PNG 256×256 px (auto detail); PNG 256×256 px (auto detail)." in shell.user_ns["_"]


@pytest.mark.parametrize("size, detail, sent", [((4000, 1000), "auto", (2048, 512)), ((3000, 3000), "high", (768, 768)),
                                                ((4000, 1000), "low", (512, 128)), ((500, 400), "auto", (500, 400))])
def test_a_large_image_is_downscaled_as_the_api_reads_it_and_the_line_under_the_reply_says_so(
        shell: Any, tmp_path: Path, size: tuple[int, int], detail: str, sent: tuple[int, int]) -> None:
    assert fitted(size, detail) == sent
    (tmp_path / "big.png").write_bytes(png(size))
    _, out = run(shell, "chat", f"--no-memory --image {tmp_path / 'big.png'} --detail {detail}", "What is it?")
    assert f"PNG {sent[0]}×{sent[1]} px ({detail} detail)" in shell.user_ns["_"]
    note = f"image 1 (big.png) downscaled from {size[0]}×{size[1]} to {sent[0]}×{sent[1]} px, as the API reads it"
    assert (note in out.stdout) == (size != sent)
    if size != sent:  # under the reply and its usage line
        assert out.stdout.index("completion tokens") < out.stdout.index(note)


@pytest.mark.parametrize("line, says", [
    ("--image missing.png", "No such file or directory: missing.png"),
    ("--image chart", "^--image chart: no variable or file of that name; give a path, an http"),
    ("--image number", "--image number: a int is no image"),
    ("--image words", "--image words: not an image Pillow can read"),
    ("--detail low", "--detail goes with --image"),
])
def test_a_bad_image_is_one_line_and_nothing_is_sent(shell: Any, line: str, says: str) -> None:
    from oai_magics.magics import session_of

    shell.user_ns.update(number=3, words=b"plain text, not a picture")
    sent = len(session_of(shell).records)
    with pytest.raises(UsageError, match=says) as info:
        run(shell, "chat", line, "What is it?")
    assert "\n" not in str(info.value) and len(session_of(shell).records) == sent


@pytest.mark.parametrize("mode", ["CMYK", "I", "F", "YCbCr"])
def test_a_pil_image_in_a_mode_png_cannot_hold_goes_as_rgb(shell: Any, mode: str) -> None:
    shell.user_ns["scan"] = Image.new(mode, (40, 30))
    run(shell, "chat", "--image scan", "Describe it")
    assert "I was shown 1 image: PNG 40×30 px" in shell.user_ns["_"]
    url = sent_content(shell)[1]["image_url"]["url"]
    assert Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2]))).mode == "RGB"


def test_an_image_of_more_pixels_than_pillow_opens_safely_is_one_line(shell: Any, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from oai_magics.magics import session_of

    (tmp_path / "bomb.png").write_bytes(png((100, 100)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow's own bound, scaled to a test's image
    sent = len(session_of(shell).records)
    with pytest.raises(UsageError, match=r"^--image bomb.png: Image size \(10000 pixels\) exceeds limit of 2000 pixels; "
                                         "make it smaller first$"):
        run(shell, "chat", f"--image {tmp_path / 'bomb.png'}", "What is it?")
    assert len(session_of(shell).records) == sent


def test_a_pdf_goes_as_a_file_part_and_a_text_file_as_its_text(shell: Any, tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(pdf(2))
    (tmp_path / "notes.md").write_text("# Notes\nThe Lisbon office opens in May.\n", encoding="utf-8")
    shell.user_ns["photo"] = png((30, 20))
    run(shell, "chat", f"--file {tmp_path / 'report.pdf'} --file {tmp_path / 'notes.md'} --image photo", "Summarise")
    assert "I was given 1 file: report.pdf, a PDF of 2 pages." in shell.user_ns["_"]
    assert "I was shown 1 image: PNG 30×20 px" in shell.user_ns["_"]
    content = sent_content(shell)
    assert content[1] == {"type": "file", "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64,"
                                                   + base64.b64encode(pdf(2)).decode()}}
    assert content[2] == {"type": "text", "text": "The file notes.md:\n\n# Notes\nThe Lisbon office opens in May.\n"}
    body = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": content}]}
    assert spec("2026").request_errors("post", "/chat/completions", {}, "application/json", body) == []
    from oai_magics.magics import session_of

    assert session_of(shell).conversations["default"].rows()[0]["content"] == "Summarise [1 image, 1 file, 1 text]"


@pytest.mark.parametrize("name, data, says", [
    ("sheet.xlsx", b"PK\x03\x04\x00\xff\xfe binary", "the model reads PDF files, and text files as their text; this is neither"),
    ("notes.txt", b"", "^--file .*notes.txt: the file is empty$"),
])
def test_a_file_chat_completions_cannot_take_is_one_line_before_anything_is_sent(shell: Any, tmp_path: Path, name: str,
                                                                                  data: bytes, says: str) -> None:
    from oai_magics.magics import session_of

    (tmp_path / name).write_bytes(data)
    sent = len(session_of(shell).records)
    with pytest.raises(UsageError, match=says):
        run(shell, "chat", f"--file {tmp_path / name}", "Sum column B")
    assert len(session_of(shell).records) == sent


def test_a_pdf_above_the_inline_limit_is_uploaded_first_and_sent_by_its_id(
        shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oai_magics.assistants import content
    from oai_magics.magics import session_of

    (tmp_path / "big.pdf").write_bytes(pdf(4))
    (tmp_path / "small.pdf").write_bytes(pdf(1))
    monkeypatch.setattr(content, "PDF_LIMIT", len(pdf(2)))  # the 32 MB limit, scaled to a test's files
    _, out = run(shell, "chat", f"--file {tmp_path / 'big.pdf'} --file {tmp_path / 'small.pdf'}", "Compare them")
    [big, small] = sent_content(shell)[1:]
    uploaded = session_of(shell).client.files.retrieve(big["file"]["file_id"])
    assert uploaded["purpose"] == "user_data" and uploaded["filename"] == "big.pdf"
    assert session_of(shell).client.files.content(uploaded["id"]) == (tmp_path / "big.pdf").read_bytes()
    assert small["file"]["filename"] == "small.pdf"  # within the limit: inline
    assert f"was uploaded first as {uploaded['id']} (purpose user_data) and sent by its id" in out.stdout
    assert f"I was given 2 files: the uploaded file {uploaded['id']}; small.pdf, a PDF of 1 page." in shell.user_ns["_"]


def test_pdfs_that_fit_one_by_one_but_not_together_are_not_all_sent_inline(
        shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The 32 MB are for all of a request's files; each PDF was measured alone, so two of 20 MB went
    # inline together (40 MB) and the request was refused.
    from oai_magics.assistants import content
    from oai_magics.magics import session_of

    (tmp_path / "first.pdf").write_bytes(pdf(3))
    (tmp_path / "second.pdf").write_bytes(pdf(3))
    monkeypatch.setattr(content, "PDF_LIMIT", len(pdf(3)) * 3 // 2)  # the 32 MB limit, scaled: one fits, not two
    _, out = run(shell, "chat", f"--file {tmp_path / 'first.pdf'} --file {tmp_path / 'second.pdf'}", "Compare them")
    [first, second] = sent_content(shell)[1:]
    assert first["file"]["filename"] == "first.pdf" and "file_data" in first["file"]
    uploaded = session_of(shell).client.files.retrieve(second["file"]["file_id"])
    assert uploaded["filename"] == "second.pdf" and uploaded["purpose"] == "user_data"
    assert "second.pdf (0 MB, with the 0 MB of PDFs before it more than the 32 MB a request may carry)" in out.stdout


def test_each_row_is_sent_with_the_images_and_files(shell: Any, tmp_path: Path) -> None:
    (tmp_path / "menu.pdf").write_bytes(pdf(1))
    shell.user_ns.update(photo=png((3000, 3000)), dishes=["soup", "cake"])
    table, out = run(shell, "chat", f"--each dishes --image photo --file {tmp_path / 'menu.pdf'}",
                     "Is {{row}} in the photo?")
    for reply in table["reply"]:
        assert "I was given 1 file: menu.pdf, a PDF of 1 page." in reply and "PNG 768×768 px" in reply
    assert out.stdout.count("downscaled from 3000×3000 to 768×768 px") == 1  # said once, not per row
    job, out = run(shell, "chat", f"--each dishes --image photo --file {tmp_path / 'menu.pdf'} --batch",
                   "Is {{row}} in the photo?")
    assert out.stdout.count("downscaled from 3000×3000 to 768×768 px") == 1
    batched, _ = run(shell, "chat", f"--collect {job.id} --wait")  # the batch's lines carried the same parts
    assert list(batched["reply"]) == list(table["reply"])


def test_the_help_tells_how_tables_files_and_schemas_go_in_and_come_out(shell: Any) -> None:
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        shell.run_cell("%%chat?")
    shown = " ".join(captured.stdout.split())  # argparse folds the lines
    assert "in %%chat the cell is the prompt. {{df}} puts a DataFrame or Series in as a Markdown table" in shown
    assert "one over 32 MB is uploaded first" in shown
    assert "with --each, one typed column per field" in shown
