"""Review round 5: defects found in the fixes for trust (issue 10).

Each test states what a user should get; each failed when it was written and now guards its fix.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from tests.helpers.rawserver import serve  # noqa: F401 (a fixture)
from tests.review.test_bad_server import answer, use
from tests.review.test_bad_server import shell  # noqa: F401 (a fixture)

SECRET = "gw-secret-555"
LISTING = b'{"object": "list", "data": [], "has_more": false}'


def add_gateway(shell: InteractiveShell, url: str) -> None:
    with capture_output():
        shell.run_line_magic("oai", f"profile add gate --base-url {url} --key-env REVIEW_KEY")
        shell.run_line_magic("oai", "use gate")


def test_a_password_in_the_base_url_is_not_in_a_repr(serve: Any, shell: InteractiveShell) -> None:
    # The password of https://user:TOKEN@host/v1 is now masked where `%oai` shows the server, but
    # the client's repr (which already hides its key as "api_key=set") and the profile's dataclass
    # repr still print it whole: `Client(base_url=...)` as a cell's last line puts it in the notebook.
    from oai_magics.client import Client

    url = serve(answer(LISTING)).url.replace("http://", f"http://gateway:{SECRET}@")
    add_gateway(shell, url)
    profile = shell.magics_manager.registry["OAIMagics"].session.profile
    assert SECRET not in repr(Client(api_key="sk-x", base_url=url)) + repr(profile)


def test_a_token_written_as_the_user_of_the_base_url_is_not_printed(serve: Any, shell: InteractiveShell) -> None:
    # Gateways are reached as https://TOKEN@host/v1 as often as https://user:TOKEN@host/v1; the
    # first has no password, so `%oai use` and `%oai config` print the token as typed.
    url = serve(answer(LISTING)).url.replace("http://", f"http://{SECRET}@")
    with capture_output() as captured:
        add_gateway(shell, url)
        shell.run_line_magic("oai", "config")
    assert SECRET not in captured.stdout + captured.stderr


def test_a_refusal_given_as_a_content_part_is_shown(serve: Any, shell: InteractiveShell) -> None:
    # The list-of-parts reading keeps only parts of type "text"; OpenAI's own content parts for an
    # assistant message include {"type": "refusal", "refusal": ...}, which is dropped, so %%chat
    # shows only "[m · 0.00 s]": the very case the refusal fix was for.
    message = {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]}
    use(shell, serve(answer(json.dumps({"object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "message": message, "finish_reason": "stop"}]}).encode())))
    with capture_output() as captured:
        shell.run_cell_magic("chat", "--no-stream", "hi")
    assert "I can't help with that." in captured.stdout


def test_no_note_after_an_explicit_double_dash() -> None:
    # `--` is the documented way to say "all of this is text"; the user who wrote it is still told
    # "note: -m was read as part of the text: options go before it".
    from oai_magics.magics.arguments import parse
    from oai_magics.magics.chat import ChatMagics

    with capture_output() as captured:
        parse(ChatMagics.chat, "-- what does git commit -m do")
    assert "note:" not in captured.stdout


def test_no_note_for_a_compiler_flag_in_a_prompt() -> None:
    # `-march=native` matches `-m` with the value "arch=native", so a question about gcc flags gets
    # "note: -march=native was read as part of the text", naming a setting nobody meant.
    from oai_magics.magics.arguments import parse
    from oai_magics.magics.chat import ChatMagics

    with capture_output() as captured:
        parse(ChatMagics.chat, "what does gcc -march=native do")
    assert "note:" not in captured.stdout


@pytest.mark.parametrize("vector", [b'["0.1", "0.2"]', b"[true, false]"], ids=["strings", "booleans"])
def test_an_embedding_of_strings_or_booleans_is_no_vector(serve: Any, shell: InteractiveShell, vector: bytes) -> None:
    # `_vector` says a string among the numbers is no vector, but np.asarray(dtype=float32) parses
    # "0.1" and takes true as 1.0: a server that sends them has its answer cached as real vectors.
    use(shell, serve(answer(b'{"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, '
                            b'"embedding": ' + vector + b"}]}")))
    with pytest.raises(UsageError), capture_output():
        shell.run_line_magic("embed", "--no-cache -o vec hello")


def test_a_password_in_a_base_url_with_an_unclosed_bracket_is_not_printed(shell: InteractiveShell) -> None:
    # `_without_password` gives up on a URL with an unclosed [ (an IPv6 address missing its ])
    # and returns it whole, so `%oai use` and `%oai config` print the gateway password it holds.
    with capture_output() as captured:
        add_gateway(shell, f"http://gateway:{SECRET}@[::1:8000/v1")
        shell.run_line_magic("oai", "config")
    assert SECRET not in captured.stdout + captured.stderr


def test_a_submit_output_with_an_apostrophe_is_sent() -> None:
    # Since its pairs became separate words, `%assistant submit say=it's` is refused with "cannot
    # read the arguments: No closing quotation"; read as free text it was sent, and the rule for
    # every other magic is that a lone quote (an apostrophe in "what's") is text.
    from oai_magics.magics import assistant_runs
    from oai_magics.magics.arguments import parse

    assert parse(assistant_runs.submit, "say=it's").outputs == ["say=it's"]


def test_an_embedding_whose_base64_is_wrapped_in_lines_is_read(serve: Any, shell: InteractiveShell) -> None:
    # Images now accept base64 wrapped every 76 characters (what `base64.encodebytes` and many Java
    # and .NET servers write); the same servers' embeddings, asked for as base64 by default, are
    # still refused as "not a vector of numbers".
    import base64

    import numpy as np

    values = np.arange(1, 33, dtype="<f4") / 10
    wrapped = base64.encodebytes(values.tobytes()).decode()
    assert "\n" in wrapped.rstrip("\n")
    use(shell, serve(answer(json.dumps({"object": "list", "model": "m", "data": [
        {"object": "embedding", "index": 0, "embedding": wrapped}]}).encode())))
    with capture_output():
        shell.run_line_magic("embed", "--no-cache -o vec hello")
    assert np.allclose(shell.user_ns["vec"].filter(regex=r"^e\d+$").to_numpy(dtype="float32").ravel(), values)
