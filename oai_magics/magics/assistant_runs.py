"""%assistant subcommands for runs: run, submit, cancel, runs, steps.

A run streams into the cell (or is polled with --no-stream) with a live status line; calls to the
Python functions the user named are run and answered automatically; other calls are shown and
left for `%assistant submit`. Ctrl-C cancels the run on the server and keeps what streamed.
"""

from __future__ import annotations

from typing import Any, Sequence

from IPython.core.error import UsageError

from .arguments import a_model, a_name, a_word, argument, at_least, magic_arguments
from .assistant_table import ROUTER, api_option, latest_thread, records_frame, show_frame, tool_specs
from .common import error_line, parse_params, publish
from .context import DETAIL_HELP, FILE_HELP, IMAGE_HELP
from .prompts import interpolate
from .reasoning import EFFORTS, REASONING_HELP

__all__ = ["follow"]


@ROUTER.command("run")
@magic_arguments(name="assistant run")
@api_option
@argument("assistant", help="the assistant's name or id")
@argument("message", nargs="*", help="the user message (in %%%%assistant run, the cell)")
@argument("--thread", help="the thread to run on (default: a new thread)")
@argument("-m", "--model", type=a_model, help="the model for this run only")
@argument("-i", "--instructions", help="instructions for this run only")
@argument("--tools", help="tools for this run only (as for create)")
@argument("--metadata", action="append", metavar="KEY=VALUE", help="run metadata, repeatable")
@argument("--max-tokens", type=at_least(1),
          help="the most tokens the reply may have (the run then ends incomplete)")
@argument("--reasoning", choices=EFFORTS, metavar="EFFORT", help=REASONING_HELP)
@argument("--image", action="append", metavar="X", help=IMAGE_HELP)
@argument("--file", action="append", dest="files", metavar="PATH", help=FILE_HELP + "; or an uploaded file's id "
          "(file-...)")
@argument("--detail", choices=("low", "high", "auto"), help=DETAIL_HELP)
@argument("--no-stream", action="store_true", help="poll until the run ends instead of streaming it")
@argument("--mcp", action="append", metavar="NAME[:TOOLS]", help="also offer these MCP servers' tools (%%oai mcp "
          "add) for this run, run by the kernel and approved by each server's rule: NAME,NAME or NAME:tool1,tool2")
@argument("--confirm", action="store_true", help="ask before running each Python function the model calls")
@argument("--no-interpolate", action="store_true", help="send {{name}} placeholders as they are")
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the run's result in this variable")
def run(magics: Any, args: Any) -> None:
    """Run an assistant on a thread (a new one unless --thread), streamed, tools answered."""
    text = magics.cell if magics.cell is not None else " ".join(args.message)
    if text and not args.no_interpolate:
        text = interpolate(text, magics.shell.user_ns, magics.session.settings.table_rows)
    if not text.strip() and not args.thread:
        raise UsageError("Nothing to run: give a message (after the assistant, or in the cell) or --thread.")
    from ..assistants.content import uploader
    from .context import attachments

    parts, file_ids, notes = attachments(args.image, args.files, args.detail, magics.shell.user_ns,
                                         uploader(magics.session.client))
    if (parts or file_ids) and not text.strip():
        raise UsageError("--image and --file go with a message: write one (after the assistant, or in the cell)")
    from ..assistants import RunOutcome
    from ..client import OpenAIError
    from ..display.tool_calls import calls_shown
    from ..mcp.bridge import offered

    backend = magics.backend(args)
    assistant = backend.get_assistant(args.assistant)
    tools, named = tool_specs(magics, args.tools) if args.tools is not None else (None, set())
    bridged, calls = offered(magics.session.mcp(), args.mcp) if args.mcp else ({}, None)
    if bridged:  # added to this run's tools, or to the assistant's own
        from ..tools import chat_tool

        tools = (list(assistant.get("tools") or []) if tools is None else tools) + [
            chat_tool(tool, name) for name, tool in bridged.items()]
    # The thread is made first, so that a failed start can say where the message and any run are.
    thread_id = args.thread or backend.create_thread(title=text.strip()[:60] or None)["id"]
    try:
        handle = backend.start_run(
            assistant["id"], thread_id=thread_id, message=text.strip() or None, model=args.model,
            instructions=args.instructions, tools=tools, stream=not args.no_stream, file_ids=file_ids, parts=parts,
            max_tokens=args.max_tokens, reasoning=args.reasoning,
            metadata={k: str(v) for k, v in parse_params(args.metadata).items()} or None)
    except OpenAIError as exc:
        problem = f"{type(exc).__name__}: {exc}"
        publish(magics.shell, RunOutcome("starting", thread_id=thread_id, error=problem), args.output)
        if not magics.session.settings.short_errors:
            raise
        raise UsageError(f"{problem} [thread {thread_id}]{blocking_run(backend, args.thread, exc)}") from None
    functions = python_functions(magics, magics.functions.get(assistant["id"], set()) | named)
    with calls_shown(calls):
        follow(magics, handle, {**functions, **bridged}, args.confirm, args.output, notes,
               answer_schema(magics, assistant), approver(assistant))


