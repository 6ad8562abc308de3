"""Loading, unloading, configuration, argument fuzzing, and the key that must never show."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from tests.helpers.canary import find_secret, verbose_traceback
from tests.helpers.shells import extension_shell

from .conftest import subcommands

CANARY = "sk-canary.never.show.0123456789abcdef"


def test_load_ext_imports_nothing_heavy() -> None:
    code = ("import sys; from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance(); "
            "before = set(sys.modules); ip.run_line_magic('load_ext', 'oai_magics'); "
            "print(' '.join(sorted(set(sys.modules) - before)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    added = {module.split(".")[0] for module in loaded}
    assert not added & {"pandas", "numpy", "matplotlib", "ipywidgets", "requests", "starlette", "uvicorn", "PIL", "tqdm",
                          "pydantic", "jsonschema"}
    assert "oai_magics" in added
    # Nor the layers beneath the magics: the client, the back ends' records and runs, the jobs, the displays.
    assert not {m for m in loaded if m.startswith(("oai_magics.client", "oai_magics.assistants.", "oai_magics.jobs",
                                                     "oai_magics.embeddings", "oai_magics.display."))} - {
        "oai_magics.assistants.names"}


def test_unload_removes_the_magics_and_the_settings(shell: Any) -> None:
    magics = shell.magics_manager.magics
    assert {"chat", "embed"} <= set(magics["cell"]) and {"chat", "image", "embed", "oai"} <= set(magics["line"])
    assert any(type(c).__name__ == "OAIMagics" for c in shell.configurables)
    shell.run_line_magic("unload_ext", "oai_magics")
    assert not {"chat", "image", "embed", "oai"} & set(magics["line"])
    assert not any(type(c).__name__ == "OAIMagics" for c in shell.configurables)
    shell.run_line_magic("load_ext", "oai_magics")  # and loads again cleanly
    assert "oai" in magics["line"]


def test_config_lists_the_settings(shell: Any) -> None:
    with capture_output() as out:
        shell.run_line_magic("config", "OAIMagics")
    for name in ("chat_model", "short_errors", "profiles", "timeout", "render_interval"):
        assert f"OAIMagics.{name}" in out.stdout


def test_help_comes_from_the_parsers_for_every_magic_and_subcommand(shell: Any) -> None:
    from oai_magics.magics.oai import ROUTER

    lines = [(magic, "") for magic in ("chat", "image", "embed")] + [("oai", sub) for sub, _ in subcommands(ROUTER)]
    assert len(lines) > 20 and ("oai", "files download") in lines
    for magic, sub in lines:
        for flag in ("-h", "--help"):
            with capture_output() as out:
                value = shell.run_line_magic(magic, f"{sub} {flag}".strip())
            usage = out.stdout.lstrip().split("\n")[0]
            assert value is None and (usage + " ").startswith(f"%{' '.join([magic, sub]).strip()} "), (magic, sub)
    for magic in ("chat", "image", "embed"):
        text = shell.object_inspect_text(f"%{magic}")  # what %chat? shows: the parser's help
        assert f"%{magic} [" in text and "-o NAME" in text


@pytest.mark.parametrize("line, sent", [
    ("how do I use -h in grep", "how do I use -h in grep"),
    ("-- -h is a flag", "-h is a flag"),
    ('What does "foo" mean --help', 'What does "foo" mean --help'),
])
def test_a_help_flag_inside_the_prompt_is_sent_with_it(shell: Any, line: str, sent: str) -> None:
    with capture_output() as out:
        shell.run_line_magic("chat", f"--no-stream -o reply {line}")
    assert "usage" not in out.stdout.lower() and "%chat [" not in out.stdout
    assert f"\u201c{sent}\u201d" in shell.user_ns["reply"]  # the sandbox quotes the prompt it received
    with capture_output():
        frame = shell.run_line_magic("embed", f"-o vectors {line}")
    assert list(frame["text"]) == [sent]


def test_load_ext_builds_no_argument_parser() -> None:
    # IPython's own decorator builds (and formats the help of) every parser at import; ours wait for first use.
    code = ("import argparse; from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance(); "
            "built = []; init = argparse.ArgumentParser.__init__; "
            "argparse.ArgumentParser.__init__ = lambda self, *a, **k: built.append(a[:1] or k.get('prog')) or init(self, *a, **k); "
            "ip.run_line_magic('load_ext', 'oai_magics'); print(built)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def keyless_shell() -> Any:
    with extension_shell() as ip:
        yield ip


TOKENS = ["a", "b c", "-", "=", '"', "'", "{", "}", "[", "]", "0", "-1", "3.5", ",", "--model", "-n", "--size", "-o",
          "--json", "--param", "k=v", "-i", "--query", "{{x}}", "{{x.y}}", "--new", "--plot", "-k", "files", "use"]
ARG_TEXT = st.lists(st.sampled_from(TOKENS), max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(magic=st.sampled_from(["chat", "image", "embed", "oai"]), line=ARG_TEXT)
def test_any_argument_string_gives_a_result_or_one_usage_line(keyless_shell: Any, monkeypatch: Any, magic: str,
                                                              line: str) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    try:
        with capture_output():
            keyless_shell.run_line_magic(magic, line)
    except UsageError as error:
        assert "\n" not in str(error).strip()


def test_the_key_never_appears_in_any_output(shell: Any, monkeypatch: Any, sandbox: Any, tmp_path: Any) -> None:
    from oai_magics.sandbox import start

    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    outputs = []
    with start(data_dir=tmp_path, api_key="sk-other") as strict:
        shell.run_line_magic("oai", f"profile add strict --base-url {strict.base_url} --key-env OPENAI_API_KEY")
        with capture_output() as out:
            shell.run_line_magic("oai", "use strict")
            shell.run_line_magic("oai", "config")
            for magic, line in (("chat", "hello"), ("image", "a cat"), ("embed", "text"), ("oai", "models")):
                try:
                    shell.run_line_magic(magic, line)
                except UsageError as error:
                    outputs.append(str(error))
            shell.run_line_magic("config", "OAIMagics.short_errors = False")
            try:
                shell.run_line_magic("chat", "hello")
            except Exception as error:
                import traceback

                outputs.append("".join(traceback.format_exception(error)))
        from oai_magics.magics import session_of

        session = session_of(shell)
        outputs += [out.stdout, out.stderr, repr(session.client), repr(vars(session)), repr(session.records)]
        monkeypatch.setattr("getpass.getpass", lambda prompt: CANARY)
        with capture_output() as typed:
            shell.run_line_magic("oai", "key")
            shell.run_line_magic("oai", "config")
        outputs += [typed.stdout, repr(vars(session)), repr(vars(session.client._requester)), str(session._typed_keys)]
    assert any("AuthenticationError" in text for text in outputs)
    assert not [text for text in outputs if CANARY in text]


@pytest.mark.parametrize("failure", ["refused", "401", "dropped", "timeout"])
def test_the_key_is_in_no_verbose_traceback_nor_the_exception(shell: Any, sandbox: Any, failure: str, tmp_path: Any,
                                                               monkeypatch: Any) -> None:
    import socket

    from oai_magics.sandbox import start

    monkeypatch.setenv("CANARY_KEY", CANARY)
    base_url, strict = sandbox.base_url, None  # the shared sandbox takes any key
    if failure == "refused":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base_url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"  # nothing listens there once closed
    elif failure == "401":
        strict = start(data_dir=tmp_path, api_key="sk-other")
        base_url = strict.base_url
    elif failure in ("dropped", "timeout"):
        fault = {"drop": True} if failure == "dropped" else {"delay": 5.0}
        requests.post(sandbox.url + "/sandbox/faults", json={"path": "/v1/chat/completions", **fault}, timeout=10)
    try:
        with capture_output() as out:
            for line in ("xmode Verbose", "config OAIMagics.short_errors = False", "config OAIMagics.max_retries = 0",
                         "config OAIMagics.timeout = 1.0", f"oai profile add canary --base-url {base_url} --key-env CANARY_KEY",
                         "oai use canary"):
                shell.run_line_magic(*line.split(" ", 1))
            result = shell.run_cell("%chat --no-stream hello")
            shell.run_line_magic("tb", "")
    finally:
        requests.delete(sandbox.url + "/sandbox/faults", timeout=10)
        if strict is not None:
            strict.stop()
    error = result.error_in_exec
    from oai_magics.client import OpenAIError
    from oai_magics.client.secret import Secret

    assert isinstance(error, OpenAIError), error
    assert type(error).__name__ in out.stdout and "Traceback" in out.stdout  # the long form was printed, twice
    assert CANARY not in out.stdout + out.stderr
    assert CANARY not in verbose_traceback(error)
    # A Secret holds the key behind its mask, and the shell holds the whole notebook: neither is opened.
    assert find_secret(error, CANARY, opaque=(Secret, InteractiveShell)) == []


@pytest.mark.parametrize("failure", ["refused", "404"])
def test_a_token_in_the_base_url_is_in_no_verbose_traceback_nor_the_exception(shell: Any, sandbox: Any, failure: str,
                                                                              monkeypatch: Any) -> None:
    # The key stays behind its Secret; a gateway's token written into the base URL
    # (https://user:TOKEN@host/v1) did not: %xmode Verbose showed it in every frame of the client,
    # in `<Requester http://user:TOKEN@...>`, in `Call(url=...)` and in the URL handed to the transport.
    import socket

    token = "gw-canary-7f3a%2Fsecret"
    monkeypatch.setenv("CANARY_KEY", sandbox.api_key)
    base_url = sandbox.base_url
    if failure == "refused":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base_url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"  # nothing listens there once closed
    base_url = base_url.replace("http://", f"http://gateway:{token}@")
    with capture_output() as out:
        for line in ("xmode Verbose", "config OAIMagics.short_errors = False", "config OAIMagics.max_retries = 0",
                     f"oai profile add gate --base-url {base_url} --key-env CANARY_KEY", "oai use gate"):
            shell.run_line_magic(*line.split(" ", 1))
        result = shell.run_cell("%chat --no-stream -m no-such-model hello")
        shell.run_line_magic("tb", "")
    error = result.error_in_exec
    from oai_magics.client import OpenAIError

    assert isinstance(error, OpenAIError), error
    assert "Traceback" in out.stdout
    for shown in (token, "7f3a/secret"):  # as typed, and decoded
        assert shown not in out.stdout + out.stderr
        assert shown not in verbose_traceback(error)
