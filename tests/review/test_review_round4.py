"""Review round 4: defects found in the fixes for trust (issue 10).

Each test states what a user should get; each failed when it was written and now guards its fix.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.client.accumulate import ChunkAccumulator, consume
from tests.helpers.rawserver import serve  # noqa: F401 (a fixture)
from tests.review.test_bad_server import MESSAGES, answer, client_for, stream, use
from tests.review.test_bad_server import shell  # noqa: F401 (a fixture)

WHOLE = json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello there"},
                                 "finish_reason": "stop"}]}).encode()


def streamed_reply(server: Any) -> Any:
    stream = client_for(server).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    return consume(stream, ChunkAccumulator())


def test_an_html_page_answering_a_streamed_call_says_html_not_a_cut_stream(serve: Any) -> None:
    # A base URL that points at a web page (a login portal, a UI) answers 200 text/html; without
    # streaming the user reads "expected JSON but got text/html", with streaming (the default for
    # %%chat) the reply says the stream ended early, sending the user to look at the network.
    reply = streamed_reply(serve(answer(b"<html><body>Sign in</body></html>",
                                        headers=b"Content-Type: text/html\r\n")))
    assert reply.error is not None
    assert "html" in str(reply.error).lower()
    assert "ended before" not in str(reply.error)


def test_a_whole_json_answer_opening_with_a_byte_order_mark_is_read(serve: Any) -> None:
    # The sniff looks for `{` after whitespace only; a BOM (common from Windows-built proxies) hides
    # it, the answer is parsed as events, none are found, and the full reply is dropped.
    reply = streamed_reply(serve(answer(b"\xef\xbb\xbf" + WHOLE, headers=b"Content-Type: text/plain\r\n")))
    assert reply.error is None
    assert reply.choices and reply.choices[0].text == "hello there"


def test_assistant_submit_takes_one_output_per_waiting_call() -> None:
    # A run that asked for two tool calls at once (parallel tool calls are the default) is answered
    # with `%assistant submit get_weather=sunny get_time=noon`. The pairs are read as one free text,
    # so get_weather's output becomes "sunny get_time=noon" and get_time is reported missing.
    from oai_magics.magics import assistant_runs
    from oai_magics.magics.arguments import parse

    args = parse(assistant_runs.submit, "get_weather=sunny get_time=noon")
    assert args.outputs == ["get_weather=sunny", "get_time=noon"]


def test_an_option_after_submit_pairs_is_not_sent_as_tool_output() -> None:
    # `%assistant submit get_time=12:34 --run run_1` used to answer run_1; now the server receives
    # the output "12:34 --run run_1" for the latest run, without a word to the user.
    from oai_magics.magics import assistant_runs
    from oai_magics.magics.arguments import parse

    args = parse(assistant_runs.submit, "get_time=12:34 --run run_1")
    assert args.outputs == ["get_time=12:34"] and args.run == "run_1"


def chat_answer(message: dict) -> bytes:
    return json.dumps({"object": "chat.completion", "model": "m",
                       "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}).encode()


REFUSED = "I can't help with that."
REFUSAL_CHUNKS = (
    b'data: {"object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", '
    b'"content": null, "refusal": "' + REFUSED.encode() + b'"}, "finish_reason": null}]}\n\n',
    b'data: {"object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": {}, '
    b'"finish_reason": "stop"}]}\n\n',
    b"data: [DONE]\n\n",
)


@pytest.mark.parametrize("line", ["--no-stream", ""])
def test_a_refusal_is_shown_not_an_empty_reply(serve: Any, shell: InteractiveShell, line: str) -> None:
    # OpenAI answers a request it declines (structured outputs, safety) with content null and the
    # reason in `refusal`; %%chat shows only "[m · 0.00 s]" and `_` is "": the user never sees why.
    handler = answer(chat_answer({"role": "assistant", "content": None, "refusal": REFUSED})) if line else \
        stream(*REFUSAL_CHUNKS)
    use(shell, serve(handler))
    with capture_output() as captured:
        shell.run_cell_magic("chat", line, "hi")
    assert REFUSED in captured.stdout


def test_a_reply_whose_content_is_a_list_of_text_parts_is_shown(serve: Any, shell: InteractiveShell) -> None:
    # Some OpenAI-compatible servers (Mistral's reasoning models among them) send `content` as a
    # list of typed parts; the fix for wrong values now refuses it as "text of type list".
    use(shell, serve(answer(chat_answer({"role": "assistant", "content": [{"type": "text", "text": "parts answer"}]}))))
    with capture_output() as captured:
        shell.run_cell_magic("chat", "--no-stream", "hi")
    assert "parts answer" in captured.stdout


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
                       "RU5ErkJggg==")  # a 1x1 picture


def test_an_image_whose_base64_is_wrapped_in_lines_is_kept(serve: Any, shell: InteractiveShell) -> None:
    # MIME-style base64 (a line break every 76 characters, what `base64.encodebytes` and many Java
    # and .NET servers write) was decoded before the strict check; now it is "not base64".
    wrapped = base64.encodebytes(PNG * 3).decode()
    assert "\n" in wrapped.rstrip("\n")
    use(shell, serve(answer(json.dumps({"created": 1, "data": [{"b64_json": wrapped}]}).encode())))
    with capture_output():
        shell.run_line_magic("image", "a cat")
    assert [image.data for image in shell.user_ns["_"]] == [PNG * 3]


def test_a_timeout_too_large_for_the_clock_is_refused_or_one_line(serve: Any, shell: InteractiveShell) -> None:
    # `%config OAIMagics.timeout = 1e300` passes the new finiteness check; every request after it
    # (even `%oai use`) ends in a wall of urllib3 frames: "OverflowError: timestamp out of range".
    server = serve(answer(chat_answer({"role": "assistant", "content": "ok"})))
    magics = shell.magics_manager.registry["OAIMagics"]
    shell.run_line_magic("config", "OAIMagics.timeout = 1e300")
    try:
        with capture_output():
            use(shell, server)
            shell.run_line_magic("chat", "--no-stream hi")
    except UsageError as error:
        assert "\n" not in str(error)
    else:
        assert magics.timeout < 1e300, "the setting was taken and the chat went through"


def test_an_option_written_after_an_embed_text_is_not_embedded_silently(serve: Any, shell: InteractiveShell) -> None:
    # Until today `%embed hello world -o vec` stored the vectors in `vec`; now "hello world -o vec"
    # is embedded (and cached) as the text, nothing is stored and nothing says so: the next cell
    # fails with a NameError far from the cause. Either keep reading a known option at the end,
    # or say in one line that it was taken as text.
    embedding = json.dumps({"object": "list", "model": "m",
                            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]}).encode()
    use(shell, serve(answer(embedding)))
    with capture_output() as captured:
        shell.run_line_magic("embed", "--no-cache hello world -o vec")
    assert "vec" in shell.user_ns or "-o" in captured.stdout + captured.stderr


@pytest.mark.parametrize("vector", [b"[NaN, 0.5]", b"[1e300, 0.5]", b"[]"], ids=["nan", "beyond float32", "empty"])
def test_an_embedding_that_is_no_usable_vector_is_one_line(serve: Any, shell: InteractiveShell, vector: bytes) -> None:
    # The check on vectors takes any list numpy turns into float32: NaN (which Python's json reads),
    # a value float32 turns into inf, and an empty list (a DataFrame with no e0 column) all come back
    # as embeddings, and with the cache on they are kept for every later run.
    use(shell, serve(answer(b'{"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, '
                            b'"embedding": ' + vector + b"}]}")))
    with pytest.raises(UsageError) as info, capture_output():
        shell.run_line_magic("embed", "--no-cache -o vec hello")
    assert "\n" not in str(info.value)


def test_a_base_url_with_an_unclosed_bracket_is_one_line_at_oai_use(shell: InteractiveShell) -> None:
    # An IPv6 address missing its "]" passes the http(s) check at `profile add`; `%oai use` then
    # reads its host with urlsplit (new today, to tell api.openai.com by host), which raises
    # "ValueError: Invalid IPv6 URL" out of the magic as a traceback.
    with capture_output():
        shell.run_line_magic("oai", "profile add six --base-url http://[::1:8000/v1 --key-env REVIEW_KEY")
    try:
        with capture_output():
            shell.run_line_magic("oai", "use six")
    except UsageError as error:
        assert "\n" not in str(error)


def test_a_404_the_api_itself_answered_gives_no_v1_advice(serve: Any, shell: InteractiveShell) -> None:
    # Some servers serve the API at their root (Perplexity's https://api.perplexity.ai, Azure's
    # /openai/deployments/NAME). A mistyped model there is a 404 in the API's own error shape, and
    # the new hint tells the user to add /v1 to a base URL that is right, hiding the real cause.
    server = serve(answer(b'{"error": {"message": "The model `gpt-4x` does not exist", "type": '
                          b'"invalid_request_error", "code": "model_not_found"}}', "404 Not Found"))
    root = server.url.removesuffix("/v1")
    with capture_output():
        shell.run_line_magic("oai", f"profile add rooted --base-url {root} --key-env REVIEW_KEY")
        shell.run_line_magic("oai", "use rooted")
    with pytest.raises(UsageError) as info, capture_output():
        shell.run_line_magic("chat", "--no-stream -m gpt-4x hi")
    assert "does not exist" in str(info.value) and "/v1" not in str(info.value)


@pytest.mark.parametrize("magic, line", [("image", "a cat"), ("oai", "moderate some text"),
                                         ("oai", "speak --save {folder}/hello.mp3 hello")])
def test_ctrl_c_while_a_call_waits_for_its_answer_is_one_line(serve: Any, shell: InteractiveShell, tmp_path: Path,
                                                             magic: str, line: str) -> None:
    # Today's fix made Ctrl-C before a streamed reply's first byte one line ("interrupted: nothing
    # had arrived") for %%chat and %oai complete, "as without streaming"; the other calls that wait
    # on a slow server still end in a KeyboardInterrupt traceback.
    release = threading.Event()

    def interrupt_on_request(connection: Any, server: Any) -> None:
        request = server.read_request(connection)
        if request.startswith((b"GET /v1/assistants", b"GET /v1/models")):  # `%oai use` asks which back end
            answer(b'{"object": "list", "data": [], "has_more": false}')(connection, _Replay(request))
            return
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C while the answer is awaited
        release.wait(30)

    server = serve(interrupt_on_request)
    use(shell, server)
    try:
        with capture_output():
            shell.run_line_magic(magic, line.replace("{folder}", str(tmp_path)))
    except UsageError as error:
        assert "\n" not in str(error) and str(error).startswith("interrupted"), error
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped as a KeyboardInterrupt traceback")
    finally:
        release.set()


class _Replay:
    """A stand-in server for `answer` whose request was already read."""

    def __init__(self, request: bytes) -> None:
        self.request = request

    def read_request(self, connection: Any) -> bytes:
        return self.request


def test_a_password_in_the_base_url_is_not_printed(serve: Any, shell: InteractiveShell) -> None:
    # Gateways and proxies are often reached as https://user:TOKEN@host/v1; `%oai use` and
    # `%oai config` print the whole URL, so the token lands in the saved notebook.
    server = serve(answer(b'{"object": "list", "data": [], "has_more": false}'))
    url = server.url.replace("http://", "http://gateway:gw-secret-123@")
    with capture_output() as captured:
        shell.run_line_magic("oai", f"profile add gate --base-url {url} --key-env REVIEW_KEY")
        shell.run_line_magic("oai", "use gate")
        shell.run_line_magic("oai", "config")
    assert "gw-secret-123" not in captured.stdout + captured.stderr
