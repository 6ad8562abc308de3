"""%assistant in a real kernel: the reply renders as Markdown in one display, beside one status
line that ends with the run's outcome, and a listing is a DataFrame table."""

from __future__ import annotations

from pathlib import Path

import nbformat

from oai_magics.demo import execute

CELLS = [
    "%load_ext oai_magics\n%oai use sandbox",
    "%assistant create guide --model gpt-4o-mini --instructions 'Answer briefly'",
    "%assistant run guide Tell me about the trams of Lisbon",
    "%assistant runs",
]


def test_run_renders_markdown_and_a_status_line_in_a_kernel(tmp_path: Path) -> None:
    path = tmp_path / "assistant.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS]), path)
    notebook = execute(path, timeout=120, workdir=tmp_path)
    errors = [o for c in notebook.cells for o in c.outputs if o.output_type == "error"]
    assert errors == []
    run = notebook.cells[2].outputs
    replies = [o for o in run if "text/markdown" in o.get("data", {})]
    statuses = [o for o in run if "oai-run-status" in o.get("data", {}).get("text/html", "")]
    assert len(replies) == 1 and "Lisbon" in replies[0].data["text/markdown"]
    assert len(statuses) == 1 and "completed" in statuses[0].data["text/html"]  # updated in place to the end
    table = notebook.cells[3].outputs[0].data["text/html"]
    assert "<table" in table and "completed" in table
