"""Profiles on a server given by URL: `%oai profile add`, `%oai use` and `%oai config` with a base URL
that holds a token (as user, password or both), that is malformed, or that serves the API at its root.
Nothing shows the token; a bad URL is one line.
"""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from tests.helpers.rawserver import answer

SECRET = "gw-secret-555"
LISTING = b'{"object": "list", "data": [], "has_more": false}'


def add_gateway(raw_shell: InteractiveShell, url: str) -> None:
    with capture_output():
        raw_shell.run_line_magic("oai", f"profile add gate --base-url {url} --key-env REVIEW_KEY")
        raw_shell.run_line_magic("oai", "use gate")


def test_a_password_in_the_base_url_is_not_printed(serve: Any, raw_shell: InteractiveShell) -> None:
    # Gateways and proxies are often reached as https://user:TOKEN@host/v1; `%oai use` and
    # `%oai config` print the whole URL, so the token lands in the saved notebook.
    server = serve(answer(b'{"object": "list", "data": [], "has_more": false}'))
    url = server.url.replace("http://", "http://gateway:gw-secret-123@")
    with capture_output() as captured:
        raw_shell.run_line_magic("oai", f"profile add gate --base-url {url} --key-env REVIEW_KEY")
        raw_shell.run_line_magic("oai", "use gate")
        raw_shell.run_line_magic("oai", "config")
    assert "gw-secret-123" not in captured.stdout + captured.stderr


def test_a_password_in_the_base_url_is_not_in_a_repr(serve: Any, raw_shell: InteractiveShell) -> None:
    # The password of https://user:TOKEN@host/v1 is now masked where `%oai` shows the server, but
    # the client's repr (which already hides its key as "api_key=set") and the profile's dataclass
    # repr still print it whole: `Client(base_url=...)` as a cell's last line puts it in the notebook.
    from oai_magics.client import Client

    url = serve(answer(LISTING)).url.replace("http://", f"http://gateway:{SECRET}@")
    add_gateway(raw_shell, url)
    profile = raw_shell.magics_manager.registry["OAIMagics"].session.profile
    assert SECRET not in repr(Client(api_key="sk-x", base_url=url)) + repr(profile)


def test_a_token_written_as_the_user_of_the_base_url_is_not_printed(serve: Any, raw_shell: InteractiveShell) -> None:
    # Gateways are reached as https://TOKEN@host/v1 as often as https://user:TOKEN@host/v1; the
    # first has no password, so `%oai use` and `%oai config` print the token as typed.
    url = serve(answer(LISTING)).url.replace("http://", f"http://{SECRET}@")
    with capture_output() as captured:
        add_gateway(raw_shell, url)
        raw_shell.run_line_magic("oai", "config")
    assert SECRET not in captured.stdout + captured.stderr


def test_a_password_in_a_base_url_with_an_unclosed_bracket_is_not_printed(raw_shell: InteractiveShell) -> None:
    # `_without_password` gives up on a URL with an unclosed [ (an IPv6 address missing its ])
    # and returns it whole, so `%oai use` and `%oai config` print the gateway password it holds.
    with capture_output() as captured:
        add_gateway(raw_shell, f"http://gateway:{SECRET}@[::1:8000/v1")
        raw_shell.run_line_magic("oai", "config")
    assert SECRET not in captured.stdout + captured.stderr


def test_a_base_url_with_an_unclosed_bracket_is_one_line_at_oai_use(raw_shell: InteractiveShell) -> None:
    # An IPv6 address missing its "]" passes the http(s) check at `profile add`; `%oai use` then
    # reads its host with urlsplit (new today, to tell api.openai.com by host), which raises
    # "ValueError: Invalid IPv6 URL" out of the magic as a traceback.
    with capture_output():
        raw_shell.run_line_magic("oai", "profile add six --base-url http://[::1:8000/v1 --key-env REVIEW_KEY")
    try:
        with capture_output():
            raw_shell.run_line_magic("oai", "use six")
    except UsageError as error:
        assert "\n" not in str(error)


def test_a_404_the_api_itself_answered_gives_no_v1_advice(serve: Any, raw_shell: InteractiveShell) -> None:
    # Some servers serve the API at their root (Perplexity's https://api.perplexity.ai, Azure's
    # /openai/deployments/NAME). A mistyped model there is a 404 in the API's own error shape, and
    # the new hint tells the user to add /v1 to a base URL that is right, hiding the real cause.
    server = serve(answer(b'{"error": {"message": "The model `gpt-4x` does not exist", "type": '
                          b'"invalid_request_error", "code": "model_not_found"}}', "404 Not Found"))
    root = server.url.removesuffix("/v1")
    with capture_output():
        raw_shell.run_line_magic("oai", f"profile add rooted --base-url {root} --key-env REVIEW_KEY")
        raw_shell.run_line_magic("oai", "use rooted")
    with pytest.raises(UsageError) as info, capture_output():
        raw_shell.run_line_magic("chat", "--no-stream -m gpt-4x hi")
    assert "does not exist" in str(info.value) and "/v1" not in str(info.value)
