"""%assistant subcommands for assistants, threads, messages, files and the form."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from .arguments import a_model, a_name, argument, magic_arguments
from .assistant_table import ROUTER, api_option, latest_thread, records_frame, show_frame, tool_names, tool_specs
from .common import parse_params, publish
from .context import DETAIL_HELP, FILE_HELP, IMAGE_HELP
from .prompts import interpolate

# -- assistants ------------------------------------------------------------------------------------

@ROUTER.command("list")
@magic_arguments(name="assistant list")
@api_option
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the table in this variable")
def list_assistants(magics: Any, args: Any) -> Any:
    """The assistants as a DataFrame."""
    rows = [{**a, "tools": tool_names(a["tools"])} for a in magics.backend(args).list_assistants()]
    return show_frame(magics, records_frame(rows), args.output)


@ROUTER.command("create")
@magic_arguments(name="assistant create")
@api_option
@argument("name", help="the assistant's name")
@argument("-m", "--model", type=a_model, help="its model (default: the chat model of the profile)")
@argument("-i", "--instructions", help="its instructions (system prompt)")
@argument("--tools", help="comma-separated: Python function names, code_interpreter, file_search, "
                          "or variables holding tool specs")
@argument("--metadata", action="append", metavar="KEY=VALUE", help="metadata, repeatable")
@argument("--schema", metavar="S", help="it answers in this shape, as a strict JSON Schema: a Pydantic model class, "
          "a JSON Schema dict (variables), or a spec such as \"name: str, score: int\"; a run's result has the "
          "parsed answer in .value")
@argument("--mcp-url", metavar="URL", help="a remote MCP server the API itself calls (responses back end only)")
@argument("--mcp-label", metavar="L", help="with --mcp-url: the server's label")
@argument("--mcp-header", action="append", metavar="K=ENV_NAME", help="with --mcp-url: a header whose value is read "
          "from the environment variable ENV_NAME at each run (only the name is kept); repeatable")
@argument("--mcp-tools", metavar="a,b", help="with --mcp-url: the only tools of the server the model may use")
@argument("--approve", choices=("ask", "always", "never", "read-only"), help="with --mcp-url: which calls run "
          "without asking in %%assistant run (default ask); the form asks with Approve / Deny")
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the new assistant in this variable")
def create(magics: Any, args: Any) -> Any:
    """Create an assistant: NAME --model M --instructions TEXT --tools f,g --schema S [--mcp-url URL --mcp-label L]."""
    tools, functions = tool_specs(magics, args.tools)
    backend = magics.backend(args)
    if args.mcp_url:
        tools += remote_tools(backend, args)
    elif args.mcp_label or args.mcp_header or args.mcp_tools or args.approve:
        raise UsageError("--mcp-label, --mcp-header, --mcp-tools and --approve go with --mcp-url URL")
    schema = None
    if args.schema is not None:
        from ..schema import read_schema

        schema = read_schema(args.schema, magics.shell.user_ns)
    record = backend.create_assistant(
        name=args.name, model=magics.session.model("chat", args.model), instructions=args.instructions,
        tools=tools, metadata={k: str(v) for k, v in parse_params(args.metadata).items()},
        **({"response_format": schema.response_format()} if schema else {}))
    magics.functions[record["id"]] = functions
    if schema is not None:
        magics.schemas[record["id"]] = schema
    print(f"created assistant {record['name']!r} ({record['id']}, {record['model']}; tools: {tool_names(tools) or 'none'})")
    publish(magics.shell, record, args.output)


def remote_tools(backend: Any, args: Any) -> list[dict]:
    """The remote MCP server of --mcp-url as the assistant keeps it; only the responses back end has it."""
    if backend.name != "responses":
        raise UsageError(f"remote MCP (--mcp-url) needs the responses back end, where the API itself calls the "
                         f"server; this one is {backend.name} (use --api responses on a server that has /responses)")
    from .chat_remote import remote_servers

    return [server.record() for server in remote_servers(args)]


@ROUTER.command("show")
@magic_arguments(name="assistant show")
@api_option
@argument("assistant", help="a name or id")
def show(magics: Any, args: Any) -> Any:
    """One assistant's settings."""
    import pandas as pd

    record = magics.backend(args).get_assistant(args.assistant)
    return pd.Series({**{k: v for k, v in record.items() if k != "raw"}, "tools": tool_names(record["tools"]),
                      "created_at": pd.to_datetime(record["created_at"], unit="s", utc=True)}, name=record["id"])


@ROUTER.command("update")
@magic_arguments(name="assistant update")
@api_option
@argument("assistant", help="a name or id")
@argument("--name", help="a new name")
@argument("-m", "--model", type=a_model, help="a new model")
@argument("-i", "--instructions", help="new instructions")
@argument("--tools", help="the new tool list (as for create)")
@argument("--metadata", action="append", metavar="KEY=VALUE", help="metadata, repeatable")
def update(magics: Any, args: Any) -> None:
    """Change an assistant's name, model, instructions, tools or metadata."""
    changes: dict[str, Any] = {k: v for k, v in {"name": args.name, "model": args.model,
                                                  "instructions": args.instructions}.items() if v is not None}
    functions: set[str] | None = None
    if args.tools is not None:
        changes["tools"], functions = tool_specs(magics, args.tools)
    if args.metadata:
        changes["metadata"] = {k: str(v) for k, v in parse_params(args.metadata).items()}
    if not changes:
        raise UsageError("Nothing to change: give --name, --model, --instructions, --tools or --metadata.")
    record = magics.backend(args).update_assistant(args.assistant, **changes)
    if functions is not None:
        magics.functions[record["id"]] = functions
    print(f"updated assistant {record['name']!r} ({record['id']})")


