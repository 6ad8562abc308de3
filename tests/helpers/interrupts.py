"""Ctrl-C at a chosen moment: a real SIGINT sent from another thread once some text was shown."""

from __future__ import annotations

import io
import os
import signal
import threading


class InterruptOnText(io.StringIO):
    """Captured output that sends SIGINT (from another thread) once the reply has begun."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.seen = threading.Event()
        self.sender = threading.Thread(target=self._send, daemon=True)
        self.sender.start()

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.marker in self.getvalue():
            self.seen.set()
        return written

    def _send(self) -> None:
        if self.seen.wait(30):
            os.kill(os.getpid(), signal.SIGINT)