def answer_schema(magics: Any, assistant: dict) -> Any:
    """The `Schema` an assistant answers in (the class it was created with in this session, else the
    JSON Schema it keeps), or None."""
    known = magics.schemas.get(assistant["id"])
    if known is not None:
        return known
    response_format = assistant["raw"].get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    from ..schema import Schema

    spec = response_format["json_schema"]
    return Schema(spec["name"], spec["schema"])


def blocking_run(backend: Any, thread_id: str | None, exc: Exception) -> str:
    """When the server refused a run on a thread (400) that holds a run waiting for tool outputs: which
    run, and the two ways out of it. A kernel restarted or a user who moved on leaves such a run behind,
    and the server's words ("No tool output found for function call ...") name neither."""
    from ..client import OpenAIError

    if thread_id is None or getattr(exc, "status", None) != 400:
        return ""
    try:
        runs = backend.list_runs(thread_id)
    except OpenAIError:  # the refusal is what matters; the hint is a courtesy
        return ""
    waiting = [r for r in runs if r["status"] == "requires_action"]
    if not waiting:
        return ""
    run_id = waiting[-1]["id"]
    return (f"; run {run_id} on this thread waits for tool outputs: answer it with %assistant submit --thread "
            f"{thread_id} --run {run_id} CALL=OUTPUT ..., or end it with %assistant cancel {thread_id} {run_id}")


def python_functions(magics: Any, names: set[str]) -> dict[str, Any]:
    """The named functions as they are now in the notebook (a redefinition is picked up)."""
    return {name: magics.shell.user_ns[name] for name in names if callable(magics.shell.user_ns.get(name))}


def approver(assistant: Any) -> Any:
    """How the assistant's remote MCP servers' approval requests are answered: by each server's rule
    (--approve at create), asking in the cell when it says ask; None when it has no such server."""
    rules = {t["server_label"]: t.get("approve") or "ask" for t in assistant["tools"] if t.get("type") == "mcp"}
    if not rules:
        return None
    from ..assistants import APPROVE, DENY
    from ..mcp.remote import decide

    return lambda call: APPROVE if decide(rules.get(call["server"], "ask"), call["server"], call["name"],
                                          call["arguments"]) else DENY


