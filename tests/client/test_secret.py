"""`Secret`: the key behind a mask, and masked out of server bytes however the network splits them."""

from __future__ import annotations

from oai_magics.client.secret import Secret

KEY = "not-a-real-key-0123456789"  # any text: the mask does not depend on how a key looks
MASK = repr(Secret(KEY)).encode()


def test_the_key_is_masked_wherever_a_chunk_boundary_falls() -> None:
    body = b'data: {"a": "x"}\n\ndata: {"echo": "Bearer ' + KEY.encode() + b'"}\n\ndata: [DONE]\n\n'
    secret = Secret(KEY)
    for first in range(len(body)):
        for second in range(first, len(body), 7):
            pieces = [body[:first], body[first:second], body[second:]]
            out = list(secret.hide_in_stream(pieces))
            assert b"".join(out) == body.replace(KEY.encode(), MASK), (first, second)
            assert not any(KEY.encode() in piece for piece in out)


def test_whole_lines_pass_at_once() -> None:
    """Nothing that ends a line waits for the next chunk: a streamed reply is not held back."""
    secret = Secret(KEY)
    chunks = iter([b"data: 1\n\n", b"data: 2\n", b"\ndata: 3"])
    masked = secret.hide_in_stream(chunks)
    assert next(masked) == b"data: 1\n\n"
    assert next(masked) == b"data: 2\n"
    assert next(masked) == b"\n"  # the rest of that line waits for its end (here: the end of the stream)
    assert list(masked) == [b"data: 3"]


def test_a_secret_never_shows_itself() -> None:
    secret = Secret(KEY)
    assert KEY not in repr(secret) + str(secret) + f"{secret}" and secret.value == KEY
