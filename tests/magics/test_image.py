"""%image in a real shell against the sandbox, which answers as api.openai.com does: GPT image
models (the default) in base64 with usage, dall-e models in their old ways."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image

from oai_magics.display.images import ImageSet
from oai_magics.magics import session_of
from tests.helpers.rawserver import answer
from tests.helpers.shells import use_server

from .conftest import run


def png_file(path: Path, transparent: bool = False) -> Path:
    Image.new("RGBA", (64, 64), (0, 90, 200, 0 if transparent else 255)).save(path)
    return path


def opened(image: Any) -> Image.Image:
    return Image.open(io.BytesIO(image.data))


def sent(sandbox: Any) -> int:
    """How many image requests the sandbox has seen (the session's models listing may run beside them)."""
    seen = requests.get(sandbox.url + "/sandbox/requests", timeout=10).json()["requests"]
    return sum(1 for r in seen if r["path"].startswith("/v1/images"))


# -- dall-e models, as before -------------------------------------------------------------------------
def test_generate_shows_a_grid_and_stores_the_images(shell: Any, tmp_path: Path) -> None:
    value, out = run(shell, "image", f"-n 2 --size 256x256 -m dall-e-2 --save {tmp_path} -o pics A red fox, at dawn!")
    images = shell.user_ns["pics"]
    assert value is None and isinstance(images, ImageSet) and len(images) == 2 and shell.user_ns["_"] is images
    assert opened(images[0]).size == (256, 256)
    assert out.outputs[0].data["text/html"].count("<img") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-red-fox-at-dawn-1.png", "a-red-fox-at-dawn-2.png"]
    run(shell, "image", f"-n 1 --size 256x256 -m dall-e-2 --save {tmp_path} A red fox, at dawn!")
    assert (tmp_path / "a-red-fox-at-dawn-1-2.png").exists()  # nothing overwritten


def test_n_images_from_a_one_per_request_model_come_from_several_requests(shell: Any) -> None:
    records = session_of(shell).records
    before = len(records)
    value, out = run(shell, "image", "-n 4 -m dall-e-3 -o pics a lighthouse at dusk")
    images = shell.user_ns["pics"]
    assert value is None and len(images) == 4 and out.outputs[0].data["text/html"].count("<img") == 4
    assert all(image.revised_prompt for image in images)
    assert [(r["path"], r["status"]) for r in records[before:]] == [("/images/generations", 200)] * 4
    assert len({image.data for image in images}) == 4  # four pictures, not one four times


def test_a_failed_request_among_several_keeps_the_images_that_came(shell: Any, faults: Any) -> None:
    faults(path="/v1/images/generations", status=400, count=1)
    with pytest.raises(UsageError) as caught:
        run(shell, "image", "-n 3 -m dall-e-3 -o pics a lighthouse at dusk")
    message = str(caught.value)
    assert message.startswith("2 of 3 images came back (kept in _ and pics); the rest failed: BadRequestError: 400")
    assert "\n" not in message
    assert len(shell.user_ns["pics"]) == 2 and shell.user_ns["_"] is shell.user_ns["pics"]


def test_dall_e_3_gives_a_revised_prompt_and_one_png_output(shell: Any) -> None:
    _, out = run(shell, "image", "-m dall-e-3 --quality hd --style natural a quiet harbour")
    image = shell.user_ns["_"][0]
    assert image.revised_prompt and "image/png" in out.outputs[0].data
    assert opened(image).size == (1024, 1024)


def test_dall_e_2_edit_with_mask_and_variation(shell: Any, tmp_path: Path) -> None:
    source, mask = png_file(tmp_path / "in.png"), png_file(tmp_path / "mask.png", transparent=True)
    run(shell, "image", f"-m dall-e-2 --edit {source} --mask {mask} --size 256x256 add a boat")
    edited = opened(shell.user_ns["_"][0])
    assert edited.size == (256, 256) and edited.getpixel((128, 10)) != (0, 90, 200)  # the masked area was repainted
    run(shell, "image", f"--variation {source} -n 2 --size 256x256")
    assert len(shell.user_ns["_"]) == 2


# -- GPT image models -----------------------------------------------------------------------------------
def test_the_default_is_a_gpt_image_model_answering_in_base64_with_its_tokens(shell: Any) -> None:
    records = session_of(shell).records
    before = len(records)
    _, out = run(shell, "image", "-n 4 -o pics a lighthouse at dusk")
    images = shell.user_ns["pics"]
    # The sandbox refuses `response_format` for GPT image models as the API does: none was sent.
    assert [(r["path"], r["status"], r["model"]) for r in records[before:]] == \
        [("/images/generations", 200, "gpt-image-1-mini")]  # -n 4 in one request
    assert len(images) == 4 and len({image.data for image in images}) == 4
    assert "gpt-image-1-mini" in out.stdout and "+ 4224 image tokens" in out.stdout  # 4 x 1056, as reported


def test_transparent_webp_shows_on_a_checkerboard_and_saves_as_webp(shell: Any, tmp_path: Path) -> None:
    _, out = run(shell, "image", f"--background transparent --format webp --compression 80 --size 1536x1024 "
                                 f"--quality low --moderation low --save {tmp_path} a paper boat")
    image = shell.user_ns["_"][0]
    picture = opened(image)
    assert (picture.format, picture.mode, picture.size) == ("WEBP", "RGBA", (1536, 1024))
    assert picture.getchannel("A").getextrema()[0] == 0  # really transparent somewhere
    shown = out.outputs[0].data
    assert "image/webp" in shown and "repeating-conic-gradient" in shown["text/html"]
    assert [p.suffix for p in tmp_path.iterdir()] == [".webp"]
    run(shell, "image", "--format jpeg --compression 50 an opaque boat")
    assert opened(shell.user_ns["_"][0]).format == "JPEG"
    _, out = run(shell, "image", "an opaque boat")
    assert "repeating-conic-gradient" not in out.outputs[0].data["text/html"]  # an opaque PNG: no checkerboard


def test_an_edit_of_two_opaque_images_with_high_fidelity(shell: Any, tmp_path: Path) -> None:
    first, second = tmp_path / "cat.png", tmp_path / "hat.jpg"
    Image.new("RGB", (96, 64), (250, 0, 0)).save(first)  # opaque, not square: fine for GPT image models
    Image.new("RGB", (64, 64), (0, 250, 0)).save(second, "JPEG")
    records = session_of(shell).records
    before = len(records)
    _, out = run(shell, "image", f"-m gpt-image-1 --fidelity high --edit {first} {second} put the hat on the cat")
    assert [(r["path"], r["status"]) for r in records[before:]] == [("/images/edits", 200)]
    edited = opened(shell.user_ns["_"][0])
    assert edited.size == (1024, 1024)
    assert "(170 image)" in out.stdout  # both input images were counted by the server
    mask = png_file(tmp_path / "mask.png", transparent=True)
    Image.new("RGB", (64, 64), (250, 0, 0)).save(first)
    run(shell, "image", f"--edit {first} {second} --mask {mask} -- a hat on the first")
    assert len(shell.user_ns["_"]) == 1


def test_gpt_image_2_takes_a_size_the_spec_allows(shell: Any) -> None:
    run(shell, "image", "-m gpt-image-2 --size 1536x864 a wide valley")
    assert opened(shell.user_ns["_"][0]).size == (1536, 864)


@pytest.mark.parametrize("line, says", [
    ("--quality hd a cat", "--quality for gpt-image-1-mini is one of low, medium, high, auto, not 'hd'"),
    ("-m dall-e-3 --quality low a cat", "--quality for dall-e-3 is one of standard, hd, not 'low'"),
    ("-m dall-e-3 --background transparent a cat", "--background is for the GPT image models"),
    ("-m dall-e-2 --partial 2 a cat", "--partial is for the GPT image models"),
    ("--style vivid a cat", "--style is for dall-e-3, not gpt-image-1-mini"),
    ("--size 1792x1024 a cat", "--size for gpt-image-1-mini is one of auto, 1024x1024, 1536x1024, 1024x1536"),
    ("-m gpt-image-2 --size 1000x1000 a cat", "divisible by 16"),
    ("-m gpt-image-2 --size 3200x960 a cat", "between 1:3 and 3:1"),
    ("-m gpt-image-2 --size 3840x2176 a cat", "the largest size gpt-image-2 makes is 3840x2160"),
    ("-m dall-e-2 --size 300x300 a cat", "--size for dall-e-2 is one of 256x256, 512x512, 1024x1024, not '300x300'"),
    ("--background transparent --format jpeg a cat", "needs --format png or webp"),
    ("--compression 50 a cat", "--compression goes with --format jpeg or webp"),
    ("--compression 101 --format webp a cat", "expected a whole number from 0 to 100, got 101"),
    ("--partial 4 a cat", "expected a whole number from 1 to 3, got 4"),
    ("--partial 2 -n 2 a cat", "--partial streams one image"),
    ("--format gif a cat", "invalid choice: 'gif'"),
    ("--fidelity high a cat", "--fidelity goes with --edit"),
    ("-m gpt-image-1 --variation in.png", "--variation is legacy, for dall-e-2 only"),
    ("-m dall-e-3 --edit in.png a hat", "dall-e-3 does not edit images"),
    ("-m dall-e-2 --edit in.png in.png a hat", "--edit takes at most 1 image for dall-e-2, got 2"),
    ("--edit " + "in.png " * 17 + "a hat", "--edit takes at most 16 images for gpt-image-1-mini, got 17"),
    ("--edit in.png --fidelity high a hat", "--fidelity is not for gpt-image-1-mini"),
    ("--edit add a hat", "--edit takes image paths (.png, .jpg, .webp), got 'add'"),
    ("-o 1st a cat", "argument -o/--output: -o needs a Python name, got '1st'"),
    ("--partial 2 -o my-pic a cat", "argument -o/--output: -o needs a Python name, got 'my-pic'"),
])
def test_a_bad_value_is_one_line_before_anything_is_sent(shell: Any, sandbox: Any, line: str, says: str) -> None:
    before = sent(sandbox)
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("image", line)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert sent(sandbox) == before


def test_the_server_still_judges_what_the_magic_passes_on(shell: Any) -> None:
    with pytest.raises(UsageError, match=r"BadRequestError: 400 .*Unknown parameter: 'response_format'"):
        shell.run_line_magic("image", "-p response_format=url a cat")
    with pytest.raises(UsageError, match=r"BadRequestError: 400 .*size"):
        shell.run_line_magic("image", "-m dall-e-2 -p size=300x300 three cats")


def test_variation_where_the_server_has_no_model_for_it_suggests_edit(shell: Any, faults: Any, tmp_path: Path) -> None:
    source = png_file(tmp_path / "in.png")
    faults(path="/v1/images/variations", status=404, count=1,
           message="The model `dall-e-2` does not exist or you do not have access to it.")
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("image", f"--variation {source}")
    assert "no model for variations" in str(caught.value) and "use --edit PATH" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_image_errors_are_one_line(shell: Any, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--mask goes with --edit"):
        shell.run_line_magic("image", "--mask m.png a cat")
    with pytest.raises(UsageError, match="no such file to upload"):
        shell.run_line_magic("image", f"--edit {tmp_path / 'missing.png'} a cat")
    with pytest.raises(UsageError, match="--param n: this magic sets n itself"):
        shell.run_line_magic("image", "-p n=3 three cats")
    with pytest.raises(UsageError, match="-n must be 1 to 10, got 11"):
        shell.run_line_magic("image", "-n 11 cats")
    with pytest.raises(UsageError, match="Say what to draw"):
        shell.run_line_magic("image", "")


# -- streamed partial images ------------------------------------------------------------------------------
def test_partial_images_replace_each_other_in_one_display(shell: Any) -> None:
    _, out = run(shell, "image", "--partial 3 --background transparent -o pic a kite")
    pictures = [o for o in out.outputs if o.metadata.get("oai") != "usage"]
    ids = {o.transient.get("display_id") for o in pictures}
    assert len(ids) == 1 and None not in ids  # one display ...
    assert [o.update for o in pictures] == [False, True, True, True]  # ... updated in place
    partials, final = pictures[:3], pictures[3]
    assert [o.data["text/plain"] for o in partials] == [f"partial image {i} of 3" for i in (1, 2, 3)]
    for shown in partials:  # each partial image as the base64 text it came in, on a checkerboard
        b64 = shown.data["image/png"]
        assert isinstance(b64, str) and f"base64,{b64}" in shown.data["text/html"]
        assert "repeating-conic-gradient" in shown.data["text/html"]
        assert Image.open(io.BytesIO(base64.b64decode(b64))).size == (1024, 1024)
    image = shell.user_ns["pic"][0]
    assert final.data["image/png"] == image.data and shell.user_ns["_"] is shell.user_ns["pic"]
    assert opened(image).mode == "RGBA" and "+ 1056 image tokens" in out.stdout


def test_a_streamed_edit_shows_its_partial_images(shell: Any, tmp_path: Path) -> None:
    source = png_file(tmp_path / "in.png")
    _, out = run(shell, "image", f"--partial 1 --edit {source} a red hat")
    assert [o.update for o in out.outputs if o.metadata.get("oai") != "usage"] == [False, True]
    assert opened(shell.user_ns["_"][0]).size == (1024, 1024)


def test_ctrl_c_keeps_the_last_partial_image(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    publish = shell.display_pub.publish
    shown: list[dict] = []

    def interrupted_on_the_second(data: dict, *args: Any, **kwargs: Any) -> None:
        publish(data, *args, **kwargs)
        shown.append(data)
        if len(shown) == 2:  # Ctrl-C arrives while the second partial image is being shown
            raise KeyboardInterrupt

    monkeypatch.setattr(shell.display_pub, "publish", interrupted_on_the_second)
    with pytest.raises(UsageError, match="interrupted: the last partial image is kept in _ and pic"):
        shell.run_line_magic("image", "--partial 3 -o pic a kite")
    kept = shell.user_ns["pic"]
    assert len(kept) == 1 and kept[0].data == base64.b64decode(shown[1]["image/png"])
    assert shell.user_ns["_"] is kept


@pytest.mark.parametrize("fault", [{"drop_after": 1}, {"truncate_after": 2}])
def test_a_stream_that_breaks_off_keeps_the_last_partial_image(shell: Any, faults: Any, fault: dict) -> None:
    faults(path="/v1/images/generations", count=1, **fault)
    with pytest.raises(UsageError) as caught:
        run(shell, "image", "--partial 3 -o pic a kite")
    message = str(caught.value)
    assert message.startswith("the stream broke off (") and message.endswith("the last partial image is kept in _ and pic")
    assert "\n" not in message
    kept = shell.user_ns["pic"]
    assert len(kept) == 1 and opened(kept[0]).size == (1024, 1024) and shell.user_ns["_"] is kept


# -- images in other shapes, from a raw server -------------------------------------------------------

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
                       "RU5ErkJggg==")  # a 1x1 picture


def test_an_image_whose_base64_is_wrapped_in_lines_is_kept(serve: Any, raw_shell: InteractiveShell) -> None:
    # MIME-style base64 (a line break every 76 characters, what `base64.encodebytes` and many Java
    # and .NET servers write) was decoded before the strict check; now it is "not base64".
    wrapped = base64.encodebytes(PNG * 3).decode()
    assert "\n" in wrapped.rstrip("\n")
    use_server(raw_shell, serve(answer(json.dumps({"created": 1, "data": [{"b64_json": wrapped}]}).encode())))
    with capture_output():
        raw_shell.run_line_magic("image", "a cat")
    assert [image.data for image in raw_shell.user_ns["_"]] == [PNG * 3]


def test_a_folder_save_cannot_write_to_loses_no_image(shell: Any, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(UsageError) as caught:
        run(shell, "image", f"-o pic --save {tmp_path / 'a-file'} a cat")
    assert "\n" not in str(caught.value)
    assert len(shell.user_ns["pic"]) == 1 and shell.user_ns["_"] is shell.user_ns["pic"]
