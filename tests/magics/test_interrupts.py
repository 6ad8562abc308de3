"""Ctrl-C while a magic waits for a slow server's answer, in this process: one line starting
"interrupted", never a KeyboardInterrupt traceback. (A real kernel is interrupted in
tests/reliability/test_interrupts.py.)
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from tests.helpers.rawserver import answer
from tests.helpers.shells import use_server


@pytest.mark.parametrize("magic, line", [("image", "a cat"), ("oai", "moderate some text"),
                                         ("oai", "speak --save {folder}/hello.mp3 hello")])
def test_ctrl_c_while_a_call_waits_for_its_answer_is_one_line(serve: Any, raw_shell: InteractiveShell, tmp_path: Path,
                                                             magic: str, line: str) -> None:
    # Today's fix made Ctrl-C before a streamed reply's first byte one line ("interrupted: nothing
    # had arrived") for %%chat and %oai complete, "as without streaming"; the other calls that wait
    # on a slow server still end in a KeyboardInterrupt traceback. (`--save PATH`: `-o` takes a variable
    # name, checked before anything is sent, so a path there would end the line before the call.)
    release = threading.Event()

    def interrupt_on_request(connection: Any, server: Any) -> None:
        request = server.read_request(connection)
        if request.startswith((b"GET /v1/assistants", b"GET /v1/models")):  # `%oai use` asks which back end
            answer(b'{"object": "list", "data": [], "has_more": false}')(connection, _Replay(request))
            return
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C while the answer is awaited
        release.wait(30)

    server = serve(interrupt_on_request)
    use_server(raw_shell, server)
    try:
        with capture_output():
            raw_shell.run_line_magic(magic, line.replace("{folder}", str(tmp_path)))
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
