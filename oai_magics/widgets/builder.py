"""The thread-run builder: an ipywidgets form to pick or create an assistant, pick or start a thread,
type a message (with files), set per-run overrides, and run it while watching status, steps and the
streamed reply; tool calls are answered in the form.

Clicks are handled on the kernel's main thread and only check the form and queue a job: every network
call runs on one worker thread (`ThreadRunBuilder.future` is the latest job's future), so the cell
that showed the form returns at once, other cells run meanwhile, and Cancel stays live. The worker
touches the page only through widget traits.

    builder = ThreadRunBuilder(client, api="assistants", functions=[get_weather])
    builder                                  # show it
    builder.message.value = "Weather in Lisbon?"; builder.run_button.click()
    builder.future.result(timeout=60)        # a RunOutcome, when the run ends or waits for tools
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
from typing import Any, Callable, Iterator, Mapping, Sequence

import ipywidgets as widgets

from .. import model_defaults
from ..assistants import TERMINAL, Backend, RunHandle, RunOutcome, ToolCall
from ..schema import read_schema
from .chat_view import ChatView
from .key_values import KeyValueRows
from .run_worker import RunFollower, one_line
from .sources import Functions, backend_for_form, function_table, tool_names, user_namespace
from .tool_calls import ToolCallsPanel

__all__ = ["ThreadRunBuilder", "RunOutcome"]

NEW_THREAD = "New thread"


class ThreadRunBuilder(widgets.VBox):
    """The form; display it, or drive it from code through its widgets and `future`. It is the
    `RunForm` its worker (`RunFollower`) fills.

    `source` is an assistants back end (`oai_magics.assistants.backend_for`), or an
    `oai_magics.Client` to make one from with `api` ("responses", "assistants" or "chat"; by default the
    server is asked which it speaks, once: the answer `%assistant` got is used); without one, a
    client from the environment. Attached files go to the back end's client's files API.
    `functions` are the Python functions tool calls may run (a list, or a dict by name); functions
    the notebook defines (the `shell`'s, by default the running one's) are found too.
    """

    def __init__(self, source: Any = None, *, api: str | None = None,
                 functions: Functions | None = None,
                 model: str | None = None, shell: Any = None, namespace: Mapping[str, Any] | None = None) -> None:
        self.backend: Backend = source if isinstance(source, Backend) else backend_for_form(source, api)
        self.client = getattr(self.backend, "client", None)
        self._functions = function_table(functions)
        self._namespace = namespace if namespace is not None else user_namespace(shell)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="oai-builder")
        # Cancel must not queue behind the worker, which is busy reading the very stream to cancel.
        self._canceller = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="oai-builder-cancel")
        self.cancel_future: concurrent.futures.Future | None = None
        self.handle: RunHandle | None = None
        self._cancel_wanted = False
        self._quiet = False  # set while the worker changes the thread picker, so history is not reloaded
        self._live = False  # a run is on (streaming, or waiting for tool outputs): see `_busy` and `idle`

        self._build(model or model_defaults.default("chat"))
        self.worker = RunFollower(self)
        super().__init__(self._layout())
        self._tell_fallback(chosen=not isinstance(source, Backend) and api is None)
        self.add_class("oai-builder")
        self.future: concurrent.futures.Future = self._queue(self._load_lists)

    # -- layout ----------------------------------------------------------------------------------
    def _build(self, model: str) -> None:
        wide = widgets.Layout(width="95%")
        self.assistant = widgets.Dropdown(description="Assistant", options=[],
                                          layout=widgets.Layout(width="60%")).add_class("oai-assistant")
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Reload assistants and threads",
                                             layout=widgets.Layout(width="36px")).add_class("oai-refresh")
        self.new_assistant_button = widgets.Button(description="New assistant", icon="plus").add_class("oai-new-assistant")
        self.new_name = widgets.Text(description="Name", placeholder="assistant name").add_class("oai-new-name")
        self.new_model = widgets.Text(description="Model", value=model).add_class("oai-new-model")
        self.new_instructions = widgets.Textarea(description="Instructions", layout=wide).add_class("oai-new-instructions")
        self.new_tools = widgets.Text(description="Tools", placeholder="Python functions, e.g. get_weather, lookup",
                                      layout=wide).add_class("oai-new-tools")
        self.create_button = widgets.Button(description="Create", button_style="success").add_class("oai-create")
        self.create_box = widgets.VBox(
            [self.new_name, self.new_model, self.new_instructions, self.new_tools, self.create_button],
            layout=widgets.Layout(display="none", border="1px solid #ddd", padding="4px"))
        self.thread = widgets.Dropdown(description="Thread", options=[(NEW_THREAD, "")], value="",
                                       layout=widgets.Layout(width="60%")).add_class("oai-thread")
        self.message = widgets.Textarea(description="Message", placeholder="Type a message",
                                        layout=widgets.Layout(width="95%", height="70px")).add_class("oai-message")
        self.files = widgets.FileUpload(description="Attach files", multiple=True, accept="").add_class("oai-files")
        self.model = widgets.Text(description="Model", placeholder="the assistant's").add_class("oai-model")
        self.reasoning = widgets.Dropdown(description="Reasoning", options=[("the model's own", "")] + [
            (effort, effort) for effort in model_defaults.REASONING_EFFORTS], value="").add_class("oai-reasoning")
        self.instructions = widgets.Textarea(description="Instructions", placeholder="the assistant's",
                                             layout=wide).add_class("oai-instructions")
        self.tools = widgets.Text(description="Tools", placeholder="the assistant's; or Python functions by name",
                                  layout=wide).add_class("oai-tools")
        self.schema = widgets.Text(description="Schema", placeholder="the assistant's; a spec such as city: str, "
                                   "stars: int, or a variable holding a Pydantic class or a JSON Schema",
                                   layout=wide).add_class("oai-schema")
        self.metadata = KeyValueRows()
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play").add_class("oai-run")
        self.cancel_button = widgets.Button(description="Cancel", button_style="warning", icon="stop",
                                            disabled=True).add_class("oai-cancel")
        self.status = widgets.HTML("idle").add_class("oai-status")
        self.error = widgets.HTML("").add_class("oai-error")
        self.steps = widgets.HTML("").add_class("oai-steps")
        self.chat = ChatView()
        self.calls = ToolCallsPanel()

        self.refresh_button.on_click(lambda _b: self._queue(self._load_lists))
        self.new_assistant_button.on_click(self._toggle_create)
        self.create_button.on_click(self._on_create)
        self.thread.observe(self._on_thread, names="value")
        self.run_button.on_click(self._on_run)
        self.cancel_button.on_click(self._on_cancel)
        self.calls.submit_button.on_click(self._on_submit)
        self.calls.on_decided = self._on_submit  # MCP approvals only: the last Approve / Deny sends them

    def _layout(self) -> list[widgets.Widget]:
        overrides = widgets.Accordion(children=[widgets.VBox([
            self.model, self.reasoning, self.instructions, self.tools, self.schema, widgets.HTML("<b>Metadata</b>"),
            self.metadata.widget])])
        overrides.set_title(0, "Per-run overrides")
        overrides.selected_index = None
        return [widgets.HBox([self.assistant, self.refresh_button, self.new_assistant_button]), self.create_box,
                self.thread, self.message, self.files, overrides,
                widgets.HBox([self.run_button, self.cancel_button, self.status]), self.error, self.steps,
                self.chat.widget, self.calls.widget]

    # -- what code and tests call ----------------------------------------------------------------
    @property
    def functions(self) -> dict[str, Callable[..., Any]]:
        """Python functions tool calls may run: those given, then callables the notebook defines."""
        found = {name: value for name, value in self._namespace.items()
                 if callable(value) and not isinstance(value, type) and not name.startswith("_")
                 and getattr(value, "__module__", None) == "__main__"}
        return {**found, **self._functions}

    def __repr__(self) -> str:
        status = re.sub(r"<[^>]+>", "", self.status.value).split(" · ")[0]
        return (f"ThreadRunBuilder(api={self.backend.name!r}, assistant={self.assistant.value!r}, "
                f"thread={self.thread.value or None!r}, status={status!r})")

    def wait(self, timeout: float | None = 60) -> Any:
        """The result of the latest job (a RunOutcome for runs), waiting at most `timeout` seconds."""
        return self.future.result(timeout)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._canceller.shutdown(wait=False, cancel_futures=True)
        super().close()

    # -- the worker's plumbing -------------------------------------------------------------------
    def _queue(self, job: Callable[[], Any]) -> concurrent.futures.Future:
        """Run `job` on the worker thread; its errors become the form's red line, never a traceback."""
        def guarded() -> Any:
            try:
                return job()
            except Exception as error:  # the form must stay usable whatever went wrong
                self.show_error(one_line(error))
                self.idle()
                return RunOutcome(status="error", error=one_line(error), text=self.chat.reply_text)

        self.future = self._executor.submit(guarded)
        return self.future

    def _tell_fallback(self, chosen: bool) -> None:
        """Say why the chat back end was chosen when the server's answer did not tell (once per server)."""
        from ..assistants.chooser import fallback_note

        note = fallback_note(self.client) if chosen and self.client is not None else None
        if note:
            self.show_error(f"the form uses the chat API: {note}", notice=True)

    def show_error(self, text: str, notice: bool = False) -> None:
        """One line under the buttons: red for an error, amber for something that was recovered."""
        import html

        kind, colour, mark = ("notice", "#8a5a00", "ℹ") if notice else ("error", "#b00020", "⚠")
        self.error.value = (f'<span class="oai-{kind}-line" style="color:{colour}">{mark} {html.escape(text)}</span>'
                            if text else "")

    # -- the form's two states: a run is live, or nothing runs ----------------------------------
    def _busy(self) -> None:
        """A run starts: Run and the thread picker wait for it to end (its reply streams into the
        view of its thread); Cancel is live."""
        self._live = True
        self.run_button.disabled = True
        self.thread.disabled = True
        self.cancel_button.disabled = False

    # -- what the worker calls (the RunForm protocol) --------------------------------------------
    def idle(self, thread_id: str | None = None) -> None:
        if thread_id:
            self.select_thread(thread_id)
        self._live = False
        self.cancel_button.disabled = True
        self.thread.disabled = False
        self.run_button.disabled = False  # last: by now the picker shows the thread a next run goes to

    def show_status(self, html_line: str) -> None:
        self.status.value = html_line

    def show_steps(self, html_list: str) -> None:
        self.steps.value = html_list

    def show_calls(self, calls: Sequence[ToolCall]) -> None:
        self.calls.show(calls, self.functions)
        self.cancel_button.disabled = False  # the run waits: it can still be cancelled

    def hide_calls(self) -> None:
        self.calls.hide()

    def calls_not_taken(self, line: str) -> None:
        self.show_error(line)
        self.calls.reopen()
        self.cancel_button.disabled = False

    def keep_message(self, text: str) -> None:
        if not self.message.value:  # what the user typed since is not overwritten
            self.message.value = text

    def run_started(self, handle: RunHandle, files_sent: bool) -> bool:
        self.handle = handle
        if files_sent:
            self.files.value = ()
        return self._cancel_wanted

    def select_thread(self, thread_id: str) -> None:
        if self.thread.value == thread_id:
            return
        options = list(self.thread.options)
        if thread_id not in [value for _, value in options]:
            options.append((thread_id, thread_id))
        with self._quietly():  # the thread's history is on show already: no reload
            self.thread.options = options
            self.thread.value = thread_id

    # -- lists -----------------------------------------------------------------------------------
    def _load_lists(self, select_assistant: str | None = None, select_thread: str | None = None) -> None:
        assistants = self.backend.list_assistants()
        threads = self.backend.list_threads()
        keep = select_assistant or self.assistant.value
        self.assistant.options = [(f"{a['name'] or '(unnamed)'} · {a['model']} · {a['id']}", a["id"]) for a in assistants]
        ids = [a["id"] for a in assistants]
        if ids:  # what was picked before, else the newest: a dropdown that shows an option has it picked
            self.assistant.value = keep if keep in ids else ids[-1]
        self._set_threads(threads, select_thread if select_thread is not None else self.thread.value)

    def _set_threads(self, threads: list[dict], selected: str) -> None:
        options = [(NEW_THREAD, "")] + [(f"{t['title'] or t['id']} · {t['id']}" if t.get("title") else t["id"], t["id"])
                                       for t in threads]
        with self._quietly():
            self.thread.options = options
            self.thread.value = selected if selected in [value for _, value in options] else ""

    @contextlib.contextmanager
    def _quietly(self) -> Iterator[None]:
        """Change the thread picker without loading the history of the thread it then shows."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _on_thread(self, change: dict) -> None:
        if self._quiet:
            return
        if self._live:  # the picker is disabled, but code (or a page that raced the disable) may change it
            with self._quietly():
                self.thread.value = change["old"]  # the reply streaming into this view stays
            self.show_error("The thread can change once the run ends (or is cancelled).", notice=True)
            return
        thread_id = change["new"]
        if not thread_id:
            self.chat.show_messages([])
            return
        self._queue(lambda: self.chat.show_messages(
            [(m["role"], m["text"]) for m in self.backend.list_messages(thread_id)]))

    # -- creating an assistant -------------------------------------------------------------------
    def _toggle_create(self, _button: Any = None) -> None:
        shown = self.create_box.layout.display != "none"
        self.create_box.layout.display = "none" if shown else "flex"

    def _on_create(self, _button: Any = None) -> None:
        name, model = self.new_name.value.strip(), self.new_model.value.strip()
        try:
            if not model:
                raise ValueError("the new assistant needs a model")
            tools = self._tool_specs(self.new_tools.value)
        except ValueError as error:
            self.show_error(str(error))
            return
        self.show_error("")
        instructions = self.new_instructions.value.strip() or None

        def create() -> Any:
            record = self.backend.create_assistant(name=name or None, model=model, instructions=instructions, tools=tools)
            self._load_lists(select_assistant=record["id"])
            self.create_box.layout.display = "none"
            return record

        self._queue(create)

    def _tool_specs(self, text: str) -> list[dict]:
        """Tools named in a field: Python functions, or tool specs (dicts) the notebook holds."""
        from ..tools import chat_tool

        specs = {name: value for name, value in self._namespace.items()
                 if isinstance(value, dict) and value.get("type") == "function"}
        known = {**specs, **self.functions}
        unknown = [name for name in tool_names(text) if name not in known]
        if unknown:
            raise ValueError(f"no Python function or tool spec named {', '.join(unknown)} in this notebook")
        return [chat_tool(known[name], name=name) for name in tool_names(text)]

    # -- running ---------------------------------------------------------------------------------
    def _on_run(self, _button: Any = None) -> None:
        """Check the form on the main thread (mistakes are shown before anything is sent), then queue the run."""
        try:
            request = self._run_request()
        except ValueError as error:
            self.show_error(str(error))
            return
        self.show_error("")
        self._busy()
        self._cancel_wanted = False
        self.calls.hide()
        self.message.value = ""  # sent: the field is free for the next message while this run goes on
        uploads = [(item["name"], bytes(item["content"])) for item in self.files.value]
        self._queue(lambda: self.worker.start(request, uploads))

    def _run_request(self) -> dict[str, Any]:
        if not self.assistant.value:
            raise ValueError("pick an assistant first (or create one)")
        message = self.message.value.strip()
        if not message:
            raise ValueError("type a message first")
        tools = self._tool_specs(self.tools.value) if self.tools.value.strip() else None
        schema = read_schema(self.schema.value.strip(), self._namespace) if self.schema.value.strip() else None
        return {"assistant": self.assistant.value, "thread_id": self.thread.value or None, "message": message,
                "model": self.model.value.strip() or None, "instructions": self.instructions.value.strip() or None,
                "tools": tools, "metadata": self.metadata.value or None, "reasoning": self.reasoning.value or None,
                "schema": schema}

    def _on_submit(self, _button: Any = None) -> None:
        handle = self.handle
        if handle is None or not self.calls.visible:
            self.show_error("no run is waiting for tool outputs")
            return
        outputs = self.calls.outputs
        calls: list[ToolCall] = list(self.calls.calls)
        empty = [call["name"] for call in calls if not outputs.get(call["id"], "").strip()]
        if empty:  # the run would go on with nothing where the model asked for a value
            self.show_error(f"type an output for {', '.join(empty)} first (the run waits for it)")
            return
        self.calls.submit_button.disabled = True
        self.show_error("")
        self._queue(lambda: self.worker.submit(handle, calls, outputs))

    def _on_cancel(self, _button: Any = None) -> None:
        """Cancel works at any time: during a stream it runs beside the worker, which then sees the end."""
        handle = self.handle
        self._cancel_wanted = True
        self.cancel_button.disabled = True
        if handle is None or handle.done:
            return  # the run is not created yet: the worker cancels it as soon as it is
        if self.calls.visible:  # the worker is idle: the run waits for tool outputs
            self.calls.hide()
            self.show_error("")  # a request for an output no longer stands once the run is cancelled
            self._queue(lambda: self.worker.cancel_waiting(handle))
            return
        self.cancel_future = self._canceller.submit(self._cancel_beside, handle)

    def _cancel_beside(self, handle: RunHandle) -> None:
        try:
            handle.cancel()
        except Exception as error:
            self.show_error(*self._why_not_cancelled(handle, error))

    def _why_not_cancelled(self, handle: RunHandle, error: Exception) -> tuple[str, bool]:
        """A cancel that reached the server after the run had ended is no failure: say so plainly."""
        try:
            status = self.backend.get_run(handle.thread_id, handle.run_id)["status"] if handle.run_id else None
        except Exception:
            status = None
        if status in TERMINAL:
            return f"Cancel came too late: the run had already {status} on the server.", True
        return f"Cancel failed: {one_line(error)}", False
