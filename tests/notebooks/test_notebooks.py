"""Every demo notebook executed headless in a real kernel against the sandbox, outputs asserted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oai_magics.demo import copy_folders, execute

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run each notebook once, in a scratch folder so files it writes stay out of the tree (with the
    folders beside the notebooks, as `make demo` runs them)."""
    executed = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        workdir = tmp_path_factory.mktemp(path.stem)
        copy_folders(NOTEBOOKS, workdir)
        executed[path.stem] = execute(path, timeout=120, workdir=workdir)
    return executed


def outputs_of(notebook: Any, starts: str) -> list[dict]:
    """The outputs of the first code cell whose source starts with `starts`."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith(starts):
            return cell.outputs
    raise AssertionError(f"no cell starts with {starts!r}")


def test_every_notebook_ran_without_an_error(executed: dict[str, Any]) -> None:
    assert sorted(executed) == ["01-quickstart", "02-chat", "03-images", "04-embeddings", "05-assistants", "06-mcp"]
    for name, notebook in executed.items():
        errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert errors == [], name
        first = notebook.cells[1].source
        assert first.startswith("%load_ext oai_magics\n")
        assert first.endswith("%oai use auto") and first.count("\n") == (2 if name == "01-quickstart" else 1)
        assert "oai_magics sandbox" in notebook.cells[1].outputs[0].text
    # The quick start names its recording, copied beside the executed copy: it runs with no sandbox.
    assert "no sandbox started" in executed["01-quickstart"].cells[1].outputs[0].text


def test_chat_streams_markdown_and_remembers(executed: dict[str, Any]) -> None:
    notebook = executed["02-chat"]
    first = outputs_of(notebook, '%%chat -s "You are a concise travel guide."')
    reply = first[0]
    assert reply.output_type == "display_data" and "text/markdown" in reply.data
    assert "oai_magics sandbox" in reply.data["text/markdown"] and "Lisbon" in reply.data["text/markdown"]
    assert "gpt-5.4-mini · " in first[1].data["text/html"] and "completion tokens" in first[1].data["text/html"]
    history = outputs_of(notebook, "%oai history")[0]
    assert history.data["text/html"].count("<tr>") == 5  # the system prompt, then two exchanges of two messages
    porto = outputs_of(notebook, "%%chat --new -c porto")[0].data["text/markdown"]
    assert "Plan 2 days in Porto, including francesinha." in porto
    facts = outputs_of(notebook, "import json")[0].data["text/plain"]
    assert "'source': 'oai_magics sandbox'" in facts
    tools = outputs_of(notebook, "%%chat --tools get_weather")[0].data["text/markdown"]
    assert '> tool call: `get_weather({"city": "Porto", "unit": "celsius"})`' in tools and '"temperature": 19' in tools
    reasoning = outputs_of(notebook, "%%chat --reasoning low")
    assert "Lisbon" in reasoning[0].data["text/markdown"] and " reasoning)" in reasoning[1].data["text/html"]
    in_use, models = outputs_of(notebook, "%oai models")
    assert in_use.text.startswith("in use now: chat gpt-5.4-mini, image gpt-image-1-mini")
    assert "shutdown_date" in models.data["text/html"] and "gpt-4o-2024-05-13" in models.data["text/html"]
    moderation = outputs_of(notebook, "%oai moderate")[0].data["text/html"]
    assert "<table" in moderation and "violence" in moderation
    seen = outputs_of(notebook, "%%chat --image fig")[0].data["text/markdown"]
    assert "I was shown 1 image: PNG " in seen  # the chart, as the sandbox saw it
    people = outputs_of(notebook, "%%chat --each notes --schema")[-1].data["text/plain"]
    assert "Ana" in people and "34" in people and "Joana" in people
    dtypes = outputs_of(notebook, "people.dtypes")[0].data["text/plain"]
    types = dict(line.split() for line in dtypes.splitlines() if len(line.split()) == 2)
    assert types["age"] == "Int64" and types["rides_tram"] == "boolean" and types["name"] == "string"


def test_images_are_png_outputs_and_a_grid(executed: dict[str, Any]) -> None:
    notebook = executed["03-images"]
    sticker, line = outputs_of(notebook, "%image --background transparent")
    assert sticker.data["image/png"] and "repeating-conic-gradient" in sticker.data["text/html"]  # on a checkerboard
    assert "gpt-image-1-mini · " in line.data["text/html"] and "+ 272 image tokens" in line.data["text/html"]
    streamed = outputs_of(notebook, "%image --partial 2")
    # The partial images were shown in one place and replaced there: one image output, the final one.
    assert [o.output_type for o in streamed] == ["display_data", "display_data"]
    assert streamed[0].data["text/plain"] == "<ImageSet of 1 image>" and streamed[0].data["image/png"]
    assert "+ 1584 image tokens" in streamed[1].data["text/html"]
    grid = outputs_of(notebook, "%image -n 4")[0]
    assert grid.data["text/html"].count("<img") == 4
    harbour = outputs_of(notebook, "%image -m dall-e-3")[0]
    assert harbour.data["image/png"] and "revised" not in harbour.data["text/plain"]
    assert "(as drawn by the oai_magics sandbox)" in outputs_of(notebook, "harbour[0].revised_prompt")[0].data["text/plain"]
    two = outputs_of(notebook, "%image -m gpt-image-1 --fidelity high --edit")
    assert two[0].data["image/png"] and "(170 image)" in two[1].data["text/html"]  # both images went in
    assert outputs_of(notebook, "%image --edit tile.png")[0].data["image/png"]
    saved = outputs_of(notebook, "%image --variation")[1].text
    assert saved.startswith("saved 2 image(s): generated/variation-1.png")


def test_embeddings_frame_neighbours_and_plot(executed: dict[str, Any]) -> None:
    notebook = executed["04-embeddings"]
    frame = outputs_of(notebook, "%embed -i corpus --column text -o vectors")[0].data
    assert "<table" in frame["text/html"] and "doc00" in frame["text/html"] and ">e0<" in frame["text/html"]
    neighbours = outputs_of(notebook, "%embed -i corpus --column text --query")[0].data["text/plain"].splitlines()
    assert neighbours[0].split() == ["text", "similarity"]
    assert {line.split()[0] for line in neighbours[1:]} == {"doc04", "doc05", "doc06", "doc07"}  # the space texts
    topics = outputs_of(notebook, "import numpy as np")[0].data["text/plain"].splitlines()
    for line in topics[2:]:
        name, *values = line.split()
        diagonal = ["baking", "football", "markets", "space"].index(name)
        assert float(values[diagonal]) == max(map(float, values))  # each topic nearest itself
    plot = outputs_of(notebook, "%embed -i corpus --column text --plot")[0]
    assert plot.output_type == "display_data" and plot.data["image/png"]


def test_embeddings_explorer_maps_names_and_selects(executed: dict[str, Any]) -> None:
    notebook = executed["04-embeddings"]
    assert outputs_of(notebook, "import itertools")[0].text == "2,500 texts\n"
    shown = outputs_of(notebook, "%embed -i notes --column text --explore")
    widget = [o for o in shown if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget) == 1 and widget[0].data["text/plain"].startswith("VBox(")  # the interactive map, not the fallback
    assert not any("static map" in o.get("text", "") for o in shown)
    table = outputs_of(notebook, "pd.crosstab")[0].data["text/plain"].splitlines()
    assert table[0].split() == ["topic", "baking", "football", "markets", "space"]
    rows = [line.rsplit(None, 4) for line in table[2:]]
    assert len(rows) == 4 and all(sorted(row[1:]) == ["0", "0", "0", "625"] for row in rows)  # a topic per cluster
    names = {row[0] for row in rows}
    assert "Space Distant Planet" in names and all(2 <= len(name.split()) <= 5 for name in names)  # from the sandbox
    neighbours = outputs_of(notebook, "explorer.neighbours(0, 5)")[0].data["text/plain"].splitlines()
    assert neighbours[0].split() == ["text", "topic", "similarity"] and len(neighbours) == 6
    selected = outputs_of(notebook, "explorer.select(")[0].data["text/plain"].splitlines()
    assert len(selected) == 6 and all("comet" in line and "Space Distant Planet" in line for line in selected[1:])


def test_quickstart_covers_each_magic(executed: dict[str, Any]) -> None:
    notebook = executed["01-quickstart"]
    assert "text/markdown" in outputs_of(notebook, "%%chat")[0].data
    assert outputs_of(notebook, "reply = _")[0].text.endswith(" words\n")
    assert "image/png" in outputs_of(notebook, "%image")[0].data
    assert "<table" in outputs_of(notebook, "%%embed -d 8")[0].data["text/html"]
    totals, table = outputs_of(notebook, "%oai usage")
    first, *_, last = totals.text.splitlines()
    assert first.startswith("total: ") and first.endswith(" tokens") and last.startswith("cost: $")
    usage = table.data["text/plain"]
    assert "/chat/completions" in usage and "/embeddings" in usage


def test_assistants_tool_run_and_the_builder(executed: dict[str, Any]) -> None:
    notebook = executed["05-assistants"]
    assert "created assistant 'weather-guide'" in outputs_of(notebook, "%assistant create")[0].text
    status, reply = outputs_of(notebook, "%%assistant run weather-guide")
    assert "completed" in status.data["text/html"]
    assert '> tool call: `get_weather({"city": "Porto"' in reply.data["text/markdown"] and '"temperature": 19' in reply.data["text/markdown"]
    assert outputs_of(notebook, "weather.status")[0].data["text/plain"] == "('completed', True)"
    steps = outputs_of(notebook, "%assistant steps")[0].data["text/html"]
    assert "tool_calls" in steps and "message_creation" in steps
    form = outputs_of(notebook, "%assistant form")[0]
    assert form.output_type == "execute_result" and "application/vnd.jupyter.widget-view+json" in form.data
    assert form.data["text/plain"].startswith("ThreadRunBuilder(api='assistants', ")  # the lists load meanwhile
    picked = outputs_of(notebook, "builder = _")[0].data["text/plain"]
    assert picked == "('weather-guide', ('user', 'What is the weather in Porto?'))"
    waiting = outputs_of(notebook, 'builder.message.value = "And what about Lisbon?"')[0].text.splitlines()
    assert waiting[0] == """requires_action [('get_weather', '{"city": "Lisbon", "unit": "celsius"}')]"""
    assert '"temperature": 19' in waiting[1]  # the output field, filled by the notebook's get_weather
    done = outputs_of(notebook, "builder.calls.submit_button.click()")[0].text
    assert done.startswith("completed\n") and "`get_weather` returned:" in done and "Lisbon" in done


def test_mcp_tools_are_listed_called_and_shown(executed: dict[str, Any]) -> None:
    notebook = executed["06-mcp"]
    assert "MCP server 'data' added" in outputs_of(notebook, "import sys")[0].text
    tools = outputs_of(notebook, "%oai mcp list")[0].data["text/html"]
    assert all(name in tools for name in ("list_tables", "describe", "query", "read_only"))
    tables = outputs_of(notebook, "%%chat --mcp data\n")
    assert "`data__list_tables` returned: customers\norders" in tables[0].data["text/markdown"]
    assert "<details>" in tables[-1].data["text/html"] and "data.list_tables" in tables[-1].data["text/html"]
    totals = outputs_of(notebook, "%%chat --mcp data:query")
    assert '{"region": "south", "total": 375.75}' in totals[0].data["text/markdown"]
    assert "mcp data.query(" in totals[-1].data["text/plain"]
    history = outputs_of(notebook, "%oai history")[0].data["text/html"]
    assert "data__query(" in history and "tool" in history
    run = outputs_of(notebook, "%assistant create analyst")
    assert '"column": "ordered_on"' in run[-1].data["text/plain"] and "data.describe" in run[-1].data["text/html"]
    assert "MCP server 'data' removed" in outputs_of(notebook, "%oai mcp remove")[0].text
