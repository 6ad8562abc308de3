"""The thread-run builder in a real JupyterLab in headless Chromium, against a sandbox over loopback:
pick an assistant, type, Run, watch the reply stream in, then answer a tool call through the form;
once on the chat back end, against a sandbox with chat completions only; and approving a remote MCP
server's calls, one and then two at once (the sandbox, as the API, calls the tests' own MCP server).

Every wait is on something the page shows (Playwright's `expect`, bounded); the screenshots are kept
in build/test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from oai_magics.client import Client
from oai_magics.sandbox import Sandbox, start
from oai_magics.tools import chat_tool

from tests.helpers.notes_server import RunningMcp, serve_mcp

from .lab import ARTIFACTS, NEEDS_CHROMIUM, Lab, lab_with, playwright_expect

expect = playwright_expect()
pytestmark = NEEDS_CHROMIUM

FORM_CELL = '''\
from oai_magics.client import Client
from oai_magics.widgets import ThreadRunBuilder

def get_weather(city: str, unit: str = "celsius") -> dict:
    """Current weather in a city."""
    return {"city": city, "temperature": 21, "unit": unit}

builder = ThreadRunBuilder(Client(), functions=[get_weather])  # the server is asked which API it speaks
builder
'''


# The same form on a server with chat completions only (as llama.cpp or Ollama): the chat back end.
CHAT_FORM_CELL = '''\
import os
from oai_magics.assistants import choose_backend
from oai_magics.client import Client
from oai_magics.tools import chat_tool
from oai_magics.widgets import ThreadRunBuilder

def get_weather(city: str, unit: str = "celsius") -> dict:
    """Current weather in a city."""
    return {"city": city, "temperature": 21, "unit": unit}

backend = choose_backend(Client(base_url=os.environ["CHAT_ONLY_BASE_URL"]), "chat")
backend.create_assistant(name="weather desk", model="gpt-4o-mini", tools=[chat_tool(get_weather)])
builder = ThreadRunBuilder(backend, functions=[get_weather])  # picks the newest assistant
builder
'''


# A remote MCP server on the responses back end: the run waits for an approval in the form.
MCP_FORM_CELL = '''\
import os
from oai_magics.assistants import choose_backend
from oai_magics.client import Client
from oai_magics.mcp.remote import RemoteServer
from oai_magics.widgets import ThreadRunBuilder

backend = choose_backend(Client(), "responses")
backend.create_assistant(name="librarian", model="gpt-4o-mini",
                         tools=[RemoteServer("notes", os.environ["MCP_NOTES_URL"]).record()])
builder = ThreadRunBuilder(backend)  # picks the newest assistant
builder
'''


# Run while the form waits for tool outputs: the kernel takes other cells meanwhile.
PROBE_CELL = 'print("kernel free; the form waits on", [call["name"] for call in builder.calls.calls])'


def get_weather(city: str, unit: str = "celsius") -> dict:
    """Current weather in a city."""
    return {"city": city, "temperature": 21, "unit": unit}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    # A small pause between chunks so the reply really arrives in pieces.
    with start(data_dir=tmp_path_factory.mktemp("sandbox"), token_delay=0.01) as running:
        yield running


@pytest.fixture(scope="module")
def bare_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("bare"), token_delay=0.01, assistants_api=False,
               conversations_api=False) as running:
        yield running


@pytest.fixture(scope="module")
def assistants(sandbox: Sandbox) -> dict[str, str]:
    """The assistants the page picks from: the option labels the form gives them."""
    with Client(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        plain = client.assistants.create(model="gpt-4o-mini", name="travel guide", instructions="Be brief.")
        weather = client.assistants.create(model="gpt-4o-mini", name="weather desk", tools=[chat_tool(get_weather)])
    return {"plain": f"travel guide · gpt-4o-mini · {plain['id']}",
            "weather": f"weather desk · gpt-4o-mini · {weather['id']}"}


@pytest.fixture(scope="module")
def notes() -> Iterator[RunningMcp]:
    with serve_mcp() as running:
        yield running


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox, bare_sandbox: Sandbox,
        notes: RunningMcp) -> Iterator[Lab]:
    notebooks = {"builder.ipynb": [FORM_CELL, PROBE_CELL], "builder_chat.ipynb": [CHAT_FORM_CELL],
                 "builder_mcp.ipynb": [MCP_FORM_CELL], "builder_mcp2.ipynb": [MCP_FORM_CELL.replace("librarian", "archivist")]}
    # The kernel finds the sandbox through the environment: the key is never written into the notebook.
    with lab_with(tmp_path_factory.mktemp("lab"), notebooks, {
            "OPENAI_API_KEY": sandbox.api_key, "OPENAI_BASE_URL": sandbox.base_url,
            "CHAT_ONLY_BASE_URL": bare_sandbox.base_url, "MCP_NOTES_URL": notes.url}) as running:
        yield running


def open_builder(page: Any, lab: Lab, url: str | None = None) -> Any:
    page.goto(url or lab.notebook_url("builder.ipynb"))
    expect(page.locator(".jp-NotebookPanel")).to_be_visible()
    # The status bar's kernel text, not the toolbar indicator: that one says "idle" before a kernel
    # exists, and a Shift+Enter sent then is dropped.
    kernel = page.locator('#jp-main-statusbar .jp-StatusBar-TextItem[title^="Change kernel"]')
    expect(kernel).to_have_text(re.compile(r"\| Idle$"))
    cell = page.locator(".jp-Notebook .jp-Cell").first
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[1\]"))
    form = page.locator(".jp-OutputArea-output .oai-builder")
    expect(form).to_be_visible()
    return form


def run_in_workspace(browser: Any, lab: Lab, name: str, assistant: str, message: str) -> Any:
    """Open builder_NAME.ipynb in a workspace of its own (the first test's notebook stays out of this
    page's layout), run its form cell, and send `message` to the assistant it picked."""
    form = open_builder(browser, lab, f"{lab.url}/lab/workspaces/{name}/tree/builder_{name}.ipynb?reset&token={lab.token}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect(form.locator(".oai-assistant select option", has_text=assistant)).to_have_count(1)
    form.locator(".oai-message textarea").fill(message)
    form.locator("button.oai-run").click()
    return form


def test_the_builder_runs_and_answers_a_tool_call_in_jupyterlab(page: tuple[Any, list[str]], lab: Lab,
                                                                  assistants: dict[str, str]) -> None:
    browser, blocked = page
    form = open_builder(browser, lab)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # A plain run: the reply streams into the chat view.
    picker = form.locator(".oai-assistant select")
    expect(picker.locator("option", has_text="travel guide")).to_have_count(1)
    picker.select_option(label=assistants["plain"])
    form.locator(".oai-message textarea").fill("Tell me about Lisbon.")
    form.locator("button.oai-run").click()
    reply = form.locator(".oai-chat .oai-chat-assistant .oai-chat-text").last
    expect(reply).to_contain_text("oai_magics sandbox")
    expect(reply).to_contain_text("Lisbon")
    expect(form.locator(".oai-status")).to_contain_text("completed")
    expect(form.locator(".oai-steps")).to_contain_text("message_creation")
    expect(form.locator("button.oai-run")).to_be_enabled()

    # A tool-call round: the call is shown with its output computed by the notebook's function.
    picker.select_option(label=assistants["weather"])
    form.locator(".oai-message textarea").fill("What is the weather in Porto?")
    form.locator("button.oai-run").click()
    calls = form.locator(".oai-tool-calls")
    expect(calls).to_be_visible()
    expect(calls.locator(".oai-tool-call")).to_contain_text("get_weather")
    expect(calls.locator(".oai-tool-call pre")).to_contain_text('"city"')
    output = calls.locator(".oai-tool-output textarea")
    expect(output).to_have_value(re.compile(r'"temperature": 21'))
    expect(form.locator(".oai-status")).to_contain_text("requires_action")
    form.screenshot(path=str(ARTIFACTS / "builder-tool-call.png"))
    probe = browser.locator(".jp-Notebook .jp-Cell").nth(1)
    probe.locator(".cm-content").click()
    browser.keyboard.press("Control+Enter")
    expect(probe.locator(".jp-OutputArea-output")).to_contain_text("kernel free; the form waits on ['get_weather']")
    calls.locator("button.oai-submit").click()
    expect(calls).to_be_hidden()
    expect(form.locator(".oai-chat .oai-chat-tool").last).to_contain_text("get_weather →")
    final = form.locator(".oai-chat .oai-chat-assistant .oai-chat-text").last
    expect(final).to_contain_text("21")
    expect(form.locator(".oai-status")).to_contain_text("completed")
    expect(form.locator(".oai-error")).to_have_text("")

    form.screenshot(path=str(ARTIFACTS / "builder-form.png"))
    browser.screenshot(path=str(ARTIFACTS / "builder-lab.png"), full_page=True)
    assert blocked == [], blocked


def test_the_builder_on_the_chat_back_end_in_jupyterlab(page: tuple[Any, list[str]], lab: Lab,
                                                        bare_sandbox: Sandbox) -> None:
    browser, blocked = page
    form = run_in_workspace(browser, lab, "chat", "weather desk", "What is the weather in Porto?")
    calls = form.locator(".oai-tool-calls")
    expect(calls).to_be_visible()
    expect(calls.locator(".oai-tool-call")).to_contain_text("get_weather")
    expect(calls.locator(".oai-tool-output textarea")).to_have_value(re.compile(r'"temperature": 21'))
    expect(form.locator(".oai-status")).to_contain_text("requires_action")
    calls.locator("button.oai-submit").click()
    expect(calls).to_be_hidden()
    expect(form.locator(".oai-chat .oai-chat-assistant .oai-chat-text").last).to_contain_text("21")
    expect(form.locator(".oai-status")).to_contain_text("completed")
    expect(form.locator(".oai-steps")).to_contain_text("tool_calls")
    expect(form.locator(".oai-error")).to_have_text("")
    form.screenshot(path=str(ARTIFACTS / "builder-chat-form.png"))
    assert blocked == [], blocked


def completed_cleanly(form: Any, blocked: list[str], screenshot: str) -> None:
    """The run ended completed with no error line and nothing off loopback asked for; the form kept as a PNG."""
    expect(form.locator(".oai-status")).to_contain_text("completed")
    expect(form.locator(".oai-error")).to_have_text("")
    form.screenshot(path=str(ARTIFACTS / screenshot))
    assert blocked == [], blocked


def test_the_builder_approves_a_remote_mcp_call_in_jupyterlab(page: tuple[Any, list[str]], lab: Lab) -> None:
    browser, blocked = page
    form = run_in_workspace(browser, lab, "mcp", "librarian", "lookup the notes about Oslo")
    approval = form.locator(".oai-tool-calls .oai-approval")
    expect(approval).to_be_visible()
    expect(approval.locator(".oai-approval-call")).to_contain_text("notes")
    expect(approval.locator(".oai-approval-call")).to_contain_text("lookup")
    expect(approval.locator(".oai-approval-call pre")).to_contain_text('"city": "Oslo"')
    expect(form.locator(".oai-status")).to_contain_text("requires_action")
    form.screenshot(path=str(ARTIFACTS / "builder-mcp-approval.png"))
    approval.locator("button.oai-approve").click()
    expect(form.locator(".oai-tool-calls")).to_be_hidden()
    expect(form.locator(".oai-chat .oai-chat-tool", has_text="notes.lookup → Oslo: 2 notes")).to_have_count(1)
    expect(form.locator(".oai-chat .oai-chat-assistant .oai-chat-text").last).to_contain_text("Oslo: 2 notes")
    completed_cleanly(form, blocked, "builder-mcp-form.png")


def test_the_builder_approves_one_and_denies_another_of_two_requests_in_jupyterlab(page: tuple[Any, list[str]],
                                                                                   lab: Lab) -> None:
    browser, blocked = page
    form = run_in_workspace(browser, lab, "mcp2", "archivist", "lookup Oslo, then delete_note Oslo")
    rows = form.locator(".oai-tool-calls .oai-approval")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".oai-approval-call")).to_contain_text("lookup")
    expect(rows.nth(1).locator(".oai-approval-call")).to_contain_text("delete_note")
    form.screenshot(path=str(ARTIFACTS / "builder-mcp-two-requests.png"))
    rows.nth(0).locator("button.oai-approve").click()
    expect(rows.nth(0).locator(".oai-decision")).to_have_text("approved")
    expect(form.locator(".oai-status")).to_contain_text("requires_action")  # one row still waits: nothing sent
    form.screenshot(path=str(ARTIFACTS / "builder-mcp-one-decided.png"))
    rows.nth(1).locator("button.oai-deny").click()
    expect(form.locator(".oai-tool-calls")).to_be_hidden()
    chat = form.locator(".oai-chat")
    expect(chat.locator(".oai-chat-tool", has_text="notes.lookup → approved")).to_have_count(1)
    expect(chat.locator(".oai-chat-tool", has_text="notes.delete_note → denied")).to_have_count(1)
    expect(chat.locator(".oai-chat-tool", has_text="notes.lookup → Oslo: 2 notes")).to_have_count(1)
    expect(chat.locator(".oai-chat-assistant .oai-chat-text").last).to_contain_text("denied")
    completed_cleanly(form, blocked, "builder-mcp-two-done.png")
