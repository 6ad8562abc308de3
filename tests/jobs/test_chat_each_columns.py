"""%%chat --each: which columns are input and which are written, typed schema columns, and a frame
given back sending the prompts of its first run. Against the sandbox over loopback."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pydantic
import pytest
from IPython.core.error import UsageError

from .conftest import run

FREE_TEXT = ["Ada Lovelace, 36, wrote the first program", "Grace Hopper, 85, built the first compiler",
             "Alan Turing, 41, broke Enigma"]
SPEC = "name: str, age: int, tags: list[str]"


class Person(pydantic.BaseModel):
    class Place(pydantic.BaseModel):
        city: str

    name: str
    age: int
    height: float
    alive: bool
    fields: list[str]
    born: Place
    nickname: str | None


def direct(shell: Any, prompt: str, options: str = "") -> Any:
    """The reply one plain request with this prompt gets (the sandbox answers a prompt the same each time)."""
    run(shell, "chat", f"--no-memory --no-stream -o one {options}", prompt)
    return shell.user_ns["one"]


def test_a_schema_gives_one_typed_column_per_field_beside_the_raw_reply(shell: Any) -> None:
    shell.user_ns["notes"] = pd.Series(FREE_TEXT, index=["a", "g", "t"])
    shell.user_ns["Person"] = Person
    table, _ = run(shell, "chat", "--each notes --schema Person", "Extract the person: {{row}}")
    assert list(table.columns) == ["input", "reply", "error", "name", "age", "height", "alive", "fields", "born",
                                   "nickname"]
    assert {c: str(table[c].dtype) for c in table.columns[3:]} == {
        "name": "string", "age": "Int64", "height": "float64", "alive": "boolean", "fields": "object",
        "born": "object", "nickname": "string"}
    assert table["error"].isna().all() and list(table.index) == ["a", "g", "t"]
    for _, row in table.iterrows():  # the raw text beside the fields it gave
        answer = json.loads(row["reply"])
        assert answer["age"] == row["age"] and answer["born"] == row["born"] and answer["fields"] == row["fields"]
        Person.model_validate(answer)


def test_a_short_spec_fills_its_columns_and_a_failed_row_refilled_later_keeps_the_types(shell: Any, faults: Any) -> None:
    shell.user_ns["notes"] = FREE_TEXT
    faults(path="/v1/chat/completions", status=400, count=1, message="Injected bad row.")
    first, _ = run(shell, "chat", f"--each notes --workers 1 --schema '{SPEC}' -o people",
                   "Extract: {{row}}")
    assert first["error"].notna().tolist() == [True, False, False]
    assert str(first["age"].dtype) == "Int64" and first["age"].isna().tolist() == [True, False, False]
    again, _ = run(shell, "chat", f"--each people --schema '{SPEC}'", "Extract: {{row}}")
    assert again["error"].isna().all() and again["age"].notna().all() and str(again["age"].dtype) == "Int64"
    # The first run's prompt, not one made of a row that also holds the last reply and error.
    assert json.loads(again["reply"].iloc[0]) == direct(shell, f"Extract: {FREE_TEXT[0]}", f"--schema '{SPEC}'")
    assert list(again.columns) == list(first.columns)


def test_json_fields_of_rows_sent_again_are_filled(shell: Any, faults: Any) -> None:
    shell.user_ns["names"] = ["Ada", "Grace"]
    faults(path="/v1/chat/completions", status=400, count=1, message="Injected bad row.")
    first, _ = run(shell, "chat", "--each names --workers 1 --json -o answers", "A JSON object about {{row}}")
    field = [c for c in first.columns if c not in ("input", "reply", "error")][0]
    assert pd.isna(first[field].iloc[0]) and pd.notna(first[field].iloc[1])
    again, _ = run(shell, "chat", "--each answers --json", "A JSON object about {{row}}")
    assert again[field].notna().all()


def test_column_is_the_input_column_and_into_names_the_reply_column(shell: Any) -> None:
    shell.user_ns["reviews"] = pd.DataFrame({"review": ["warm staff", "cold coffee"], "stars": [5, 2]})
    table, _ = run(shell, "chat", "--each reviews --column review", "Is this happy? {{row}}")
    assert table["review"].tolist() == ["warm staff", "cold coffee"]  # the user's column untouched
    assert table["reply"].tolist() == [direct(shell, "Is this happy? warm staff"), direct(shell, "Is this happy? cold coffee")]
    named, _ = run(shell, "chat", "--each reviews --into verdict", "Is this happy? {{row.review}} ({{row.stars}} stars)")
    assert list(named.columns) == ["review", "stars", "verdict", "error"]
    assert named["verdict"].iloc[1] == direct(shell, "Is this happy? cold coffee (2 stars)")
    with pytest.raises(UsageError, match="--column text: reviews has no such column; it has 'review', 'stars'"):
        run(shell, "chat", "--each reviews --column text", "{{row}}")


@pytest.mark.parametrize("columns, line, says", [
    ({"text": ["a"], "reply": ["mine"]}, "", "the column 'reply' is yours; name the replies' column with --into NAME"),
    ({"text": ["a"], "verdict": ["mine"]}, "--into verdict", "the column 'verdict' is yours"),
    ({"text": ["a"], "error": ["mine"]}, "", "the column 'error' is yours, and the rows' errors go there"),
    ({"text": ["a"]}, "--into error", "--into error: that column holds each row's error"),
    ({"text": ["a"], "age": [3]}, "--schema 'age: int'", "the field 'age' would write over the column 'age'"),
])
def test_a_column_of_the_users_is_never_written_over(shell: Any, columns: dict, line: str, says: str) -> None:
    from oai_magics.magics import session_of

    shell.user_ns["mine"] = frame = pd.DataFrame(columns)
    sent = len(session_of(shell).records)
    with pytest.raises(UsageError) as info:
        run(shell, "chat", f"--each mine {line}", "About {{row.text}}")
    assert says in str(info.value) and "\n" not in str(info.value)
    assert len(session_of(shell).records) == sent and shell.user_ns["mine"] is frame
    assert frame.equals(pd.DataFrame(columns))


def test_a_frame_with_its_own_reply_column_answers_into_another(shell: Any) -> None:
    shell.user_ns["mine"] = pd.DataFrame({"text": ["a"], "reply": ["mine"]})
    table, _ = run(shell, "chat", "--each mine --into answer", "About {{row.text}}")
    assert table["reply"].tolist() == ["mine"] and table["answer"].iloc[0] == direct(shell, "About a")


def test_a_column_named_like_a_pandas_attribute_gives_its_value(shell: Any) -> None:
    shell.user_ns["stock"] = pd.DataFrame({"name": ["pears"], "count": [3], "index": ["shelf 2"], "T": ["cold"]},
                                          index=["row label"])
    table, _ = run(shell, "chat", "--each stock", "{{row.name}}: {{row.count}} on {{row.index}}, {{row['T']}}")
    assert table["reply"].iloc[0] == direct(shell, "pears: 3 on shelf 2, cold")


def test_a_list_given_back_sends_each_item_as_on_the_first_run(shell: Any, faults: Any) -> None:
    shell.user_ns["topics"] = ["rockets", "sourdough"]
    faults(path="/v1/chat/completions", status=400, count=1, message="Injected bad row.")
    first, _ = run(shell, "chat", "--each topics --workers 1 -o answers", "Tell me about {{row}}")
    assert first["error"].notna().tolist() == [True, False]
    again, _ = run(shell, "chat", "--each answers", "Tell me about {{row}}")
    assert again["reply"].tolist() == [direct(shell, "Tell me about rockets"), first["reply"].iloc[1]]
