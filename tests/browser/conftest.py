"""The browser tests' page: Debian's Chromium with a fresh profile, every request off loopback aborted
and recorded, on the `lab` fixture each test module defines for its own notebooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from .lab import Lab, block_external, launch_chromium


@pytest.fixture
def page(lab: Lab, tmp_path: Path) -> Iterator[tuple[Any, list[str]]]:
    """(the page, the list of requests that tried to leave loopback)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path / "chromium-profile")
        blocked = block_external(context)
        try:
            opened = context.pages[0] if context.pages else context.new_page()
            opened.set_default_timeout(60_000)
            yield opened, blocked
        finally:
            context.close()
