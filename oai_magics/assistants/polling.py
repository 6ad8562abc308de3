"""How often a run that is not streamed is looked at: quickly at first, then every second."""

from __future__ import annotations

from typing import Iterator

__all__ = ["poll_intervals"]


def poll_intervals(first: float = 0.1, factor: float = 1.5, most: float = 1.0) -> Iterator[float]:
    """Endless waits between polls; the run's own terminal status (or expiry) ends the polling."""
    wait = first
    while True:
        yield wait
        wait = min(most, wait * factor)
