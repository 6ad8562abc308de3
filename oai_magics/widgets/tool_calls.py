"""The panel a run that waits for tool outputs shows: each call's function and pretty-printed
arguments with an output field (filled in advance when a Python function answers it), and one Submit."""

from __future__ import annotations

import html
import json
from typing import Callable, Mapping, Sequence

import ipywidgets as widgets

from ..assistants import ToolCall
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
        self.calls: list[ToolCall] = []
        self.widget = widgets.VBox([self.title, self._box, self.submit_button],
                                   layout=widgets.Layout(display="none", border="1px solid #f0c36d", padding="6px")
                                   ).add_class("oai-tool-calls")

    def show(self, calls: Sequence[ToolCall], functions: Mapping[str, Callable[..., object]]) -> None:
        """One row per call; a call whose function is known has its output computed already."""
        self.calls = list(calls)
        self._fields = {}
        rows = []
        for call in self.calls:
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
        self.widget.layout.display = "flex"

    def hide(self) -> None:
        self.widget.layout.display = "none"
        self.calls = []
        self._fields = {}
        self._box.children = ()

    @property
    def visible(self) -> bool:
        return self.widget.layout.display != "none"

    @property
    def outputs(self) -> dict[str, str]:
        return {call_id: field.value for call_id, field in self._fields.items()}

    def field(self, call_id: str) -> widgets.Textarea:
        return self._fields[call_id]
