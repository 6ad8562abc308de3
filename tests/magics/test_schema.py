"""`%%chat --schema S`: a strict json_schema response format, and the answer as a value in `_`/`-o`,
against the sandbox (real HTTP) and, for answers off the schema, a server of the tests' own."""

from __future__ import annotations

import json
import socket
from typing import Any

import jsonschema
import pydantic
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from oai_magics.schema import SchemaError, read_schema, spec_schema
from tests.helpers.openapi import spec
from tests.helpers.rawserver import STREAM_HEAD, RawServer, chunk, serve  # noqa: F401 (serve is a fixture)
from tests.helpers.shells import use_server

from .conftest import run

SPEC = "name: str, score: int, ratio: float, ok: bool, tags: list[str], note: str | None"


class Review(pydantic.BaseModel):
    """What a review says, as a Pydantic model (a nested model and an optional field included)."""

    class Place(pydantic.BaseModel):
        city: str
        stars: int

    title: str
    place: Place
    tags: list[str]
    note: str | None = None


def request_errors(response_format: dict) -> list[str]:
    """What the 2026 spec says of a chat request carrying this response format."""
    body = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": "x"}], "response_format": response_format}
    return spec("2026").request_errors("post", "/chat/completions", {}, "application/json", body)


def test_a_short_spec_is_a_strict_schema() -> None:
    schema = spec_schema(SPEC)
    assert schema["required"] == ["name", "score", "ratio", "ok", "tags", "note"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert spec_schema("xs: list[int | None]")["properties"]["xs"]["items"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert request_errors(read_schema(SPEC, {}).response_format()) == []


@pytest.mark.parametrize("bad, says", [("name str", "is no `name: type`"), ("a: text", "unknown type 'text'"),
                                       ("a: int, a: str", "named twice"), ("a: int | str", "a union is `type | None`"),
                                       ("1a: int", "is no `name: type`")])
def test_a_bad_short_spec_is_one_line(bad: str, says: str) -> None:
    with pytest.raises(SchemaError, match="--schema") as info:
        spec_schema(bad)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_a_pydantic_class_gives_an_instance_in_underscore_and_o(shell: Any) -> None:
    shell.user_ns["Review"] = Review
    _, out = run(shell, "chat", "--schema Review -o review", "Review: the Lisbon hotel had warm staff")
    review = shell.user_ns["review"]
    assert isinstance(review, Review) and isinstance(review.place, Review.Place)
    assert shell.user_ns["_"] is review
    schema = read_schema("Review", shell.user_ns)
    assert request_errors(schema.response_format()) == []
    # Strict: every object closed, every property required (the optional `note` stays nullable).
    assert schema.json["required"] == ["title", "place", "tags", "note"] and schema.json["additionalProperties"] is False
    assert schema.json["$defs"]["Place"]["additionalProperties"] is False
    assert json.dumps(review.model_dump(), indent=2) in out.stdout  # shown indented


def test_a_dict_and_a_short_spec_give_dicts_valid_against_their_schema(shell: Any) -> None:
    run(shell, "chat", f"--schema '{SPEC}' -o row", "Rate the Porto bakery")
    row = shell.user_ns["row"]
    jsonschema.validate(row, spec_schema(SPEC))
    assert isinstance(row["score"], int) and isinstance(row["ratio"], float)
    shell.user_ns["city"] = {"title": "city", "type": "object", "additionalProperties": False, "required": ["name"],
                             "properties": {"name": {"type": "string"}}}
    run(shell, "chat", "--schema city", "Name the city of Porto")
    assert set(shell.user_ns["_"]) == {"name"}


def test_a_schema_strict_mode_refuses_is_the_servers_line_and_nothing_is_sent_twice(shell: Any) -> None:
    shell.user_ns["loose"] = {"type": "object", "properties": {"name": {"type": "string"}}}
    with pytest.raises(UsageError) as info:
        run(shell, "chat", "--schema loose", "Name a city")
    line = str(info.value)
    assert "Invalid schema for response_format 'loose'" in line and "'additionalProperties' is required" in line
    assert "\n" not in line


@pytest.mark.parametrize("line, says", [("--schema nothing_here", "no such variable"),
                                        ("--schema number", "a int is no schema"),
                                        ("--schema 'name str, score int'", "^--schema 'name str, score int': neither "
                                                                          "a variable nor a short spec; a short spec is"),
                                        ("--schema 'a: int' --json", "give one")])
def test_a_bad_schema_argument_is_one_line_before_anything_is_sent(shell: Any, line: str, says: str) -> None:
    shell.user_ns["number"] = 5
    from oai_magics.magics import session_of

    sent = len(session_of(shell).records)
    with pytest.raises(UsageError, match=says):
        run(shell, "chat", line, "Name a city")
    assert len(session_of(shell).records) == sent


# -- answers off the schema, from a server of the tests' own ---------------------------------------

def streamed(*deltas: dict) -> Any:
    """A handler answering each request with a chat stream of these deltas."""
    events = [b"data: " + json.dumps({"model": "m", "choices": [{"index": 0, "delta": d, "finish_reason": None}]}).encode()
              + b"\n\n" for d in deltas]
    events.append(b'data: {"model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n')

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        head = STREAM_HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
        connection.sendall(head + b"".join(chunk(e) for e in events + [b"data: [DONE]\n\n"]) + b"0\r\n\r\n")

    return handle


def ask(ip: InteractiveShell, server: RawServer, line: str) -> str:
    """Run `%%chat line` against `server`; the one line it ends with."""
    use_server(ip, server)
    with pytest.raises(UsageError) as info:
        run(ip, "chat", line, "Rate the Lisbon hotel")
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("answer, says", [
    ('{"name": "Lisbon", "score": "high"}', "the answer does not match the schema: ['score']: 'high' is not of type 'integer'"),
    ('{"name": "Lisbon"}', "the answer does not match the schema: the answer: 'score' is a required property"),
    ('{"name": "Lis', "the answer is not JSON"),
])
def test_an_answer_off_the_schema_is_one_line_and_its_text_is_kept(raw_shell: Any, serve: Any, answer: str,
                                                                    says: str) -> None:
    server = serve(streamed({"role": "assistant", "content": ""}, {"content": answer[:7]}, {"content": answer[7:]}))
    line = ask(raw_shell, server, "--schema 'name: str, score: int' -o rated")
    assert line.startswith(says) and line.endswith("its raw text is in _ and rated")
    assert raw_shell.user_ns["rated"] == raw_shell.user_ns["_"] == answer


def test_an_answer_off_a_pydantic_class_names_the_field(raw_shell: Any, serve: Any) -> None:
    raw_shell.user_ns["Review"] = Review
    answer = '{"title": "x", "place": {"city": "Lisbon", "stars": "many"}, "tags": [], "note": null}'
    server = serve(streamed({"role": "assistant", "content": answer}))
    line = ask(raw_shell, server, "--schema Review")
    assert line.startswith("the answer does not match Review: place.stars: Input should be a valid integer")
    assert raw_shell.user_ns["_"] == answer


def test_an_answer_with_keys_the_strict_schema_does_not_allow_is_one_line_for_a_pydantic_class_too(
        raw_shell: Any, serve: Any) -> None:
    raw_shell.user_ns["Review"] = Review
    answer = ('{"title": "x", "place": {"city": "Lisbon", "stars": 4, "sea": true}, "tags": [], "note": null}')
    server = serve(streamed({"role": "assistant", "content": answer}))
    line = ask(raw_shell, server, "--schema Review")
    assert line.startswith("the answer does not match Review: ['place']: Additional properties are not allowed "
                           "('sea' was unexpected)")
    assert raw_shell.user_ns["_"] == answer


def test_a_refusal_is_one_line_and_its_text_is_kept(raw_shell: Any, serve: Any) -> None:
    server = serve(streamed({"role": "assistant", "content": None, "refusal": ""},
                            {"refusal": "I can't help "}, {"refusal": "with that."}))
    line = ask(raw_shell, server, "--schema 'name: str'")
    assert line == "the model refused: I can't help with that.; its raw text is in _"
    assert raw_shell.user_ns["_"] == "I can't help with that."


def answered(message: dict) -> Any:
    """A handler answering each request with one whole chat completion carrying this message."""
    body = json.dumps({"model": "m", "choices": [{"index": 0, "message": {"role": "assistant", **message},
                                                  "finish_reason": "stop"}]}).encode()

    def handle(connection: socket.socket, server: RawServer) -> None:
        server.read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n%s" % (len(body), body))

    return handle


@pytest.mark.parametrize("message, says", [
    ({"content": '{"name": 5}'}, "the answer does not match the schema: ['name']: 5 is not of type 'string'"),
    ({"content": None, "refusal": "I can't help with that."}, "the model refused: I can't help with that."),
])
def test_each_marks_a_row_off_the_schema_or_refused_and_keeps_its_text(raw_shell: Any, serve: Any, message: dict,
                                                                        says: str) -> None:
    use_server(raw_shell, serve(answered(message)))
    raw_shell.user_ns["names"] = ["Ada"]
    table, out = run(raw_shell, "chat", "--each names --schema 'name: str'", "Name {{row}}")
    assert table["error"].tolist() == [says] and table["reply"].tolist() == [message["content"] or message["refusal"]]
    assert table["name"].isna().all() and str(table["name"].dtype) == "string"
    assert f"1 of 1 rows failed (rows 0): {says}" in out.stdout
