"""Fixtures shared by every test: configuration isolated from the developer's own, a misbehaving
loopback server (`serve`) and a shell on one (`raw_shell`). Shared fixtures live in tests/helpers/
and come to tests through conftest.py files, never by importing a test module."""

from __future__ import annotations

import os

import pytest

from tests.helpers import standalone

# Nothing the tests run may read beside the checkout: a clone with nothing next to it must pass.
standalone.install()

# Loaded after the guard above is in place, as plugins: their fixtures reach every test folder.
pytest_plugins = ["tests.helpers.rawserver", "tests.helpers.shells"]

OPENAI_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's key, base URL, IPython profile, embedding cache or oai_magics config folder."""
    for name in OPENAI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("IPYTHONDIR", str(home / "ipython"))
    monkeypatch.setenv("MPLCONFIGDIR", str(home / "mpl"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OAI_MAGICS_CACHE_DIR", str(home / "cache"))  # each test starts with an empty embedding cache
    monkeypatch.setenv("OAI_MAGICS_CONFIG_DIR", str(home / "config"))
    os.makedirs(home / "mpl", exist_ok=True)