@ROUTER.command("delete")
@magic_arguments(name="assistant delete")
@api_option
@argument("assistant", help="a name or id")
def delete(magics: Any, args: Any) -> None:
    """Delete an assistant."""
    backend = magics.backend(args)
    record = backend.get_assistant(args.assistant)
    backend.delete_assistant(record["id"])
    print(f"deleted assistant {record['name']!r} ({record['id']})")


# -- threads and messages -------------------------------------------------------------------------

@ROUTER.command("threads")
@magic_arguments(name="assistant threads")
@api_option
@argument("action", nargs="?", default="list", choices=["list", "new", "show", "delete"], help="what to do")
@argument("thread", nargs="?", help="a thread id (show, delete)")
@argument("--message", action="append", help="new: a first user message, repeatable")
@argument("--title", help="new: a title for the thread")
@argument("--metadata", action="append", metavar="KEY=VALUE", help="new: metadata, repeatable")
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the result in this variable")
def threads(magics: Any, args: Any) -> Any:
    """Threads: list, new (with first messages and metadata), show, delete."""
    backend = magics.backend(args)
    if args.action == "list":
        return show_frame(magics, records_frame(backend.list_threads()), args.output)
    if args.action == "new":
        record = backend.create_thread(args.message or [], title=args.title,
                                       metadata={k: str(v) for k, v in parse_params(args.metadata).items()})
        print(f"created thread {record['id']}")
        publish(magics.shell, record, args.output)
        return None
    if not args.thread:
        raise UsageError(f"%assistant threads {args.action} needs a thread id")
    if args.action == "show":
        return show_frame(magics, records_frame(backend.list_messages(args.thread)), args.output)
    if backend.delete_thread(args.thread) is False:  # the server no longer had it: only the local row went
        print(f"thread {args.thread} was already gone from the server: removed it from the local list")
    else:
        print(f"deleted thread {args.thread}")
    return None


@ROUTER.command("messages")
@magic_arguments(name="assistant messages")
@api_option
@argument("thread", nargs="?", help="a thread id (default: the latest run's thread)")
@argument("action", nargs="?", metavar="add", help="add: add a message instead of listing them")
@argument("text", nargs="*", default=[], help="add: the message (in %%%%assistant, the cell)")
@argument("--image", action="append", metavar="X", help="add: " + IMAGE_HELP)
@argument("--file", action="append", dest="files", metavar="PATH", help="add: " + FILE_HELP + "; or an uploaded "
          "file's id (file-...)")
@argument("--detail", choices=("low", "high", "auto"), help="add: " + DETAIL_HELP)
@argument("--no-interpolate", action="store_true", help="add: send {{name}} placeholders as they are")
@argument("-o", "--output", type=a_name, metavar="NAME", help="also store the result in this variable")
def messages(magics: Any, args: Any) -> Any:
    """A thread's messages as a DataFrame (text flattened, annotations kept); `add TEXT` adds one."""
    thread, action, words = args.thread, args.action, args.text
    if thread in ("list", "add"):  # `messages add TEXT`: the latest run's thread
        thread, action, words = None, thread, ([action] if action else []) + words
    if action not in (None, "list", "add"):
        raise UsageError(f"%assistant messages THREAD [add TEXT]: {action!r} is neither list nor add")
    if action != "add" and (args.image or args.files or args.detail):
        raise UsageError("--image, --file and --detail go with `messages add`")
    thread = thread or latest_thread(magics)
    backend = magics.backend(args)
    if action == "add":
        text = magics.cell if magics.cell is not None else " ".join(words)
        if not text.strip():
            raise UsageError("Nothing to add: write the message after `add`, or in the cell.")
        if not args.no_interpolate:
            text = interpolate(text, magics.shell.user_ns, magics.session.settings.table_rows)
        from ..assistants.content import uploader
        from .context import attachments

        parts, file_ids, notes = attachments(args.image, args.files, args.detail, magics.shell.user_ns,
                                             uploader(magics.session.client))
        record = backend.add_message(thread, text, file_ids=file_ids, parts=parts)
        print("\n".join([f"added message {record['id']} to {thread}", *notes]))
        publish(magics.shell, record, args.output)
        return None
    if words:
        raise UsageError(f"%assistant messages lists a thread's messages: text belongs after `add` ({' '.join(words)!r})")
    return show_frame(magics, records_frame(backend.list_messages(thread)), args.output)


# -- files and the form ---------------------------------------------------------------------------

@ROUTER.command("files")
@magic_arguments(name="assistant files")
@api_option
@argument("assistant", help="a name or id")
@argument("action", nargs="?", default="list", choices=["list", "attach", "detach"], help="what to do")
@argument("file_id", nargs="?", help="attach / detach: an uploaded file's id (%%oai files upload PATH)")
def files(magics: Any, args: Any) -> Any:
    """An assistant's files: list, attach FILE_ID, detach FILE_ID."""
    backend = magics.backend(args)
    if args.action == "list":
        return list(backend.list_files(args.assistant))
    if not args.file_id:
        raise UsageError(f"%assistant files {args.action} needs a file id")
    getattr(backend, f"{args.action}_file")(args.assistant, args.file_id)
    print(f"{args.action}ed {args.file_id}" if args.action == "attach" else f"detached {args.file_id}")
    return None


@ROUTER.command("form")
@magic_arguments(name="assistant form")
@api_option
def form(magics: Any, args: Any) -> Any:
    """Open the thread-run builder (an ipywidgets form)."""
    try:
        from ..widgets import ThreadRunBuilder
    except ImportError as exc:
        raise UsageError(f"The thread-run builder is not available here ({exc}).") from None
    return ThreadRunBuilder(magics.backend(args), shell=magics.shell, model=magics.session.model("chat"))

