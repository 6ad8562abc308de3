"""The public surface is small and importing the package is cheap."""

from __future__ import annotations

import subprocess
import sys

import oai_magics


def test_public_names_are_pinned() -> None:
    assert sorted(oai_magics.__all__) == sorted(
        ["Client", "OpenAIError", "load_ipython_extension", "unload_ipython_extension", "__version__"])
    from oai_magics.client import Client, OpenAIError

    assert oai_magics.Client is Client and oai_magics.OpenAIError is OpenAIError


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_client_imports_no_upper_layer_or_heavy_library() -> None:
    loaded = imported_after("import oai_magics.client")
    assert not loaded & {"IPython", "pandas", "ipywidgets", "matplotlib", "numpy", "tqdm"}


def test_package_import_loads_nothing_heavy() -> None:
    loaded = imported_after("import oai_magics")
    assert not loaded & {"requests", "IPython", "pandas", "ipywidgets", "matplotlib", "numpy"}
