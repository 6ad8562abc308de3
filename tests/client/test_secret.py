"""`Secret`: the key behind a mask, and masked out of server bytes (streams: `test_decode`)."""

from __future__ import annotations

from oai_magics.client.secret import Secret

KEY = "not-a-real-key-0123456789"  # any text: the mask does not depend on how a key looks
MASK = repr(Secret(KEY)).encode()


def test_a_secret_never_shows_itself() -> None:
    secret = Secret(KEY)
    assert KEY not in repr(secret) + str(secret) + f"{secret}" and secret.value == KEY
