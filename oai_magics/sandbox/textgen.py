"""Deterministic text: the sandbox's replies, token counts, and arguments built from a JSON schema.

Nothing here is a language model. Replies say they come from the sandbox and are built from the
prompt (its length, its longest words), so the same prompt always gets the same answer and a
different prompt a visibly different one.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

__all__ = ["reply_text", "word_limit", "short_name", "tokens", "count_tokens", "apply_stop", "arguments_for", "named_tool",
           "json_reply", "edit_text"]

# A word starts with a letter of any script ("Zoë", "Łódź", "東京"), then letters, hyphens or apostrophes.
_LETTER = r"[^\W\d_]"
_WORDS = re.compile(rf"{_LETTER}(?:{_LETTER}|['-]){{3,}}")
_NAME = re.compile(rf"{_LETTER}(?:{_LETTER}|['-])+")
_NUMBER = re.compile(r"(?<![\w.])\d{1,15}(?![\w.])")  # a whole number standing alone ("34", not "3.5" or "v2")
# Tokens are cut the way GPT-4o-style tokenizers (o200k_base) cut text before their byte-pair merges:
# a CJK character alone, a word with the space or mark before it, digits in threes, a run of
# punctuation, whitespace. Common words are one token each after the merges, so for English prose
# this count is within a few percent of the real tokenizer's (measured on the GPL and Apache
# licence texts: 3 and 4 % under o200k_base), where a count of words was a quarter under it.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_TOKENS = re.compile(rf"[{_CJK}]|(?:[^\r\n\w{_CJK}]|_)?[^\W\d_{_CJK}]+|\d{{1,3}}| ?(?:[^\s\w{_CJK}]|_)+[\r\n]*"
                     r"|\s*[\r\n]+|\s+(?!\S)|\s+")

OPENINGS = [
    "Here is a reply from the **oai_magics sandbox** (a local test server, not a language model).",
    "The **oai_magics sandbox** answers (deterministically, with no model behind it).",
    "This answer comes from the **oai_magics sandbox**, a local stand-in for the API.",
]


_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>#|~{}!]")


FAIL_WORD = "sandbox:fail"  # a user message holding it makes a run or response fail, so clients can test that path


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


STOPWORDS = frozenset("""about above after again also because been before being below between both could does doing
down during each from further have having here into itself just more most myself once only other over same should
some such than that their theirs them then there these they this those through under until very what when where which
while whom with would your yours tell please write give make""".split())


def keywords(text: str, limit: int = 3) -> list[str]:
    """The prompt's longest distinct content words, as written, in the order they appear."""
    seen: dict[str, tuple[int, str]] = {}
    for index, word in enumerate(_WORDS.findall(text)):
        if word.lower() not in STOPWORDS:
            seen.setdefault(word.lower(), (index, word))
    chosen = sorted(seen, key=lambda w: (-len(w), seen[w][0]))[:limit]
    return [seen[w][1] for w in sorted(chosen, key=lambda w: seen[w][0])]


def inline_quote(text: str, limit: int = 80) -> str:
    """The text as one line of plain Markdown: line breaks folded, cut to `limit` characters, and
    every character that could open code, emphasis, a link or HTML escaped, so a prompt that starts
    a code fence or a table cannot run on into the rest of the reply."""
    folded = " ".join(text.split())
    if len(folded) > limit:
        folded = folded[: limit - 3].rstrip() + "..."
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", folded)


def reply_text(prompt: str, variant: int = 0) -> str:
    """A short Markdown reply derived from the prompt; `variant` distinguishes the n choices."""
    prompt = prompt.strip()
    words = len(prompt.split())
    opening = OPENINGS[(digest(prompt) + variant) % len(OPENINGS)]
    lines = [opening, "", f"You wrote {words} word{'s' if words != 1 else ''}: “{inline_quote(prompt)}”"]
    found = keywords(prompt)
    if found:
        lines += ["", "Key words I noticed:"] + [f"- {word}" for word in found]
    if variant:
        lines += ["", f"(choice {variant + 1})"]
    return "\n".join(lines)


_COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_WORD_LIMIT = re.compile(r"\b(one|two|three|four|five|six|seven|eight|[1-8])\s+to\s+(two|three|four|five|six|seven|"
                         r"eight|[2-8])\s+words\b", re.IGNORECASE)


def word_limit(instructions: str) -> tuple[int, int] | None:
    """(fewest, most) words when the instructions ask for an answer "in two to five words", else None."""
    found = _WORD_LIMIT.search(instructions)
    if found is None:
        return None
    low, high = (int(_COUNTS.get(part.lower(), part)) for part in found.groups())
    return (low, high) if low <= high else None


# What a client's prompt says before another group's texts, when it asks for a name that tells its
# group apart from that one (the words of those texts are then no part of the name).
CONTRAST_MARK = "The other group's texts:"


