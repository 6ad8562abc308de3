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
