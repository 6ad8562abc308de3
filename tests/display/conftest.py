"""The display tests' shell: display() publishes through the shell, so each test has a fresh one."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.helpers.shells import fresh_shell


@pytest.fixture(autouse=True)
def shell() -> Iterator[Any]:
    with fresh_shell() as ip:
        yield ip  # display() publishes through the shell
