"""How a magic's line is read: options, quoted values, free text kept as typed, and when `-h` means help."""

from __future__ import annotations

import json
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from oai_magics.magics.arguments import HelpShown, a_model, a_word, argument, at_least, magic_arguments, parse
from oai_magics.sandbox import Sandbox
from tests.helpers.rawserver import answer
from tests.helpers.sandboxes import forget_requests, sent_requests
from tests.helpers.shells import use_server

from .conftest import run


@magic_arguments(name="try")
@argument("-m", "--model", help="a model")
@argument("-t", "--temperature", type=float, help="a number")
@argument("-n", type=int, help="a short-only option")
@argument("--no-stream", action="store_true", help="a switch")
@argument("--no-memory", action="store_true", help="another switch")
@argument("-p", "--param", action="append", help="repeatable")
@argument("prompt", nargs="*", help="free text")
def prompt_magic(line: str) -> None:
    """A magic with a free-text prompt."""


@magic_arguments(name="try files")
@argument("--to", help="a place")
@argument("action", help="what to do")
@argument("target", nargs="?", help="what to do it to")
def words_magic(line: str) -> None:
    """A magic whose positionals are single words."""


@pytest.mark.parametrize("line, prompt", [
    ('What does "foo" mean', 'What does "foo" mean'),
    ("how do I use -h in grep", "how do I use -h in grep"),
    ("what's  up,   doc?", "what's  up,   doc?"),
    ("-- -h --model is text here", "-h --model is text here"),
    ("a cat -n 4 in the rain", "a cat -n 4 in the rain"),  # options come before the prompt: this is a question
    ("what does tar -s do to file names", "what does tar -s do to file names"),
    ("explain curl --json please", "explain curl --json please"),
    ("what does -- mean in bash", "what does -- mean in bash"),
    ("why -m do", "why -m do"),
    ("-1 is a number", "-1 is a number"),
    ("C:\\Users\\me\\x.png please", "C:\\Users\\me\\x.png please"),
    ("{{name}} and {'json': 1}", "{{name}} and {'json': 1}"),
    ("# not a comment", "# not a comment"),
    ("'quoted whole'", "'quoted whole'"),
])
def test_free_text_is_taken_as_typed(line: str, prompt: str) -> None:
    args = parse(prompt_magic, line)
    assert " ".join(args.prompt) == prompt
    assert args.n is None and args.model is None  # an option word inside the prompt changes no setting


def test_options_before_the_prompt_and_between_single_words_are_still_read() -> None:
    args = parse(prompt_magic, "-n 4 --no-stream a cat -m x")
    assert (args.n, args.no_stream, args.model, args.prompt) == (4, True, None, ["a cat -m x"])
    args = parse(words_magic, "show --to here thing")  # not free text: options may stand between the words
    assert (args.action, args.target, args.to) == ("show", "thing", "here")
    args = parse(words_magic, "show thing --to here")
    assert (args.action, args.target, args.to) == ("show", "thing", "here")


@pytest.mark.parametrize("line, expected", [
    ("-m 'gpt 4' hi", {"model": "gpt 4"}),
    ('--model="it\'s" hi', {"model": "it's"}),
    ("-p k='a b' -p x=1", {"param": ["k=a b", "x=1"]}),
    ("-p 'k=[\"x\", 1]' hi", {"param": ['k=["x", 1]']}),
    ("-t -1 hi", {"temperature": -1.0}),
    ("-m -h hi", {"model": "-h"}),  # a value, not the help
    ("-n4 hi", {"n": 4}),
    ("--no-s hi", {"no_stream": True}),  # a unique prefix, as argparse allows
    ("-m C:\\models\\x hi", {"model": "C:\\models\\x"}),
    ("-m #1 hi", {"model": "#1"}),
])
def test_option_values_lose_their_shell_quotes_only(line: str, expected: dict) -> None:
    args = parse(prompt_magic, line)
    assert {k: getattr(args, k) for k in expected} == expected
    assert args.prompt == (["hi"] if line.endswith(" hi") else [])


@pytest.mark.parametrize("line", ["-h", "--help", "-m x -h", "--no-stream --help hi"])
def test_only_a_help_flag_before_the_first_word_asks_for_help(line: str, capsys: Any) -> None:
    with pytest.raises(HelpShown):
        parse(prompt_magic, line)
    assert capsys.readouterr().out.startswith("  %try [-m MODEL]")


