"""A tokenizer-free token estimate, for pacing a job by its token limit and planning its requests
before anything is sent."""

from __future__ import annotations

import re

__all__ = ["estimate_tokens"]

# Scripts whose tokenizers spend about one token per character (often more): Han, kana, Hangul,
# and the CJK punctuation and full-width forms that come with them.
_DENSE = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """A tokenizer-free upper estimate: one token per CJK character, about three characters a
    token elsewhere, and at least one per word."""
    dense = len(_DENSE.findall(text))
    return max(len(text.split()), dense + (len(text) - dense + 2) // 3)
