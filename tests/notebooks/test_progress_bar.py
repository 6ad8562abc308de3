"""The %embed progress bar in a real kernel: shown as a widget while the job runs, gone from the
saved notebook once it ends (a closed widget alone would leave its first text behind)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from oai_magics.demo import execute


def test_the_notebook_bar_leaves_no_output_behind(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("%load_ext oai_magics\n%oai use sandbox"),
                      nbformat.v4.new_code_cell("many = [f'sentence {i}' for i in range(40)]\n"
                                                "vectors = %embed -i many --batch-size 5 -d 8\nvectors.shape")]
    path = tmp_path / "bar.ipynb"
    nbformat.write(notebook, path)
    outputs = execute(path, timeout=120, workdir=tmp_path).cells[1].outputs
    assert outputs[-1].data["text/plain"] == "(40, 9)"
    shown = [o for o in outputs if o.output_type == "display_data"]
    assert shown and all(o.data == {"text/plain": ""} for o in shown)  # the bar's output, emptied
