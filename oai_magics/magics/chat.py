"""%%chat and %chat: a streamed reply in the cell, with conversation memory and tools."""

from __future__ import annotations

import time
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, no_var_expand

from .arguments import WORKERS, a_model, a_name, a_number, argument, at_least, magic_arguments
from .cells import CallCounter
from .common import SessionMagics, friendly, parse, parse_params, publish, read_variable
from .context import DETAIL_HELP, FILE_HELP, IMAGE_HELP
from .job_costs import dollars
from .prompts import interpolate
from .reasoning import EFFORTS, REASONING_HELP, limit_name, with_limit_fallback


@magics_class
class ChatMagics(SessionMagics):
    """%%chat and %chat."""

    def __init__(self, shell: Any, session: Any) -> None:
        super().__init__(shell, session)
        self._calls = CallCounter()

    @friendly
    @magic_arguments()
    @argument("-m", "--model", type=a_model,
              help="the chat model (default: %%config OAIMagics.chat_model, else the profile's)")
    @argument("-s", "--system", help="a system prompt for this conversation")
    @argument("-t", "--temperature", type=a_number, help="sampling temperature, 0 to 2")
    @argument("--max-tokens", type=at_least(1), help="the most tokens the reply may have (reasoning included); sent "
              "as max_completion_tokens on the openai profile, max_tokens elsewhere, the other if the server asks")
    @argument("--reasoning", choices=EFFORTS, metavar="EFFORT", help=REASONING_HELP)
    @argument("-p", "--param", action="append", metavar="KEY=VALUE",
              help="any other API parameter (JSON values), repeatable; with n=2 or more each choice is shown "
                   "apart, -o and _ get the list of texts, and memory keeps the first choice")
    @argument("--json", action="store_true", help="JSON mode: the reply is a JSON object")
    @argument("--schema", metavar="S", help="answer in this shape, as a strict JSON Schema: a Pydantic model class, "
              "a JSON Schema dict (variables), or a spec such as \"name: str, score: int, tags: list[str], note: str | None\"; "
              "_ and -o get the parsed value (an instance of the class, else a dict); with --each, one typed column per "
              "field")
    @argument("--image", action="append", metavar="X", help=IMAGE_HELP + ". With --each, every row's prompt carries it")
    @argument("--file", action="append", metavar="PATH", help=FILE_HELP)
    @argument("--detail", choices=("low", "high", "auto"), help=DETAIL_HELP)
    @argument("-c", "--conversation", default="default", help="the conversation to continue (default: 'default')")
    @argument("--new", action="store_true", help="start the conversation afresh")
    @argument("--no-memory", action="store_true",
              help="send only this prompt (and -s); the conversation is neither read nor changed")
    @argument("--no-stream", action="store_true", help="wait for the whole reply instead of streaming it")
    @argument("--tools", help="comma-separated names of Python functions the model may call")
    @argument("--mcp", action="append", metavar="NAME[:TOOLS]", help="the tools of these MCP servers (%%oai mcp "
              "add), offered as NAME__tool and run by the kernel: NAME,NAME for all their tools, NAME:tool1,tool2 "
              "for some; repeatable, and combines with --tools")
    @argument("--mcp-url", metavar="URL", help="a remote MCP server the API itself calls (the Responses API's mcp "
              "tool): this turn goes through /responses")
    @argument("--mcp-label", metavar="L", help="with --mcp-url: the server's label, which its calls are shown under")
    @argument("--mcp-header", action="append", metavar="K=ENV_NAME", help="with --mcp-url: a header for the server, "
              "its value read from the environment variable ENV_NAME (never written in the notebook); repeatable")
    @argument("--mcp-tools", metavar="a,b", help="with --mcp-url: the only tools of the server the model may use")
    @argument("--approve", choices=("ask", "always", "never", "read-only"), help="with --mcp-url: which calls run "
              "without asking (default ask: each call shows its server, tool and arguments and asks first; read-only: "
              "the tools the server marks read-only run, the others are asked)")
    @argument("--no-interpolate", action="store_true", help="send {{name}} placeholders as they are")
    @argument("--each", metavar="VAR", help="send the cell once per row of this DataFrame, Series or list "
              "({{row.column}} in the cell); gives a DataFrame of the rows and their replies")
    @argument("--column", help="with --each over a DataFrame: the input column, which {{row}} stands for "
              "(as in %%embed --column); {{row.other}} still gives any column")
    @argument("--into", metavar="NAME", help="with --each: the column the replies go in (default: reply)")
    @argument("--workers", type=WORKERS, default=4, help="with --each: requests in flight at once (1 to 48; default 4)")
    @argument("--batch", action="store_true", help="with --each: send the rows through the Batch API; "
              "gives a job handle at once (collect it with --collect)")
    @argument("--yes", action="store_true", help="with --each: send without asking, whatever the estimate "
              "(above %%config OAIMagics.confirm_over dollars it asks first, unless a --budget covers the estimate)")
    @argument("--budget", type=dollars, metavar="DOLLARS", help="with --each: stop sending once the dollars spent "
              "plus those of the requests in flight would pass this; the finished rows are kept (with --batch: "
              "nothing is sent when the estimate passes it)")
    @argument("--collect", metavar="JOB", help="the frame of a --each --batch job (--wait blocks until it ends)")
    @argument("--wait", action="store_true", help="with --collect: wait for the job to end")
    @argument("-o", "--output", type=a_name, metavar="NAME",
              help="also store the reply in this variable (its text; with --schema the parsed value)")
    @argument("prompt", nargs="*", help="the prompt (line form); in %%%%chat the cell is the prompt. {{df}} puts a "
              "DataFrame or Series in as a Markdown table (%%config OAIMagics.table_rows rows at most)")
    @no_var_expand
    @line_cell_magic
    def chat(self, line: str, cell: str | None = None) -> Any:
        """Ask a chat model; the reply streams into the cell as Markdown."""
        args = parse(self.chat, line, namespace=self.shell.user_ns)
        # The newline that ends every cell is no part of the question (nor of its history).
        prompt = cell.rstrip() if cell is not None else " ".join(args.prompt)
        if args.mcp_url:
            from .chat_remote import check_options

            check_options(args)
        if args.collect:
            from .chat_each import collect_each

            return collect_each(self, args.collect, wait=args.wait, output=args.output)
        if (args.budget is not None or args.yes) and not args.each:
            raise UsageError("--budget and --yes go with --each VAR: a job of many requests")
        if args.batch and not args.each:
            raise UsageError("--batch goes with --each VAR: one request per row, through the Batch API")
        if args.json and args.schema:
            raise UsageError("--json and --schema both set the answer's format: give one")
        if args.mcp and args.each:  # each row is a request of its own, with no tool loop
            raise UsageError("--mcp goes with %%chat and %chat, not with --each")
        if args.each:
            from .chat_each import chat_each

            return chat_each(self, args, prompt)
        if not args.no_interpolate:
            prompt = interpolate(prompt, self.shell.user_ns, self.session.settings.table_rows)
        if not prompt.strip():
            raise UsageError("Nothing to send: write the prompt after %chat, or in the cell below %%chat.")
        if args.mcp_url:
            from .chat_remote import chat_remote

            return chat_remote(self, args, prompt)
        if args.mcp_label or args.mcp_header or args.mcp_tools or args.approve:
            raise UsageError("--mcp-label, --mcp-header, --mcp-tools and --approve go with --mcp-url URL")
        functions = self._functions(args.tools)
        calls = self._mcp_tools(args.mcp, functions)
        schema = self._schema(args)
        params = self._params(args, functions, schema)
        parts, notes = self._parts(args)  # before memory is touched: a bad image leaves the conversation as it was
        if args.no_memory:  # the remembered conversation is neither read nor changed
            conversation, call = None, None
            history = [{"role": "system", "content": args.system}] if args.system else []
        else:
            conversation = self.session.conversation(args.conversation, new=args.new, system=args.system)
            call = self._calls.next(self.shell)
            history = conversation.context(call)
        from ..assistants.content import chat_content

        content = chat_content(prompt, parts)
        params["messages"] = history + [{"role": "user", "content": content}]
        from ..display.tool_calls import calls_shown

        with calls_shown(calls):
            reply = self._ask(params, functions, not args.no_stream, conversation, call, content)
        for note in notes:  # under the reply: what was sent differs from what was given
            print(note)
        if schema is None:
            publish(self.shell, reply.output(params.get("n")), args.output)
            return
        from ..schema import SchemaMismatch, typed_output

        try:
            publish(self.shell, typed_output(schema, reply, params.get("n")), args.output)
        except SchemaMismatch as exc:  # nothing is lost: the text the model sent is the result
            publish(self.shell, reply.output(params.get("n")), args.output)
            raise UsageError(f"{exc}; its raw text is in _{f' and {args.output}' if args.output else ''}") from None

    def _parts(self, args: Any) -> tuple[list[dict], list[str]]:
        """The content parts of --file and --image, in that order, and the notes to show under the reply."""
        if not (args.image or args.file or args.detail):
            return [], []
        from ..assistants.content import uploader
        from .context import message_parts

        return message_parts(args.image, args.file, args.detail, self.shell.user_ns, uploader(self.session.client))

    def _schema(self, args: Any) -> Any:
        """The `Schema` of --schema, or None."""
        if args.schema is None:
            return None
        from ..schema import read_schema

        return read_schema(args.schema, self.shell.user_ns)

    def _params(self, args: Any, functions: dict, schema: Any = None) -> dict:
        """Only what the user set is sent, besides the model and the messages."""
        params = {"model": self.session.model("chat", args.model), **parse_params(args.param, reserved=("messages", "stream", "stream_options"))}
        if args.temperature is not None:
            params["temperature"] = args.temperature
        if args.max_tokens is not None:
            params[limit_name(self.session)] = args.max_tokens
        if args.reasoning is not None:
            params["reasoning_effort"] = args.reasoning
        if args.json:
            params["response_format"] = {"type": "json_object"}
        if schema is not None:
            params["response_format"] = schema.response_format()
        if functions:
            from ..tools import chat_tool

            try:
                params["tools"] = [chat_tool(function, name) for name, function in functions.items()]
            except (TypeError, ValueError) as exc:
                raise UsageError(f"--tools: {exc}") from None
        return params

    def _functions(self, names: str | None) -> dict:
        functions = {}
        for name in filter(None, (n.strip() for n in (names or "").split(","))):
            function = read_variable(self.shell, name)
            if not callable(function):
                raise UsageError(f"--tools: {name!r} is not a function")
            functions[name] = function
        return functions

    def _mcp_tools(self, selection: list[str] | None, functions: dict) -> Any:
        """Add the chosen MCP servers' tools to `functions`; the log their calls are written to (None without --mcp)."""
        if not selection:
            return None
        from ..mcp.bridge import offered

        bridged, log = offered(self.session.mcp(), selection)
        clash = sorted(set(bridged) & set(functions))
        if clash:
            raise UsageError(f"--tools and --mcp both name {', '.join(clash)}")
        functions.update(bridged)
        return log

    def _ask(self, params: dict, functions: dict, stream: bool, conversation: Any, call: Any, prompt: Any) -> Any:
        """Send, show each choice as it arrives, remember the exchange (unless there is no call)."""
        from ..chat_memory import new_exchange, run_chat
        from ..display.stream import ChoiceViews
        from ..display.usage import show_usage
        from ..mcp.bridge import is_bridged

        views = ChoiceViews.for_request(params, self.session.settings.render_interval)
        started = time.monotonic()

        def on_tool(name: str, arguments: str, output: str) -> None:
            if is_bridged(functions.get(name)):  # MCP calls are shown under the reply, collapsed
                return
            views.add(0, f"\n\n> tool call: `{name}({arguments})` returned `{output[:200]}`\n\n")

        reply, added = with_limit_fallback(self.session, params, lambda sent: run_chat(
            self.session.client, sent, functions, stream=stream, on_text=views.add, on_tool=on_tool))
        views.finish_reply(reply)
        if conversation is not None:
            conversation.record(new_exchange(call, prompt, added, reply, started))
        model = reply.model or params["model"]
        show_usage(model, time.monotonic() - started, reply.usage, rich=views.rich,
                   cost=self.session.cost(model, reply.usage))
        return reply
