"""%%chat and %chat: a streamed reply in the cell, with conversation memory and tools."""

from __future__ import annotations

import time
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, no_var_expand

from .arguments import WORKERS, a_model, a_number, argument, at_least, magic_arguments
from .cells import CallCounter
from .common import a_python_name, SessionMagics, friendly, parse, parse_params, publish, read_variable
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
    @argument("-c", "--conversation", default="default", help="the conversation to continue (default: 'default')")
    @argument("--new", action="store_true", help="start the conversation afresh")
    @argument("--no-memory", action="store_true",
              help="send only this prompt (and -s); the conversation is neither read nor changed")
    @argument("--no-stream", action="store_true", help="wait for the whole reply instead of streaming it")
    @argument("--tools", help="comma-separated names of Python functions the model may call")
    @argument("--no-interpolate", action="store_true", help="send {{name}} placeholders as they are")
    @argument("--each", metavar="VAR", help="send the cell once per row of this DataFrame, Series or list "
              "({{row.column}} in the cell); gives a DataFrame of the rows and their replies")
    @argument("--column", help="with --each: the column the replies go in (default: reply)")
    @argument("--workers", type=WORKERS, default=4, help="with --each: requests in flight at once (1 to 48; default 4)")
    @argument("--batch", action="store_true", help="with --each: send the rows through the Batch API; "
              "gives a job handle at once (collect it with --collect)")
    @argument("--collect", metavar="JOB", help="the frame of a --each --batch job (--wait blocks until it ends)")
    @argument("--wait", action="store_true", help="with --collect: wait for the job to end")
    @argument("-o", "--output", metavar="NAME", type=a_python_name, help="also store the reply text in this variable")
    @argument("prompt", nargs="*", help="the prompt (line form); in %%chat the cell is the prompt")
    @no_var_expand
    @line_cell_magic
    def chat(self, line: str, cell: str | None = None) -> Any:
        """Ask a chat model; the reply streams into the cell as Markdown."""
        args = parse(self.chat, line, namespace=self.shell.user_ns)
        # The newline that ends every cell is no part of the question (nor of its history).
        prompt = cell.rstrip() if cell is not None else " ".join(args.prompt)
        if args.collect:
            from .chat_each import collect_each

            return collect_each(self, args.collect, wait=args.wait, output=args.output)
        if args.batch and not args.each:
            raise UsageError("--batch goes with --each VAR: one request per row, through the Batch API")
        if args.each:
            from .chat_each import chat_each

            return chat_each(self, args, prompt)
        if not args.no_interpolate:
            prompt = interpolate(prompt, self.shell.user_ns)
        if not prompt.strip():
            raise UsageError("Nothing to send: write the prompt after %chat, or in the cell below %%chat.")
        functions = self._functions(args.tools)
        params = self._params(args, functions)
        if args.no_memory:  # the remembered conversation is neither read nor changed
            conversation, call = None, None
            history = [{"role": "system", "content": args.system}] if args.system else []
        else:
            conversation = self.session.conversation(args.conversation, new=args.new, system=args.system)
            call = self._calls.next(self.shell)
            history = conversation.context(call)
        params["messages"] = history + [{"role": "user", "content": prompt}]
        reply = self._ask(params, functions, not args.no_stream, conversation, call, prompt)
        publish(self.shell, reply.output(params.get("n")), args.output)

    def _params(self, args: Any, functions: dict) -> dict:
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

    def _ask(self, params: dict, functions: dict, stream: bool, conversation: Any, call: Any, prompt: str) -> Any:
        """Send, show each choice as it arrives, remember the exchange (unless there is no call)."""
        from ..chat_memory import new_exchange, run_chat
        from ..display.stream import ChoiceViews
        from ..display.usage import show_usage

        views = ChoiceViews.for_request(params, self.session.settings.render_interval)
        started = time.monotonic()

        def on_tool(name: str, arguments: str, output: str) -> None:
            views.add(0, f"\n\n> tool call: `{name}({arguments})` returned `{output[:200]}`\n\n")

        reply, added = with_limit_fallback(self.session, params, lambda sent: run_chat(
            self.session.client, sent, functions, stream=stream, on_text=views.add, on_tool=on_tool))
        views.finish_reply(reply)
        if conversation is not None:
            conversation.record(new_exchange(call, prompt, added, reply, started))
        show_usage(reply.model or params["model"], time.monotonic() - started, reply.usage, rich=views.rich)
        return reply
