"""Import each module of `oai_magics` on its own, first in its interpreter:
`python -m tests.helpers.import_alone MODULE...` prints {module: "" or the error's last line} as JSON.

A fresh `python -c "import X"` per module costs ~0.2 s of interpreter start and third-party imports,
~25 s for the whole package on two cores. Instead this process imports the other packages the code
uses (requests, numpy, IPython, starlette, ...) once, and none of ours, then forks one child per
module, two at a time: each child starts with no `oai_magics` module loaded, exactly as a fresh
interpreter would, and imports one. An import circle or a name taken from a half-imported module
fails there as it would for a user whose first line is `import X`. Only the third-party imports are
shared, and they do not depend on the order in which our modules load.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import traceback

from tests.helpers.import_graph import PACKAGE, outside_packages

WORKERS = 2


def preload() -> None:
    """Import every other package the code names, so that each child does not pay for it again."""
    for name in sorted(outside_packages()):
        with contextlib.suppress(Exception):  # an optional extra that is not installed: the child will say so
            importlib.import_module(name)
    assert not [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")], "ours loaded too early"


def import_in_child(module: str, write: int) -> None:
    """In a forked child: import `module`, write its error (if any) to `write`, and exit."""
    status = 0
    try:
        importlib.import_module(module)
    except BaseException as error:  # noqa: BLE001 — any failure to import is the finding
        line = traceback.format_exception_only(type(error), error)[-1].strip()
        os.write(write, line.encode("utf-8", "replace"))
        status = 1
    os._exit(status)  # no atexit hooks, no flushing of the parent's buffers twice


def import_each(modules: list[str]) -> dict[str, str]:
    """{module: "" when it imports alone, else the last line of its error}."""
    results: dict[str, str] = {}
    running: dict[int, tuple[str, int]] = {}  # pid: (module, read end of its pipe)
    pending = list(reversed(modules))
    while pending or running:
        while pending and len(running) < WORKERS:
            module = pending.pop()
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                import_in_child(module, write)
            os.close(write)
            running[pid] = (module, read)
        pid, status = os.wait()
        module, read = running.pop(pid)
        with os.fdopen(read, "rb") as pipe:
            said = pipe.read().decode("utf-8", "replace")
        results[module] = "" if os.waitstatus_to_exitcode(status) == 0 else said or f"exit status {status}"
    return results


if __name__ == "__main__":
    preload()
    sys.stdout.flush()
    print(json.dumps(import_each(sys.argv[1:])))