def short_name(prompt: str, fewest: int = 2, most: int = 5) -> str:
    """A name of `fewest` to `most` (at most three) words for what the prompt is about: its most
    frequent content words (ties: the longer, then the earlier), capitalised, in order of frequency.
    What a model asked to name a group of texts answers, made from the texts themselves."""
    own, mark, others = prompt.partition(CONTRAST_MARK)
    if mark:  # asked to name a group apart from another: its listed texts, but for the other's words
        own = "\n".join(line for line in own.splitlines() if line.startswith("- "))
    shared = {word.lower() for word in _WORDS.findall(others)}
    counts: dict[str, list[int]] = {}
    for index, word in enumerate(_WORDS.findall(own)):
        lower = word.lower()
        if lower not in STOPWORDS and lower not in ("text", "texts", "words", "name") and lower not in shared:
            counts.setdefault(lower, [0, index])[0] += 1
    ranked = sorted(counts, key=lambda w: (-counts[w][0], -len(w), counts[w][1]))
    chosen = [word.capitalize() for word in ranked[: max(fewest, min(most, 3))]]
    while len(chosen) < fewest:  # a prompt of too few words: the name still has its length
        chosen.append(("Sandbox", "Group", "Texts")[len(chosen) % 3])
    return " ".join(chosen)


def edit_text(text: str, instruction: str) -> str:
    """A legacy edit: the input tidied (spacing, capitals, a final full stop), per the instruction."""
    tidy = re.sub(r"\s+", " ", text).strip()
    if "upper" in instruction.lower():
        tidy = tidy.upper()
    elif tidy:
        tidy = tidy[0].upper() + tidy[1:]
    if tidy and tidy[-1] not in ".!?":
        tidy += "."
    return tidy + "\n"


def tokens(text: str) -> list[str]:
    """Text cut into tokens (see `_TOKENS`) that join back into exactly the text."""
    return _TOKENS.findall(text)


def count_tokens(text: str) -> int:
    """Tokens as the sandbox counts them (max_tokens cuts, and streams send, by the same pieces)."""
    return len(tokens(text))


def apply_stop(text: str, stop: Any) -> tuple[str, bool]:
    """Cut at the first stop sequence; whether one was found."""
    sequences = [stop] if isinstance(stop, str) else list(stop or [])
    cut = min((text.find(s) for s in sequences if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def json_reply(prompt: str) -> str:
    """JSON mode: a JSON object about the prompt."""
    return json.dumps({"source": "oai_magics sandbox", "prompt_words": len(prompt.split()),
                       "keywords": keywords(prompt), "echo": prompt[:200]})


def arguments_for(schema: Any, prompt: str, name: str = "value", numbers: bool = False) -> Any:
    """A value that satisfies a JSON schema, drawing strings from the prompt (and with `numbers`, as a
    Structured Outputs answer does, integers too: the first one the prompt has within the bounds)."""
    if not isinstance(schema, dict):
        return prompt[:40] or "sandbox"
    for combinator in ("anyOf", "oneOf", "allOf"):
        if schema.get(combinator):
            return arguments_for(schema[combinator][0], prompt, name, numbers)
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: arguments_for(sub, prompt, key, numbers) for key, sub in props.items()}
    if kind == "array":
        return [arguments_for(schema.get("items", {}), prompt, name, numbers)] * max(1, schema.get("minItems", 1))
    if kind == "integer" and numbers and _number_in(prompt, schema) is not None:
        return _number_in(prompt, schema)
    if kind == "integer":
        return int(max(schema.get("minimum", 1), 1) if "maximum" not in schema else schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    # A string property gets what the prompt quotes as code (a query, a path), else ("city", "name") a
    # proper noun of the prompt if it has one.
    quoted = re.findall(r"`([^`]+)`", prompt)
    if quoted:
        return quoted[0]
    found = proper_nouns(prompt) or keywords(prompt, limit=5)
    return found[digest(name) % len(found)] if found else "sandbox"


def named_tool(names: list[str], prompt: str) -> int:
    """Which offered tool the sandbox calls: the first one the prompt names as a word (by its whole
    name, or by what follows `__`, as bridged MCP tools are named `server__tool`), else the first."""
    words = set(re.findall(r"[a-z0-9_-]+", prompt.lower()))
    for index, name in enumerate(names):
        if {name.lower(), name.lower().rpartition("__")[2]} & words:
            return index
    return 0


def _number_in(prompt: str, schema: dict) -> int | None:
    """The first whole number written in the prompt that the schema's bounds allow, or None."""
    for match in _NUMBER.finditer(prompt):
        value = int(match.group(0))
        if schema.get("minimum", value) <= value <= schema.get("maximum", value):
            return value
    return None


def proper_nouns(text: str) -> list[str]:
    """Capitalised words that do not start a sentence, in order, without repeats."""
    nouns: list[str] = []
    for match in _NAME.finditer(text):
        before = text[: match.start()].rstrip()
        starts_sentence = not before or before[-1] in ".!?"
        word = match.group(0)
        if word[0].isupper() and not starts_sentence and word not in nouns:
            nouns.append(word)
    return nouns


def tool_results_text(results: list[tuple[str, str]]) -> str:
    """The reply after tool results: (tool name, output) pairs, reported back."""
    lines = [f"- `{name}` returned: {output}" for name, output in results]
    return "\n".join(["The **oai_magics sandbox** received the tool results:", *lines])