def follow(magics: Any, handle: Any, functions: dict[str, Any], confirm: bool, output: str | None,
           notes: Sequence[str] = (), schema: Any = None, approve: Any = None) -> None:
    """Show a run until it ends or waits; store its RunOutcome (with the parsed answer when the
    assistant answers in a `schema`); a failure is one line, with what was kept. `approve` answers
    the approval requests of its remote MCP servers."""
    from ..assistants import RunOutcome, RunTimeout
    from ..assistants.driver import drive
    from ..client import OpenAIError
    from .assistant_view import RunView

    view = RunView(magics.session.settings.render_interval)
    problem = None
    try:
        drive(handle, functions, view, confirm=confirming(functions) if confirm else None, approve=approve)
        view.finish(closing_note(handle))
    except KeyboardInterrupt:
        cancelled = cancel_quietly(handle)
        view.interrupted(handle.status if handle.done else "interrupted")
        view.finish(f"interrupted: {cancelled}; {kept(handle)}")
    except (OpenAIError, RunTimeout) as exc:
        problem = failure(handle, exc)
        view.finish(f"failed: {problem}; {kept(handle)}")
    finally:
        if handle.run_id:
            magics.last_run = (handle.thread_id, handle.run_id)
            magics.threads.pop(handle.thread_id, None)  # most recent last
            magics.threads[handle.thread_id] = None
    for note in notes:  # under the reply: what was sent differs from what was given
        print(note)
    outcome = RunOutcome.of(handle, error=problem)
    mismatch = typed_answer(outcome, schema) if schema is not None and not problem else None
    publish(magics.shell, outcome, output)
    if problem:
        raise UsageError(f"the run did not finish: {problem} ({kept(handle)}; its result is in _)")
    if mismatch:
        raise UsageError(f"{mismatch}; the run's result, with its raw text, is in _")


def typed_answer(outcome: Any, schema: Any) -> str | None:
    """Put the run's answer, parsed by `schema`, in `outcome.value`; why it could not be, or None."""
    from ..schema import SchemaMismatch

    if outcome.status != "completed":
        return None
    try:
        outcome.value = schema.parse(outcome.text)
    except SchemaMismatch as exc:
        return str(exc)
    return None


def failure(handle: Any, exc: Exception) -> str:
    """What went wrong, and where a run that goes on at the server can be looked at later."""
    problem = error_line(exc)
    if handle.stream_broken:  # the failure came while the run was followed by polling
        problem = f"the stream broke off ({handle.stream_broken.split(':')[0]}), then {problem}"
    if handle.run_id and not handle.done:
        problem += f"; run {handle.run_id} goes on at the server: see %assistant runs {handle.thread_id}"
    elif handle.run_id is None:
        problem += f" [thread {handle.thread_id}]"
    return problem


def kept(handle: Any) -> str:
    return f"{len(handle.text)} characters of the reply kept" if handle.text else "no reply text had arrived"


def closing_note(handle: Any) -> str:
    from ..assistants import why_ended

    notes = []
    if handle.stream_broken:
        notes.append(f"the stream broke off ({handle.stream_broken}); the run was followed to its end")
    if handle.pending_calls:
        calls = "; ".join(f"{c['id']}: {c['name']}({c['arguments']})" for c in handle.pending_calls)
        notes.append(f"the run waits for tool outputs: {calls}. Answer with %assistant submit CALL_ID=OUTPUT ...")
    elif handle.run and handle.status != "completed":
        notes.append(why_ended(handle.run))
    return " · ".join(notes)


def cancel_quietly(handle: Any) -> str:
    """Cancel on the server after Ctrl-C; say what happened (never raise: the user asked to stop)."""
    from ..client import OpenAIError

    if handle.run_id is None:
        return "the run had not been created yet"
    try:
        run = handle.cancel()
    except OpenAIError as exc:
        return f"the server did not cancel run {handle.run_id} ({exc})"
    except KeyboardInterrupt:
        return f"cancelling run {handle.run_id} was itself interrupted"
    return f"run {handle.run_id} cancelled on the server (status {run['status']})"


def confirming(functions: dict[str, Any]) -> Any:
    """--confirm: the person approves each Python function call; an MCP tool applies its server's rule itself."""
    from ..mcp.approval import ask
    from ..mcp.bridge import is_bridged

    return lambda call: is_bridged(functions.get(call["name"])) or ask("python", call["name"], call["arguments"])


def chosen_run(magics: Any, thread: str | None, run_id: str | None) -> tuple[str, str]:
    if thread and run_id:
        return thread, run_id
    if magics.last_run is None:
        raise UsageError("No run yet in this session: name one with THREAD RUN.")
    return magics.last_run


@ROUTER.command("submit")
@magic_arguments(name="assistant submit")
@api_option
@argument("outputs", nargs="+", metavar="CALL=OUTPUT", type=a_word,
          help="a tool call's id (or function name) = its output, one per waiting call (quote an output "
               "with spaces: get_time=\"12 34\"; a JSON output opening with { or [ is taken whole)")
