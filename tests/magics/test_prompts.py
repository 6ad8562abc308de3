"""prompts: {{name}} placeholders filled in prose, never inside code."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from oai_magics.magics.prompts import interpolate

NAMESPACE = {"city": "Porto", "data": {"river": "Douro"}, "items": ["wine"]}


def test_variables_attributes_and_items_are_filled() -> None:
    assert interpolate('{{city}} on the {{ data["river"] }}, {{items[0]}}; {"a": {"b": 1}}', NAMESPACE) == \
        'Porto on the Douro, wine; {"a": {"b": 1}}'


def test_fenced_code_and_inline_code_keep_their_braces() -> None:
    prompt = ("Explain {{city}}:\n"
              "```python\nprint(f\"{{city}}\")\n```\n"
              "~~~~\n{{city}}\n~~~\nstill code {{city}}\n~~~~\n"
              "and `{{city}}` and ``a `{{city}}` b`` then {{city}}")
    assert interpolate(prompt, NAMESPACE) == prompt.replace("Explain {{city}}", "Explain Porto").replace(
        "then {{city}}", "then Porto")


def test_an_unclosed_fence_runs_to_the_end() -> None:
    assert interpolate("{{city}}\n```\n{{city}}", NAMESPACE) == "Porto\n```\n{{city}}"


def test_a_name_that_is_no_variable_is_left_as_written(capsys: Any) -> None:
    assert interpolate("Hello {{ user.name }}!", NAMESPACE) == "Hello {{ user.name }}!"
    assert capsys.readouterr().err == "{{ user.name }} left as it is: there is no variable named 'user'\n"


def test_a_variable_that_cannot_be_followed_is_one_line() -> None:
    with pytest.raises(UsageError, match=r"^\{\{data\.missing\}\}: AttributeError: .*--no-interpolate"):
        interpolate("{{data.missing}}", NAMESPACE)
    with pytest.raises(UsageError, match=r"KeyError"):
        interpolate("{{data['sea']}}", NAMESPACE)


class _Broken:
    """A notebook object whose own code fails: a property that raises, a __str__ that raises."""

    @property
    def size(self) -> int:
        raise ValueError("not measured yet")

    def __str__(self) -> str:
        raise RuntimeError("cannot show myself")


@pytest.mark.parametrize("prompt, failure", [("{{thing}}", "RuntimeError: cannot show myself"),
                                             ("{{thing.size}}", "ValueError: not measured yet")])
def test_a_variable_whose_own_code_fails_is_one_line(prompt: str, failure: str) -> None:
    with pytest.raises(UsageError, match=rf"^\{{\{{thing.*\}}\}}: {failure} \(use --no-interpolate"):
        interpolate(prompt, {"thing": _Broken()})


def test_a_dataframe_or_series_is_a_markdown_table_not_its_repr() -> None:
    import pandas as pd

    frame = pd.DataFrame({"city": ["Porto", "Lisbon"], "people": [232_000, 545_000]}, index=["p", "l"])
    assert interpolate("Compare:\n{{frame}}", {"frame": frame}) == (
        "Compare:\n|    | city   |   people |\n|:---|:-------|---------:|\n"
        "| p  | Porto  |   232000 |\n| l  | Lisbon |   545000 |")
    assert interpolate("{{s}}", {"s": frame["city"]}).splitlines()[0] == "|    | city   |"


def test_a_table_placed_mid_sentence_stands_on_lines_of_its_own() -> None:
    import pandas as pd

    frame = pd.DataFrame({"n": [1]})
    table = "|    |   n |\n|---:|----:|\n|  0 |   1 |"
    assert interpolate("Compare {{frame}} with last year", {"frame": frame}) == f"Compare \n{table}\n\n with last year"
    assert interpolate("{{frame}}\nWhich is largest?", {"frame": frame}) == f"{table}\n\nWhich is largest?"
    assert interpolate("Sum:\n{{frame}}\n\nThanks", {"frame": frame}) == f"Sum:\n{table}\n\nThanks"
    assert interpolate("{{frame}} rows", {"frame": frame, "n": 3}) == f"{table}\n\n rows"


def test_a_long_table_is_cut_at_table_rows_with_one_line_counting_the_rest() -> None:
    import pandas as pd

    frame = pd.DataFrame({"n": range(60)})
    lines = interpolate("{{frame}}", {"frame": frame}).splitlines()
    assert len([line for line in lines if line.startswith("|")]) == 2 + 50
    assert lines[-1] == "(10 more rows not shown, of 60)"
    assert interpolate("{{frame}}", {"frame": frame}, table_rows=60).count("not shown") == 0
    assert interpolate("{{frame}}", {"frame": frame.head(51)}, table_rows=50).endswith("(1 more row not shown, of 51)")


def test_an_empty_frame_says_it_has_no_rows() -> None:
    import pandas as pd

    # A header row alone was sent: a table that reads as if its rows were lost.
    assert interpolate("Rows: {{frame}}", {"frame": pd.DataFrame({"city": [], "n": []})}) == \
        "Rows: (an empty table: no rows; columns: city, n)"
    assert interpolate("{{s}}", {"s": pd.Series([], name="score", dtype=float)}) == "(an empty table: no rows; columns: score)"
    assert interpolate("{{frame}}", {"frame": pd.DataFrame()}) == "(an empty table: no rows, no columns)"
    assert interpolate("{{s}}", {"s": pd.Series([], dtype=float)}) == "(an empty series: no values)"  # no columns to name


def test_a_frame_of_rows_and_no_columns_says_so() -> None:
    import pandas as pd

    # Markdown gave a rule with no header row and the bare index under it ('|--:|', '| 0 |', ...).
    frame = pd.DataFrame({"city": ["Porto", "Faro", "Braga"]})[[]]
    assert interpolate("Rows: {{frame}} here", {"frame": frame}) == "Rows: (a table of 3 rows and no columns) here"
    assert interpolate("{{frame}}", {"frame": frame.head(1)}) == "(a table of 1 row and no columns)"


def test_table_rows_is_a_setting_of_chat(shell: Any) -> None:
    import pandas as pd

    from oai_magics.magics import session_of

    from .conftest import run

    shell.user_ns["frame"] = pd.DataFrame({"n": range(5)})
    shell.run_line_magic("config", "OAIMagics.table_rows = 2")
    run(shell, "chat", "", "Sum these:\n{{frame}}")
    sent = session_of(shell).conversations["default"].exchanges[-1].messages[0]["content"]
    assert sent.endswith("|  1 |   1 |\n\n(3 more rows not shown, of 5)") and "|  2 |" not in sent


def test_table_rows_is_honoured_by_every_magic_that_fills_a_prompt(shell: Any) -> None:
    import pandas as pd

    from tests.helpers.shells import sent_bodies

    from .conftest import run

    shell.user_ns["frame"] = pd.DataFrame({"n": range(5)})
    shell.run_line_magic("config", "OAIMagics.table_rows = 2")
    sent = sent_bodies(shell)
    run(shell, "assistant", "create counter --api assistants")
    run(shell, "assistant", "run counter --api assistants Sum these: {{frame}}")
    run(shell, "assistant", "messages add --api assistants And these: {{frame}}")
    run(shell, "image", "A chart of {{frame}}")
    prompts = [body.get("content") or body.get("prompt") or body.get("messages", [{}])[-1].get("content")
               for path, body in sent if path.endswith(("/messages", "/images/generations"))]
    assert len(prompts) == 3  # a run's message, the added one, the image
    for prompt in prompts:
        assert prompt.endswith("|  1 |   1 |\n\n(3 more rows not shown, of 5)") and "|  2 |" not in prompt, prompt
