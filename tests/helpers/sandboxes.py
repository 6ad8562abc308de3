"""The sandbox as a test sees it from outside, over loopback: arm its faults, read the requests it
received, ask it directly for the right answer (`Server`); `sent_requests` and `forget_requests` for
a test that only reads the traffic log."""

from __future__ import annotations

from typing import Any

import requests

from oai_magics.sandbox import Sandbox

CONTROL_TIMEOUT = 30  # seconds for a control request (longer than any wait it asks the sandbox for)


class Server:
    """The sandbox as a test sees it from outside: arm faults, read what requests it received."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.auth = {"Authorization": f"Bearer {sandbox.api_key}"}

    def arm(self, **fault: Any) -> None:
        answer = requests.post(self.sandbox.url + "/sandbox/faults", json=fault, timeout=CONTROL_TIMEOUT)
        assert answer.status_code == 200, answer.text

    def disarm(self) -> None:
        requests.delete(self.sandbox.url + "/sandbox/faults", timeout=CONTROL_TIMEOUT)

    def traffic(self, wait: float = 0, until: str = "idle") -> dict:
        """{"requests": [...], "in_flight": n}, after waiting up to `wait` seconds for `until`
        (idle, busy, or a number of requests received)."""
        query = {"wait": wait, "until": until} if wait else {}
        answer = requests.get(self.sandbox.url + "/sandbox/requests", params=query, timeout=CONTROL_TIMEOUT + wait)
        answer.raise_for_status()
        return answer.json()

    def seen(self, path: str = "", method: str = "") -> list[dict]:
        """The API requests received so far (since the last `forget`) whose path starts with `path`."""
        return [r for r in self.traffic()["requests"] if r["path"].startswith(path) and (not method or r["method"] == method)]

    def forget(self) -> None:
        requests.delete(self.sandbox.url + "/sandbox/requests", timeout=CONTROL_TIMEOUT)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request straight to the sandbox, around the client under test (to learn the right answer)."""
        answer = requests.request(method, self.sandbox.base_url + path, headers=self.auth, timeout=CONTROL_TIMEOUT, **kwargs)
        answer.raise_for_status()
        return answer.json()


def sent_requests(sandbox: Sandbox, path: str) -> list[dict]:
    """The requests the sandbox saw for exactly `path`, once it is idle (waiting up to 10 s)."""
    return [entry for entry in Server(sandbox).traffic(wait=10)["requests"] if entry["path"] == path]


def forget_requests(sandbox: Sandbox) -> None:
    """Empty the sandbox's traffic log."""
    Server(sandbox).forget()
