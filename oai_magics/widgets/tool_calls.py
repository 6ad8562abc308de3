"""The panel a run that waits for tool outputs shows: each call's function and pretty-printed
arguments with an output field (filled in advance when a Python function answers it), and one Submit.

An MCP approval request (the API waits before it calls a remote MCP server's tool) is a row of its
own: the server, the tool, the pretty-printed arguments, and Approve / Deny. When every row is such
a request, the last decision sends them all (`on_decided`); the call's result then arrives as a
step of the run."""

from __future__ import annotations

import html
import json
from typing import Callable, Mapping, Sequence

import ipywidgets as widgets

from ..assistants import APPROVE, DENY, ToolCall
from ..tools import call_tool

__all__ = ["ToolCallsPanel", "pretty_arguments"]


def pretty_arguments(arguments: str) -> str:
    """The model's JSON arguments indented for reading; text that is not JSON is shown as it is."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return arguments


class ToolCallsPanel:
    """Hidden until a run asks for tool outputs; `outputs` maps each call id to its output field's text."""

    def __init__(self) -> None:
        self.submit_button = widgets.Button(description="Submit", button_style="primary", icon="paper-plane",
                                            tooltip="Send these outputs and let the run go on").add_class("oai-submit")
        self.title = widgets.HTML("<b>The run waits for tool outputs</b>")
        self._box = widgets.VBox([])
        self._fields: dict[str, widgets.Textarea] = {}
        self._decisions: dict[str, str] = {}  # approval request id -> APPROVE or DENY, once clicked
        self._buttons: list[widgets.Button] = []  # the Approve / Deny buttons, disabled once the decisions are sent
        self.on_decided: Callable[[], None] | None = None  # every row an approval, all decided: send them
        self.calls: list[ToolCall] = []
        self.widget = widgets.VBox([self.title, self._box, self.submit_button],
                                   layout=widgets.Layout(display="none", border="1px solid #f0c36d", padding="6px")
                                   ).add_class("oai-tool-calls")

    def show(self, calls: Sequence[ToolCall], functions: Mapping[str, Callable[..., object]]) -> None:
        """One row per call; a call whose function is known has its output computed already."""
        self.calls = list(calls)
        self._fields, self._decisions, self._buttons = {}, {}, []
        rows = []
        for call in self.calls:
            if "server" in call:
                rows.append(self._approval_row(call))
                continue
            known = call["name"] in functions
            output = call_tool(dict(functions), call["name"], call["arguments"]) if known else ""
            field = widgets.Textarea(value=output, placeholder=f"output of {call['name']}",
                                     description="Output", layout=widgets.Layout(width="95%", height="60px"))
            field.add_class("oai-tool-output")
            source = "computed by the Python function" if known else "no Python function of that name: type the output"
            header = widgets.HTML(
                f'<div class="oai-tool-call"><code>{html.escape(call["name"])}</code> '
                f'<span style="color:#777">({html.escape(source)})</span>'
                f'<pre style="margin:2px 0">{html.escape(pretty_arguments(call["arguments"]))}</pre></div>')
            self._fields[call["id"]] = field
            rows.append(widgets.VBox([header, field]))
        self._box.children = tuple(rows)
        self.submit_button.disabled = False
        self.submit_button.layout.display = "none" if self._only_approvals else ""
        self.title.value = "<b>The run waits for your approval</b>" if self._only_approvals else \
            "<b>The run waits for tool outputs</b>"
        self.widget.layout.display = "flex"

    @property
    def _only_approvals(self) -> bool:
        return bool(self.calls) and all("server" in call for call in self.calls)

    def _approval_row(self, call: ToolCall) -> widgets.Widget:
        """Server, tool and arguments of an MCP approval request, with Approve / Deny."""
        header = widgets.HTML(
            f'<div class="oai-approval-call"><span style="color:#777">MCP server</span> '
            f'<code>{html.escape(call.get("server", ""))}</code> <span style="color:#777">wants to run</span> '
            f'<code>{html.escape(call["name"])}</code>'
            f'<pre style="margin:2px 0">{html.escape(pretty_arguments(call["arguments"]))}</pre></div>')
        approve = widgets.Button(description="Approve", button_style="success", icon="check").add_class("oai-approve")
        deny = widgets.Button(description="Deny", button_style="danger", icon="times").add_class("oai-deny")
        decided = widgets.HTML("").add_class("oai-decision")
        approve.on_click(lambda _b: self.decide(call["id"], APPROVE, decided))
        deny.on_click(lambda _b: self.decide(call["id"], DENY, decided))
        self._buttons += [approve, deny]
        return widgets.VBox([header, widgets.HBox([approve, deny, decided])]).add_class("oai-approval")

    def decide(self, call_id: str, decision: str, shown: widgets.HTML | None = None) -> None:
        """Record Approve or Deny for a request; with every row an approval and all decided, send them.
        Once sent, a click more (a double click, a change of mind) changes nothing: the run has the answers."""
        if self._buttons and all(button.disabled for button in self._buttons):
            return
        self._decisions[call_id] = decision
        if shown is not None:
            shown.value = "approved" if decision == APPROVE else "denied"
        if self._only_approvals and len(self._decisions) == len(self.calls) and self.on_decided is not None:
            for button in self._buttons:
                button.disabled = True
            self.on_decided()

    def reopen(self) -> None:
        """The outputs or decisions did not reach the run: every button is live again and what was typed
        or decided is kept, so Submit (or the last Approve / Deny) sends them again."""
        self.submit_button.disabled = False
        for button in self._buttons:
            button.disabled = False

    def hide(self) -> None:
        self.widget.layout.display = "none"
        self.calls = []
        self._fields, self._decisions, self._buttons = {}, {}, []
        self._box.children = ()

    @property
    def visible(self) -> bool:
        return self.widget.layout.display != "none"

    @property
    def outputs(self) -> dict[str, str]:
        return {**{call_id: field.value for call_id, field in self._fields.items()}, **self._decisions}

    def field(self, call_id: str) -> widgets.Textarea:
        return self._fields[call_id]