@pytest.mark.parametrize("line, message", [
    ("--bogus hi", "unrecognized arguments: --bogus"),
    ("--no hi", "ambiguous option: --no could match"),
    ("-m", "expected one argument"),
    ('-m "unclosed hi', "cannot read the arguments: No closing quotation"),
    ("-m 'over\nlines'x' hi", r"No closing quotation in 'over\\nlines'x'$"),  # found by the sweep
    ("-t hot hi", "invalid float value: 'hot'"),
    ("-p -- hi", "argument -p/--param: expected one argument"),
    ("--param=-- hi", "'--' ends the options, it cannot be a value"),
])
def test_bad_lines_are_one_usage_line(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse(prompt_magic, line)
    assert "\n" not in str(info.value)


@magic_arguments(name="try list")
@argument("--filter", help="only these")
def listing_magic(line: str) -> None:
    """A magic with options only, as `%oai models`."""


@pytest.mark.parametrize("magic, line, message", [
    (listing_magic, "--limit -5", "unrecognized arguments: --limit -5 (%try list -h lists what it takes)"),  # no "--"
    (listing_magic, "--limit 0", "unrecognized arguments: --limit 0 (%try list -h lists what it takes)"),
    (listing_magic, "--filtr x",
     "unrecognized arguments: --filtr x (did you mean --filter? %try list -h lists what it takes)"),
    (words_magic, "upload a -5 b", "unrecognized arguments: -5 b (%try files -h lists what it takes)"),
])
def test_what_the_magic_does_not_take_is_named_as_typed(magic: Any, line: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(magic, line)
    assert str(info.value) == message


@magic_arguments(name="counted")
@argument("-m", "--model", type=a_model, help="a model")
@argument("--max-tokens", type=at_least(1), help="a count")
@argument("--offset", type=at_least(0), help="a count that may be zero")
def counted_magic(line: str) -> None:
    """A magic with a model and counts."""


@pytest.mark.parametrize("line, message", [
    ("--model ''", "argument -m/--model: a model name cannot be empty (leave the option out for the default model)"),
    ("-m ' '", "argument -m/--model: a model name cannot be empty (leave the option out for the default model)"),
    ("--max-tokens -5", "argument --max-tokens: expected 1 or more, got -5"),
    ("--max-tokens 0", "argument --max-tokens: expected 1 or more, got 0"),
    ("--max-tokens 2.5", "argument --max-tokens: expected a whole number, got '2.5'"),
    ("--offset -1", "argument --offset: expected 0 or more, got -1"),
])
def test_an_empty_model_or_a_count_out_of_range_is_one_line(line: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(counted_magic, line)
    assert str(info.value) == message


def test_counts_in_range_are_whole_numbers() -> None:
    args = parse(counted_magic, "--max-tokens 1 --offset 0 -m gpt-4o")
    assert (args.max_tokens, args.offset, args.model) == (1, 0, "gpt-4o")


def test_single_word_positionals_are_unquoted_and_options_may_follow() -> None:
    args = parse(words_magic, "upload 'my notes.txt' --to there")
    assert (args.action, args.target, args.to) == ("upload", "my notes.txt", "there")
    with pytest.raises(UsageError, match="unrecognized arguments: -h"):
        parse(words_magic, "upload x -h")  # after a word, -h is no help


def test_the_parser_is_built_on_first_use_and_documents_the_magic() -> None:
    @magic_arguments(name="later")
    @argument("-x", help="an option")
    def later(line: str) -> None:
        """Built later."""

    assert later.lazy_parser.parser is None and later.__doc__ == "Built later."
    assert later.getdoc().startswith("  %later [-x X]") and "Built later." in later.getdoc()
    assert later.lazy_parser.parser is not None


@pytest.mark.parametrize("pairs, expected", [
    (["n=2", "stop=[\"x\"]", "user=me"], {"n": 2, "stop": ["x"], "user": "me"}),
    (["top_p=NaN", "x=Infinity", "y=-Infinity", "z=1e999"], {"top_p": "NaN", "x": "Infinity", "y": "-Infinity", "z": "1e999"}),
    (["deep={\"a\": [1e999]}"], {"deep": "{\"a\": [1e999]}"}),
])
def test_params_are_finite_json_or_text(pairs: list[str], expected: dict) -> None:
    from oai_magics.magics.common import parse_params

    assert parse_params(pairs) == expected


def test_params_cannot_replace_what_the_magic_sends() -> None:
    from oai_magics.magics.common import parse_params

    with pytest.raises(UsageError, match="--param prompt: this magic sets prompt itself"):
        parse_params(["prompt=other"], reserved=("prompt",))
    with pytest.raises(UsageError, match="--param expects key=value"):
        parse_params(["=x"])


@magic_arguments(name="try pairs")
@argument("--thread", help="an option among the pairs")
@argument("outputs", nargs="+", type=a_word, help="CALL=OUTPUT pairs")
def pairs_magic(line: str) -> None:
    """A magic whose words are separate values."""


def test_a_json_value_is_one_word_as_typed_up_to_its_matching_bracket() -> None:
    args = parse(pairs_magic, 'a={"s": "x } y \\" ]", "n": [1, -2]} --thread t b=[{"k": "v w"}] c="q r"')
    assert args.outputs == ['a={"s": "x } y \\" ]", "n": [1, -2]}', 'b=[{"k": "v w"}]', "c=q r"]
    assert args.thread == "t"
    with pytest.raises(UsageError, match=r"never closed; quote the output"):
        parse(pairs_magic, 'a={"s": 1')


@magic_arguments(name="try values")
@argument("-m", "--model", help="a model")
@argument("-n", type=at_least(1), help="a count")
@argument("--no-interpolate", action="store_true", help="braces as they are")
@argument("job", help="an id")
@argument("prompt", nargs="*", help="free text")
def values_magic(line: str) -> None:
    """A magic with ids, option values and a prompt."""


def test_placeholders_in_ids_and_option_values_are_filled_and_the_help_says_so(capsys: Any) -> None:
    names = {"job": {"id": "batch_1"}, "model": "gpt-4o-mini", "count": 3}
    args = parse(values_magic, "-m {{model}} -n{{count}} {{job['id']}} tell {{model}}", namespace=names)
    assert (args.model, args.n, args.job) == ("gpt-4o-mini", 3, "batch_1")
    assert args.prompt == ["tell {{model}}"]  # the prompt is the magic's to fill (code spans kept)
    args = parse(values_magic, "--no-interpolate -m {{model}} {{job}}", namespace=names)
    assert (args.model, args.job) == ("{{model}}", "{{job}}")
    assert parse(values_magic, "-m {{model}} {{job}}").model == "{{model}}"  # no namespace: nothing to fill from
    with pytest.raises(HelpShown):
        parse(values_magic, "--help")
    assert "{{name}}" in " ".join(capsys.readouterr().out.split())


# -- an option word inside a line prompt -----------------------------------------------------------
# Options may stand between the words of a line prompt, so a question about a command line loses words
# and silently changes settings: here the default conversation's system prompt becomes "do", for good.

def test_an_option_word_between_prompt_words_neither_cuts_the_prompt_nor_changes_the_conversation(
        shell: InteractiveShell, sandbox: Sandbox) -> None:
    from oai_magics.magics import session_of

    forget_requests(sandbox)
    run(shell, "chat", "--new What does tar -s do to file names")
    conversation = session_of(shell).conversations["default"]
    assert conversation.system is None
    sent = [json.loads(entry["body"])["messages"][-1]["content"]
            for entry in sent_requests(sandbox, "/v1/chat/completions")]
    assert sent in ([], ["What does tar -s do to file names"])  # sent whole, or refused in one line


def test_assistant_submit_takes_one_output_per_waiting_call() -> None:
    # A run that asked for two tool calls at once (parallel tool calls are the default) is answered
    # with `%assistant submit get_weather=sunny get_time=noon`. The pairs are read as one free text,
    # so get_weather's output becomes "sunny get_time=noon" and get_time is reported missing.
    from oai_magics.magics import assistant_runs

    args = parse(assistant_runs.submit, "get_weather=sunny get_time=noon")
    assert args.outputs == ["get_weather=sunny", "get_time=noon"]


def test_an_option_after_submit_pairs_is_not_sent_as_tool_output() -> None:
    # `%assistant submit get_time=12:34 --run run_1` used to answer run_1; now the server receives
    # the output "12:34 --run run_1" for the latest run, without a word to the user.
    from oai_magics.magics import assistant_runs

    args = parse(assistant_runs.submit, "get_time=12:34 --run run_1")
    assert args.outputs == ["get_time=12:34"] and args.run == "run_1"


def test_a_submit_output_with_an_apostrophe_is_sent() -> None:
    # Since its pairs became separate words, `%assistant submit say=it's` is refused with "cannot
    # read the arguments: No closing quotation"; read as free text it was sent, and the rule for
    # every other magic is that a lone quote (an apostrophe in "what's") is text.
    from oai_magics.magics import assistant_runs

    assert parse(assistant_runs.submit, "say=it's").outputs == ["say=it's"]


def test_no_note_after_an_explicit_double_dash() -> None:
    # `--` is the documented way to say "all of this is text"; the user who wrote it is still told
    # "note: -m was read as part of the text: options go before it".
    from oai_magics.magics.chat import ChatMagics

    with capture_output() as captured:
        parse(ChatMagics.chat, "-- what does git commit -m do")
    assert "note:" not in captured.stdout


def test_no_note_for_a_compiler_flag_in_a_prompt() -> None:
    # `-march=native` matches `-m` with the value "arch=native", so a question about gcc flags gets
    # "note: -march=native was read as part of the text", naming a setting nobody meant.
    from oai_magics.magics.chat import ChatMagics

    with capture_output() as captured:
        parse(ChatMagics.chat, "what does gcc -march=native do")
    assert "note:" not in captured.stdout


def test_an_option_written_after_an_embed_text_is_not_embedded_silently(serve: Any, raw_shell: InteractiveShell) -> None:
    # Until today `%embed hello world -o vec` stored the vectors in `vec`; now "hello world -o vec"
    # is embedded (and cached) as the text, nothing is stored and nothing says so: the next cell
    # fails with a NameError far from the cause. Either keep reading a known option at the end,
    # or say in one line that it was taken as text.
    embedding = json.dumps({"object": "list", "model": "m",
                            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]}).encode()
    use_server(raw_shell, serve(answer(embedding)))
    with capture_output() as captured:
        raw_shell.run_line_magic("embed", "--no-cache hello world -o vec")
    assert "vec" in raw_shell.user_ns or "-o" in captured.stdout + captured.stderr


def test_every_output_option_takes_only_a_python_name(shell: Any) -> None:
    """`-o 1st` is refused as the line is read, before a request is paid for and its result refused a variable."""
    from oai_magics.magics import assistant_table, oai_table
    from oai_magics.magics.arguments import a_name, parser_of

    from .conftest import subcommands

    magics = shell.magics_manager.lsmagic()
    handlers = [magics["line"]["image"], magics["cell"]["chat"], magics["line"]["embed"]]
    handlers += [handler for _, handler in subcommands(oai_table.ROUTER) + subcommands(assistant_table.ROUTER)]
    outputs = [action for handler in handlers for action in parser_of(getattr(handler, "__func__", handler))._actions
               if "-o" in action.option_strings]
    assert len(outputs) >= 14 and all(action.type is a_name for action in outputs)
    with pytest.raises(UsageError, match="-o/--output: -o needs a Python name, got '1st'"):
        shell.run_cell_magic("chat", "-o 1st", "hello")



@pytest.mark.parametrize("magic, line, cell, path", [
    ("chat", "-o 2x", "Hello", "/v1/chat/completions"),
    ("embed", "--no-cache -o 2x some text", None, "/v1/embeddings"),
    ("image", "-m dall-e-2 -o 2x a cat", None, "/v1/images/generations"),
    ("chat", "-o class", "Hello", "/v1/chat/completions"),  # an identifier, but no cell can read `class` back
])
def test_an_output_name_no_cell_can_read_is_refused_before_anything_is_sent(
        shell: InteractiveShell, sandbox: Sandbox, magic: str, line: str, cell: str | None, path: str) -> None:
    # %%chat -o 2x sent the (paid) request and only then refused the name; %embed -o 2x stored the
    # vectors under user_ns["2x"], a name no cell can read, without a word.
    forget_requests(sandbox)
    with pytest.raises(UsageError, match="-o needs a Python name"):
        run(shell, magic, line, cell)
    assert sent_requests(sandbox, path) == []
    assert "2x" not in shell.user_ns and "class" not in shell.user_ns


def test_an_output_name_may_come_from_a_notebook_value(shell: InteractiveShell) -> None:
    shell.user_ns["target"] = "vectors"
    run(shell, "embed", "--no-cache -o {{target}} some text")
    assert len(shell.user_ns["vectors"]) == 1
