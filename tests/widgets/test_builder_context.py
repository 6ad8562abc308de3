"""The thread-run builder's images, PDFs and schema override, on each back end against the sandbox:
an attached image or PDF goes in the message (so the chat back end takes it too) and the sandbox's
reply names it; the schema field makes the run answer in that shape, parsed into the outcome's
`value`; a schema that cannot be read is the form's one red line, before anything is sent."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from PIL import Image

from oai_magics.widgets import ThreadRunBuilder
from tests.helpers.builders import error_line, new_assistant, run
from tests.helpers.documents import pdf


def attached(name: str, content: bytes) -> dict:
    return {"name": name, "type": "", "size": len(content), "content": memoryview(content),
            "last_modified": datetime.datetime(2026, 12, 7, tzinfo=datetime.timezone.utc)}


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "olive").save(buffer, format="PNG")
    return buffer.getvalue()


def test_attached_images_and_pdfs_go_in_the_message(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    builder.files.value = (attached("chart.png", png((40, 20))), attached("menu.pdf", pdf(2)))
    outcome = run(builder, "What is on the menu in Porto?")
    assert outcome.status == "completed" and builder.files.value == ()
    if backend.name == "assistants":  # that API reads image data and files only once uploaded
        assert "I was shown 1 image: the uploaded image file-" in outcome.text
        assert "I was given 1 file: the uploaded file file-" in outcome.text
    else:
        assert "I was shown 1 image: PNG 40×20 px (auto detail)." in outcome.text
        assert "I was given 1 file: menu.pdf, a PDF of 2 pages." in outcome.text
    assert "📎 chart.png" in builder.chat.entries[0][1] and "📎 menu.pdf" in builder.chat.entries[0][1]


def test_an_attached_image_larger_than_the_api_reads_is_downscaled_and_the_chat_says_so(
        builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    builder.files.value = (attached("wide.png", png((3000, 1000))),)
    outcome = run(builder, "What is in the picture?")
    assert outcome.status == "completed"
    if backend.name != "assistants":  # that API reads image data only once uploaded
        assert "I was shown 1 image: PNG 2048×683 px (auto detail)." in outcome.text
    assert "📎 wide.png (downscaled from 3000×1000 to 2048×683 px)" in builder.chat.entries[0][1]


def test_an_attached_pdf_larger_than_a_request_may_carry_is_uploaded_first(
        builder: ThreadRunBuilder, backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # It went inline whatever its size, where `--file` uploads it first: over 32 MB the request failed.
    from oai_magics.assistants import content

    monkeypatch.setattr(content, "PDF_LIMIT", len(pdf(2)))  # the 32 MB limit, scaled to a test's files
    new_assistant(backend, builder)
    builder.files.value = (attached("atlas.pdf", pdf(4)),)
    outcome = run(builder, "What is in the atlas?")
    assert outcome.status == "completed", outcome
    if backend.name == "assistants":  # that API takes every attached file uploaded: nothing to say
        assert "I was given 1 file: the uploaded file file-" in outcome.text
        assert builder.chat.entries[0][1].endswith("📎 atlas.pdf")
        return
    assert "I was given 1 file: the uploaded file file-" in outcome.text
    note = builder.chat.entries[0][1].partition("📎 atlas.pdf (")[2]
    assert note.startswith("atlas.pdf (0 MB, more than the 32 MB a request may carry) was uploaded first as file-")
    file_id = note.split(" as ")[1].split()[0]
    uploaded = backend.client.files.retrieve(file_id)
    assert uploaded["purpose"] == "user_data" and uploaded["filename"] == "atlas.pdf"


def test_attached_pdfs_that_fit_one_by_one_but_not_together_are_not_all_sent_inline(
        builder: ThreadRunBuilder, backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The 32 MB are for all of a request's files: two PDFs of 20 MB each went inline together.
    from oai_magics.assistants import content

    monkeypatch.setattr(content, "PDF_LIMIT", len(pdf(3)) * 3 // 2)  # the 32 MB limit, scaled: one fits, not two
    new_assistant(backend, builder)
    builder.files.value = (attached("first.pdf", pdf(3)), attached("second.pdf", pdf(3)))
    outcome = run(builder, "Compare them")
    assert outcome.status == "completed", outcome
    if backend.name == "assistants":  # that API takes every attached file uploaded
        return
    said = builder.chat.entries[0][1]
    assert said.count("was uploaded first as file-") == 1 and "📎 second.pdf (second.pdf (0 MB, with the" in said
    assert "I was given 2 files: first.pdf, a PDF of 3 pages; the uploaded file file-" in outcome.text


def test_the_schema_override_makes_the_run_answer_in_that_shape(builder: ThreadRunBuilder, backend: Any) -> None:
    new_assistant(backend, builder)
    builder.schema.value = "city: str, stars: int"
    outcome = run(builder, "Rate our stay in Lisbon: 4 stars")
    assert outcome.status == "completed" and outcome.value == {"city": "Lisbon", "stars": 4}
    builder.schema.value = "city: text"
    before = builder.future
    builder.message.value = "Rate it"
    builder.run_button.click()
    assert error_line(builder).startswith("⚠ --schema: unknown type 'text'")
    assert builder.future is before and builder.message.value == "Rate it"  # nothing was sent
