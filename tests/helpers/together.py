"""Two or more Python processes that start their work at the same moment, as two kernels sharing a
file would: each runs a script that prints "ready" once it is set up and then waits for a line on
its standard input; when all are ready each gets "go" at once. No sleeps: every step is awaited."""

from __future__ import annotations

import subprocess
import sys
from typing import Sequence


def run_together(script: str, argvs: Sequence[Sequence[str]], timeout: float = 120) -> None:
    """Run `script` once per argument list, all let go together; each must end well (its error shown if not)."""
    processes = [subprocess.Popen([sys.executable, "-c", script, *argv], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for argv in argvs]
    try:
        for process in processes:  # all are set up before any starts its work
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            _, errors = process.communicate(timeout=timeout)
            assert process.returncode == 0, errors[-2000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
