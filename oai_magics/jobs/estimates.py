"""Token counts made before anything is sent: a tokenizer-free upper estimate for pacing a job by its
token limit and planning its requests (`estimate_tokens`), and the count a cost estimate stands on
(`count_tokens`): `tiktoken`'s, when the package and its encoding file are on this machine, else a
stated approximation.

tiktoken is optional and never downloads here: it fetches an encoding file on first use, so it is
asked only for an encoding already in its cache folder (`TIKTOKEN_CACHE_DIR`, else `data-gym-cache`
in the temporary folder, as tiktoken's own `load.read_file_cached` keeps them). Put the file there,
or run tiktoken once where the network allows, to get exact counts.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

__all__ = ["estimate_tokens", "count_tokens", "TokenCount", "approximate_tokens"]

# Scripts whose tokenizers spend about one token per character (often more): Han, kana, Hangul,
# and the CJK punctuation and full-width forms that come with them.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_DENSE = re.compile(f"[{_CJK}]")
# The pieces GPT-4o-style tokenizers (o200k_base) cut text into before their byte-pair merges: a CJK
# character alone, a word with the space or mark before it, digits in threes, a run of punctuation,
# whitespace. Common words are one token each after the merges, so for English prose the count of
# pieces is a few percent under the real one (3 and 4 % on the GPL and Apache licence texts).
_PIECES = re.compile(rf"[{_CJK}]|(?:[^\r\n\w{_CJK}]|_)?[^\W\d_{_CJK}]+|\d{{1,3}}| ?(?:[^\s\w{_CJK}]|_)+[\r\n]*"
                     r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# Two things the pieces miss, measured against o200k_base: a run of emoji is one piece but each emoji
# is a token per two of its UTF-8 bytes or so (🎉 2, ☕️ 3, a family joined by ZWJ 11), and a long
# word is one piece but a compound past the merged vocabulary is a token per five letters or so.
_SYMBOLS = re.compile("[\u2190-\u2bff\u200d\ufe0f\U0001F000-\U0001FAFF]")
_LONG = 16  # characters of a piece past which it is cut up more (" responsibilities": 2 tokens)
# Where tiktoken's public encodings come from: its cache names each file by the SHA-1 of this address.
_ENCODING_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_TODAYS_ENCODING = "o200k_base"  # what tiktoken does not know yet is told as today's models are


def estimate_tokens(text: str) -> int:
    """A tokenizer-free upper estimate: one token per CJK character, about three characters a
    token elsewhere, and at least one per word."""
    dense = len(_DENSE.findall(text))
    return max(len(text.split()), dense + (len(text) - dense + 2) // 3)


def approximate_tokens(text: str) -> int:
    """A tokenizer-free central estimate: the pieces a GPT-4o-style tokenizer starts from (`_PIECES`),
    and the tokens emoji and long words take beyond their one piece (`_SYMBOLS`, `_LONG`).
    Within a few percent for English prose, over for CJK (by a fifth to four fifths), under for code
    (about a tenth) and for long words of other languages."""
    pieces = _PIECES.findall(text)
    symbols = sum(len(symbol.encode("utf-8")) for symbol in _SYMBOLS.findall(text)) // 2
    # A piece is a word with the space before it; a long run of spaces or dashes is cut up too.
    long_pieces = sum((len(piece) - _LONG + 4) // 5 for piece in pieces if len(piece) > _LONG)
    return len(pieces) + symbols + long_pieces


@dataclass(frozen=True)
class TokenCount:
    """Tokens of some texts, and how they were counted: `encoding` names tiktoken's, None an approximation."""

    tokens: int
    encoding: str | None = None

    @property
    def exact(self) -> bool:
        return self.encoding is not None


def count_tokens(texts: Sequence[str], model: str) -> TokenCount:
    """The tokens of `texts` for `model`: exact with a local tiktoken encoding, else approximated."""
    encoding = _local_encoding(model)
    if encoding is None:
        return TokenCount(sum(approximate_tokens(text) for text in texts))
    return TokenCount(sum(len(encoding.encode_ordinary(text)) for text in texts), encoding.name)


@lru_cache(maxsize=8)
def _local_encoding(model: str) -> Any:
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        name = _TODAYS_ENCODING
    path = _cache_file(name)
    if path is None or not os.path.exists(path):
        return None  # getting it would mean a download
    try:
        return tiktoken.get_encoding(name)
    except (ValueError, OSError):  # a damaged file: tiktoken would fetch it again
        return None


def _cache_file(name: str) -> str | None:
    """Where tiktoken keeps an encoding it has fetched (None: its cache is turned off, so every use downloads)."""
    for variable in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if variable in os.environ:
            folder = os.environ[variable]
            break
    else:
        folder = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not folder:
        return None
    return os.path.join(folder, hashlib.sha1(_ENCODING_URL.format(name=name).encode()).hexdigest())