@argument("--thread", help="the run's thread (default: the one of the run waiting for these calls)")
@argument("--run", help="the run (default: the run of this session waiting for these calls, else the latest run)")
@argument("--no-stream", action="store_true", help="poll instead of streaming the rest of the run")
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the run's result in this variable")
def submit(magics: Any, args: Any) -> None:
    """Send outputs for the tool calls a run waits for, then follow the run."""
    backend = magics.backend(args)
    keys = [pair.partition("=")[0] for pair in args.outputs]
    if args.run:
        thread_id, run_id = chosen_run(magics, args.thread, args.run)
    else:
        thread_id, run_id = waiting_run(magics, backend, keys, args.thread) or chosen_run(magics, None, None)
    handle = backend.resume_run(thread_id, run_id, stream=not args.no_stream)
    pending = handle.pending_calls
    if not pending:
        raise UsageError(f"Run {run_id} is {handle.status}: it waits for no tool outputs.")
    given = {}
    for pair in args.outputs:
        key, sep, value = pair.partition("=")
        calls = [c for c in pending if key in (c["id"], c["name"])]
        if not sep or len(calls) != 1:
            raise UsageError(f"{pair!r}: expected CALL=OUTPUT where CALL is one of {', '.join(c['id'] for c in pending)}")
        given[calls[0]["id"]] = value
    missing = [c["id"] for c in pending if c["id"] not in given]
    if missing:
        raise UsageError(f"Every waiting call needs an output; missing: {', '.join(missing)}")
    print(f"answering run {run_id} (thread {thread_id})")
    handle.submit(given)
    assistant_id = (handle.run or {}).get("assistant_id")
    follow(magics, handle, {}, False, args.output,
           schema=answer_schema(magics, backend.get_assistant(assistant_id)) if assistant_id else None)


def waiting_run(magics: Any, backend: Any, keys: list[str], thread: str | None) -> tuple[str, str] | None:
    """The run waiting for the calls named, on `thread` or on the threads of this session (latest
    first): one waiting for a call of that id, else the latest waiting for a call of that name."""
    for thread_id in [thread] if thread else reversed(list(magics.threads)):
        by_name = None
        for record in reversed(backend.list_runs(thread_id)):
            calls = record["required_calls"] if record["status"] == "requires_action" else []
            if any(c["id"] in keys for c in calls):
                return thread_id, record["id"]
            if by_name is None and any(c["name"] in keys for c in calls):
                by_name = (thread_id, record["id"])
        if by_name:  # names are not unique across threads: the latest thread's run is meant
            return by_name
    return None


@ROUTER.command("cancel")
@magic_arguments(name="assistant cancel")
@api_option
@argument("thread", nargs="?", help="the run's thread (default: the latest run's)")
@argument("run", nargs="?", help="the run (default: the latest run)")
def cancel(magics: Any, args: Any) -> None:
    """Cancel a run on the server."""
    thread_id, run_id = chosen_run(magics, args.thread, args.run)
    run = magics.backend(args).cancel_run(thread_id, run_id)
    print(f"run {run_id}: {run['status']}")


@ROUTER.command("runs")
@magic_arguments(name="assistant runs")
@api_option
@argument("thread", nargs="?", help="a thread id (default: the latest run's)")
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the table in this variable")
def runs(magics: Any, args: Any) -> Any:
    """A thread's runs as a DataFrame."""
    thread_id = args.thread or latest_thread(magics)
    rows = [{**r, "required_calls": len(r["required_calls"])} for r in magics.backend(args).list_runs(thread_id)]
    return show_frame(magics, records_frame(rows), args.output)


@ROUTER.command("steps")
@magic_arguments(name="assistant steps")
@api_option
@argument("thread", nargs="?", help="the run's thread (default: the latest run's)")
@argument("run", nargs="?", help="the run (default: the latest run)")
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the table in this variable")
def steps(magics: Any, args: Any) -> Any:
    """A run's steps as a DataFrame."""
    thread_id, run_id = chosen_run(magics, args.thread, args.run)
    return show_frame(magics, records_frame(magics.backend(args).list_steps(thread_id, run_id)), args.output)
