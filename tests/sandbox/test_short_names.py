"""Asked for an answer "in two to five words" (as when naming a cluster of texts), the sandbox
answers with a short name built from the prompt's most frequent content words, over real HTTP."""

from __future__ import annotations

import pytest

from oai_magics.client import Client
from oai_magics.sandbox.textgen import short_name, word_limit


@pytest.mark.parametrize("instructions, expected", [
    ("Answer with a name of two to five words.", (2, 5)),
    ("Reply in 3 to 4 words", (3, 4)),
    ("Say it In One To Three Words please", (1, 3)),
    ("Answer in five to two words", None),
    ("Answer briefly.", None),
])
def test_word_limits_are_read_from_the_instructions(instructions: str, expected: object) -> None:
    assert word_limit(instructions) == expected


def test_the_name_is_the_most_frequent_content_words() -> None:
    prompt = "Texts:\n- cats purr on the sofa\n- kittens and cats nap\n- cats chase kittens"
    assert short_name(prompt) == "Cats Kittens Chase"  # ties: the longer word first
    assert short_name("Texts:\n- a b") == "Sandbox Group"  # too few words: the name still has two


def test_a_chat_request_for_a_short_name_gets_one(api: Client) -> None:
    answer = api.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "system", "content": "Name what these texts share in two to five words, nothing else."},
        {"role": "user", "content": "Texts:\n- rain falls on roofs\n- storms bring heavy rain"}])
    assert answer["choices"][0]["message"]["content"] == "Rain Storms Falls"
    plain = api.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "rain falls"}])
    assert "sandbox" in plain["choices"][0]["message"]["content"]  # without the instruction: the usual reply
