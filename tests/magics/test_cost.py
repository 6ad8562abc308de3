"""Cost: the dollars beside the tokens under a reply, and in `%oai usage` (per request, per model, in
all, and for a part of the session), from answers whose usage is known."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Callable

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from oai_magics.magics import session_of
from oai_magics.prices import builtin, money
from tests.helpers.rawserver import RawServer

from .conftest import run

# 600 fresh and 400 cached input tokens, 500 output tokens of which 200 were reasoning.
USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
         "prompt_tokens_details": {"cached_tokens": 400}, "completion_tokens_details": {"reasoning_tokens": 200}}
# gpt-4.1-mini costs 0.40 input, 0.10 cached input, 1.60 output dollars per million tokens.
COST = (600 * 0.40 + 400 * 0.10 + 500 * 1.60) / 1e6  # $0.00108


def _answering(serve: Callable, model: str, usage: object = USAGE) -> str:
    """A server that answers every chat completion as `model` with `usage`, and nothing else (404)."""
    chat = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model, "usage": usage,
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."},
                                    "finish_reason": "stop"}]}).encode()
    missing = json.dumps({"error": {"message": "Invalid URL", "type": "invalid_request_error"}}).encode()

    def handle(connection: socket.socket, server: RawServer) -> None:
        found = b" /v1/chat/completions " in server.read_request(connection).split(b"\r\n")[0]
        body = chat if found else missing
        connection.sendall(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n%s" % (b"200 OK" if found else b"404 Not Found", len(body), body))

    return serve(handle).url


def test_the_reply_line_prices_cached_input_and_reasoning_tokens_and_a_dated_name_as_its_alias(
        serve: Callable, shell_at: Callable) -> None:
    ip = shell_at(_answering(serve, "gpt-4.1-mini-2025-04-14"))
    _, out = run(ip, "chat", "--no-stream -m gpt-4.1-mini", "Hello")
    assert out.stdout.strip().endswith("1000 prompt + 500 completion tokens (200 reasoning) · $0.0011]")
    log, shown = run(ip, "oai", "usage")
    chats = log[log["endpoint"] == "/chat/completions"]  # beside the back end's probes, which cost nothing
    assert chats["cost"].tolist() == [pytest.approx(COST)] and log["cost"].sum() == pytest.approx(COST)
    assert "  gpt-4.1-mini-2025-04-14: $0.0011 (1 request)" in shown.stdout.splitlines()
    assert shown.stdout.strip().splitlines()[-1] == "cost: $0.0011"


def test_a_model_with_no_price_shows_no_figure_and_is_named_in_the_totals(serve: Callable, shell_at: Callable) -> None:
    ip = shell_at(_answering(serve, "my-local-llama"))
    _, out = run(ip, "chat", "--no-stream -m my-local-llama", "Hello")
    assert out.stdout.strip().endswith("1000 prompt + 500 completion tokens (200 reasoning)]")
    log, shown = run(ip, "oai", "usage")
    assert log["cost"].isna().all()
    assert log.loc[log["endpoint"] == "/chat/completions", "total_tokens"].tolist() == [1500]
    assert "no price for my-local-llama: 1 request(s) not in the cost" in shown.stdout
    assert shown.stdout.strip().endswith("cost: $0")


def test_prices_from_config_a_dict_or_a_toml_file_and_a_bad_one_is_one_line(
        serve: Callable, shell_at: Callable, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ip = shell_at(_answering(serve, "my-local-llama"))
    ip.run_line_magic("config", "OAIMagics.prices = {'my-local-llama': {'input': 1.0, 'output': 2.0}}")
    _, out = run(ip, "chat", "--no-stream -m my-local-llama", "Hello")
    assert out.stdout.strip().endswith("· $0.0020]")  # 1000 input at $1, 500 output at $2 a million
    table = tmp_path / "prices.toml"
    table.write_text('[models.my-local-llama]\ninput = 10.0\noutput = 0.0\n')
    ip.run_line_magic("config", f"OAIMagics.prices = {str(table)!r}")
    _, out = run(ip, "chat", "--no-stream -m my-local-llama", "Hello")
    assert out.stdout.strip().endswith("· $0.01]")
    # %config logs what the setting refused, one line each, and keeps the value it had.
    ip.run_line_magic("config", "OAIMagics.prices = {'x': {'input': 'cheap'}}")
    (tmp_path / "bad.json").write_text("{not json")
    ip.run_line_magic("config", f"OAIMagics.prices = {str(tmp_path / 'bad.json')!r}")
    assert [r.getMessage() for r in caplog.records][0] == ("OAIMagics.prices: 'x' input must be a number of dollars "
                                                           "of at least 0, not 'cheap'")
    assert caplog.records[1].getMessage().startswith(f"OAIMagics.prices: {tmp_path / 'bad.json'} is not valid JSON: ")
    assert all("\n" not in r.getMessage() for r in caplog.records)
    _, out = run(ip, "chat", "--no-stream -m my-local-llama", "Hello")  # the good table stays
    assert out.stdout.strip().endswith("· $0.01]")


def test_since_totals_a_part_of_the_session(serve: Callable, shell_at: Callable) -> None:
    ip = shell_at(_answering(serve, "gpt-4.1-mini"))
    ip.execution_count = 7
    run(ip, "chat", "--no-stream", "one")
    ip.execution_count = 8
    run(ip, "chat", "--no-stream", "two")
    run(ip, "chat", "--no-stream", "three")
    this_cell, out = run(ip, "oai", "usage --since cell")
    this_cell = this_cell[this_cell["endpoint"] == "/chat/completions"]
    assert len(this_cell) == 2 and out.stdout.strip().endswith(f"cost: ${2 * COST:.4f}")
    def chats(since: str) -> int:
        frame = run(ip, "oai", f"usage --since {since}")[0]
        return int((frame["endpoint"] == "/chat/completions").sum())

    assert chats("cell-1") == 3
    everything, _ = run(ip, "oai", "usage")
    everything = everything[everything["endpoint"] == "/chat/completions"]
    second = everything["at"].iloc[1].tz_convert(None).to_pydatetime()  # from the second request on, by time
    assert chats(f"{second.isoformat()}+00:00") == 2
    assert chats("2999-01-01T00:00") == 0
    with pytest.raises(UsageError, match=r"^--since 'yesterday': give a time \(10:30\), an ISO date"):
        run(ip, "oai", "usage --since yesterday")


def test_a_model_priced_for_input_only_puts_no_figure_on_a_reply_with_output(serve: Callable,
                                                                            shell_at: Callable) -> None:
    # Its output tokens have no price: $0 for them would be a made-up figure, not a cheap one.
    ip = shell_at(_answering(serve, "my-local-llama"))
    ip.run_line_magic("config", "OAIMagics.prices = {'my-local-llama': {'input': 1.0}}")
    _, out = run(ip, "chat", "--no-stream -m my-local-llama", "Hello")
    assert out.stdout.strip().endswith("1000 prompt + 500 completion tokens (200 reasoning)]")
    log, shown = run(ip, "oai", "usage")
    assert log["cost"].isna().all()
    assert "no price for my-local-llama: 1 request(s) not in the cost" in shown.stdout


@pytest.mark.parametrize("usage, shown", [
    ({"foo": 1}, None),  # no count at all: no tokens on the line
    ({"prompt_tokens": "12", "completion_tokens": 5}, "? prompt + 5"),  # a count as text: pricing the rest would be part of a bill
    ({"prompt_tokens": -5, "completion_tokens": -3}, "? prompt + ? completion"),
    ({"prompt_tokens": 1.5, "completion_tokens": 2.5}, "? prompt + ? completion"),
    ({"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 50}},  # more cached than sent
     "10 prompt + 5 completion"),
    ({"prompt_tokens": 10 ** 400, "completion_tokens": 1}, "? prompt + 1 completion"),  # beyond a float
], ids=["no-counts", "text", "negative", "fractions", "cached-over-input", "huge"])
def test_a_malformed_usage_from_a_bad_server_is_no_figure_and_no_traceback(serve: Callable, shell_at: Callable,
                                                                          usage: dict, shown: str | None) -> None:
    ip = shell_at(_answering(serve, "gpt-4.1-mini", usage))
    _, out = run(ip, "chat", "--no-stream -m gpt-4.1-mini", "Hello")
    assert out.stdout.startswith("Hi.") and "$" not in out.stdout
    line = out.stdout.strip().splitlines()[-1]  # the server's words are never shown as if they were counts
    assert (shown in line) if shown else "prompt" not in line, line
    log, said = run(ip, "oai", "usage")
    assert log.loc[log["endpoint"] == "/chat/completions", "cost"].isna().all()
    assert said.stdout.strip().endswith("cost: $0")


def test_a_batch_job_is_in_the_cost_once_at_the_batch_price(shell: Any) -> None:
    # The Batch object carries the job's usage so far: every poll of it tells it again, so it is
    # counted once (its latest), priced at the Batch API's discount, under the model it names.
    shell.user_ns["rows"] = ["one fish", "two fish", "red fish"]
    run(shell, "chat", "--each rows --batch --yes -o job", "Say {{row}}")
    job = shell.user_ns["job"]
    for _ in range(2):  # a second collect reads the batch again
        answers, _ = run(shell, "chat", f"--collect {job.id} --wait")
        assert answers["error"].isna().all()
    log, _ = run(shell, "oai", "usage")
    read = log.loc[log["endpoint"].str.startswith("/batches/batch_"), "endpoint"].iloc[-1]
    session_of(shell).client.batches.retrieve(read.rsplit("/", 1)[1])  # a later read of it, as any poll is
    log, shown = run(shell, "oai", "usage")
    batches = log[log["endpoint"].str.startswith("/batches/")]
    counted = batches[batches["total_tokens"] > 0]
    assert len(counted) == 1 and counted["model"].tolist() == ["gpt-5.4-mini"]
    [row] = counted.itertuples()
    assert row.prompt_tokens > 0 and row.completion_tokens > 0
    full = builtin().cost("gpt-5.4-mini", {"input_tokens": row.prompt_tokens, "output_tokens": row.completion_tokens})
    assert row.cost == pytest.approx(full / 2)
    assert f"  gpt-5.4-mini: {money(full / 2)} (1 request)" in shown.stdout.splitlines()


def test_the_cell_of_a_request_is_the_number_its_cell_shows(serve: Callable, shell_at: Callable) -> None:
    # IPython counts the next cell while one runs (its Out[n] is execution_count - 1): the log said 5 under [4].
    ip = shell_at(_answering(serve, "gpt-4.1-mini"))
    with capture_output():
        shown = ip.run_cell("%%chat --no-stream\nHello", store_history=True)
        ip.run_cell("log = %oai usage", store_history=True)
    log = ip.user_ns["log"]
    assert log.loc[log["endpoint"] == "/chat/completions", "cell"].tolist() == [shown.execution_count]


def test_a_price_file_broken_after_config_costs_no_answer(serve: Callable, shell_at: Callable, tmp_path: Path) -> None:
    # The file is read again at the first reply: broken meanwhile, the answer (paid for) is still shown and logged.
    ip = shell_at(_answering(serve, "my-local-llama"))
    table = tmp_path / "prices.toml"
    table.write_text('[models.my-local-llama]\ninput = 10.0\noutput = 0.0\n')
    ip.run_line_magic("config", f"OAIMagics.prices = {str(table)!r}")
    table.write_text("[models.my-local-llama")
    _, out = run(ip, "chat", "--no-stream -m my-local-llama", "Hello")
    assert out.stdout.startswith("Hi.") and out.stdout.strip().endswith("1000 prompt + 500 completion tokens (200 reasoning)]")
    assert out.stderr.strip() == (f"OAIMagics.prices: {table} is not valid TOML: Expected ']' at the end of a table "
                                  "declaration (at end of document); the package's prices are used until it is set again")
    log, _ = run(ip, "oai", "usage")
    assert log.loc[log["endpoint"] == "/chat/completions", "total_tokens"].tolist() == [1500]
