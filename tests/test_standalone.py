"""The repository stands alone: nothing in it reads a path outside it, and the test data it needs
is inside it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import standalone
from tests.helpers.standalone import tracked_files

ROOT = standalone.ROOT
# What runs outside the test process (the package in kernels and servers, the build, CI, notebooks,
# Binder, benchmarks): no parent-relative path at all. The audit hook of tests/conftest.py watches
# the test process itself, where hostile paths such as "../../x" are test inputs, not reads.
RUNS_ELSEWHERE = re.compile(r"^(oai_magics/.*\.py|benchmarks/.*\.py|notebooks/.*\.ipynb|binder/.*|\.ci/.*|Makefile|pyproject\.toml)$")
PARENT_RELATIVE = re.compile(r"\.\.[/\\]|os\.pardir|\.parents?\b[^\n]*[\"']shared[\"']")
# Anywhere: the developers' reference shelf by name.
SHELF = re.compile(r"\.\./shared|[\"']shared[\"']\s*/|/\s*[\"']shared[\"']")


def test_no_file_reaches_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative == "tests/test_standalone.py" or relative.startswith("tests/data/openapi/"):
            continue
        patterns = [PARENT_RELATIVE, SHELF] if RUNS_ELSEWHERE.match(relative) else [SHELF]
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{relative}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0).strip()}"
                      for pattern in patterns for m in pattern.finditer(text)]
    assert offenders == []


def test_the_scan_sees_a_parent_relative_path() -> None:
    """The patterns above catch the ways this repository once read its neighbours."""
    shelf = "shared"  # spelled apart, so that this file itself does not read as a reach outside
    for line in (f'SPEC_DIR = Path(__file__).resolve().parents[2].parent / "{shelf}" / "openapi"',
                 f'open("../{shelf}/reference/x.txt")'):
        assert SHELF.search(line), line
    for line in ("cat ../notes.txt", "os.path.join(os.pardir, 'x')", f'ROOT.parent / "{shelf}"'):
        assert PARENT_RELATIVE.search(line), line


def test_the_guard_refuses_a_read_beside_the_checkout() -> None:
    forbidden = standalone.outside_reads(ROOT.parent)
    assert forbidden(str(ROOT.parent / "elsewhere" / "spec.yaml"))
    assert not forbidden(str(ROOT / "tests" / "data" / "openapi" / "2026.json"))
    assert not forbidden(sys.executable)
    if ROOT.parent != Path(ROOT.parent.anchor):  # the guard is installed by tests/conftest.py
        with pytest.raises(PermissionError, match="outside the repository"):
            open(ROOT.parent / "elsewhere.txt")


def test_a_copy_with_nothing_beside_it_has_all_its_test_data(tmp_path: Path) -> None:
    """Copy the tracked files into an empty folder and load every spec era and the reference
    function list there, in a fresh interpreter."""
    copy = tmp_path / "alone" / "oai_magics_checkout"
    for path in tracked_files():
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    code = ("from tests.helpers import openapi, reference\n"
            "for era in openapi.ERAS:\n"
            "    spec = openapi.spec(era)\n"
            "    assert spec.doc['paths'] and spec.components['schemas'], era\n"
            "assert reference.reference_functions() - set(reference.README_TABLE) == set()\n"
            "print(len(openapi.ERAS), len(reference.reference_functions()))\n")
    env = {**os.environ, "PYTHONPATH": str(copy)}
    done = subprocess.run([sys.executable, "-c", code], cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["4", "51"]


@pytest.mark.parametrize("era", ["2022", "2023-06", "2023", "2026"])
def test_each_trimmed_spec_names_its_origin(era: str) -> None:
    from tests.helpers.openapi import spec

    origin = spec(era).doc["info"]["x-trimmed-from"]
    assert set(origin) == {"file", "commit", "date"}
