"""The embeddings explorer in a real JupyterLab in headless Chromium, against a sandbox over loopback:
the map is drawn from the JavaScript in jupyter-scatter's wheel (every request off loopback is
aborted and recorded, so a CDN would show), a lasso drawn with the mouse comes back to Python as
`explorer.selection()`, and the search box selects texts and lists a point's neighbours; coloured by
another column, a hovered point's tooltip still names its cluster, with no JavaScript error.

Every wait is on something the page shows (Playwright's `expect`, bounded); the screenshots are kept
in build/test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pytest

from oai_magics.sandbox import Sandbox, start

from .lab import ARTIFACTS, NEEDS_CHROMIUM, Lab, lab_with, playwright_expect

pytest.importorskip("jscatter")
expect = playwright_expect()
pytestmark = NEEDS_CHROMIUM

MAP_CELL = '''\
%load_ext oai_magics
import pandas as pd

topics = {"cats": "cats purr and nap on the sofa", "rockets": "rockets launch toward the moon",
          "bread": "bakers knead sourdough bread dough"}
notes = pd.DataFrame([(f"{words} number {i}", topic) for topic, words in topics.items() for i in range(20)],
                     columns=["text", "topic"])
%embed -i notes --column text --explore --clusters 3 --hover topic -o explorer
'''

# Run after each gesture: what Python sees of the selection made in the page.
PROBE_CELL = '''\
chosen = explorer.selection()
rest = explorer.frame.drop(chosen.index)
print(f"selected {len(chosen)} of {len(explorer.frame)}; left of the rest: {bool(chosen['x'].max() < rest['x'].min())}; "
      f"topics {sorted(chosen['topic'].unique())}")
'''


# Coloured by the topic: the cluster is a string column jupyter-scatter does not encode visually.
COLOURED_CELL = MAP_CELL.replace("--hover topic", "--name-clusters --color-by topic")

# Where each point sits within the map's padded ranges (0..1 across, 0..1 up), for the pointer.
WHERE_CELL = '''\
import json
from oai_magics.display.explorer_view import _padded
frame = explorer.frame
(x0, x1), (y0, y1) = _padded(frame["x"]), _padded(frame["y"])
print(json.dumps([[(x - x0) / (x1 - x0), (y - y0) / (y1 - y0)] for x, y in zip(frame["x"], frame["y"])]))
'''


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(data_dir=tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Iterator[Lab]:
    notebooks = {"explorer.ipynb": [MAP_CELL, PROBE_CELL], "tooltip.ipynb": [COLOURED_CELL, WHERE_CELL]}
    with lab_with(tmp_path_factory.mktemp("lab"), notebooks,
                  {"OPENAI_API_KEY": sandbox.api_key, "OPENAI_BASE_URL": sandbox.base_url}) as running:
        yield running


def run_cell(page: Any, index: int, count: int) -> Any:
    """Run the notebook's cell `index` (the `count`-th run of the session); the cell."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(rf"\[{count}\]"))
    return cell


def drawn_map(page: Any, url: str) -> tuple[Any, Any, Any]:
    """Open the notebook at `url` and run its first cell, the map: (the cell, its output, the map's canvas)."""
    page.goto(url)
    expect(page.locator(".jp-NotebookPanel")).to_be_visible()
    kernel = page.locator('#jp-main-statusbar .jp-StatusBar-TextItem[title^="Change kernel"]')
    expect(kernel).to_have_text(re.compile(r"\| Idle$"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cell = run_cell(page, 0, 1)
    output = cell.locator(".jp-OutputArea-output")
    canvas = output.locator("canvas").first
    expect(canvas).to_be_visible()
    return cell, output, canvas


def test_a_lasso_in_jupyterlab_comes_back_as_the_selection(page: tuple[Any, list[str]], lab: Lab) -> None:
    browser, blocked = page
    cell, output, canvas = drawn_map(browser, lab.notebook_url("explorer.ipynb"))
    expect(output).not_to_contain_text("static map")
    search = output.locator("input[placeholder^='search the texts']")
    expect(search).to_be_visible()
    expect(output).to_contain_text(re.compile(r"color\s*0\s*1\s*2"))  # the legend: a colour per cluster

    # A lasso (the toolbar's lasso mode, then a drag) around the left of the map, top to bottom.
    cell.screenshot(path=str(ARTIFACTS / "explorer-map.png"))
    output.get_by_role("button", name="Activate lasso selection").click()
    box = canvas.bounding_box()
    assert box is not None
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    # From the middle of its right side round: the toolbar and the legend sit over the map's left edge.
    spots = [(0.4, 0.5), (0.4, 0.02), (0.05, 0.02), (0.05, 0.98), (0.4, 0.98), (0.4, 0.52)]
    corners = [(left + width * x, top + height * y) for x, y in spots]
    browser.mouse.move(*corners[0])
    browser.mouse.down()
    for x, y in corners[1:]:
        browser.mouse.move(x, y, steps=12)
    browser.mouse.up()
    expect(output).to_contain_text(re.compile(r"\d+ selected: explorer.selection\(\) has them"))
    cell.screenshot(path=str(ARTIFACTS / "explorer-lasso.png"))
    probe = run_cell(browser, 1, 2)
    said = probe.locator(".jp-OutputArea-output")
    expect(said).to_contain_text(re.compile(r"selected [1-9]\d* of 60; left of the rest: True"))
    shown = re.search(r"(\d+) selected", output.inner_text())
    assert shown is not None and f"selected {shown.group(1)} of 60" in said.inner_text()

    # The search box selects the texts that match; one match lists that point's nearest neighbours.
    search.fill("rockets")
    search.press("Enter")
    expect(output).to_contain_text("20 matches")
    probe = run_cell(browser, 1, 3)
    expect(probe.locator(".jp-OutputArea-output")).to_contain_text("selected 20 of 60")
    expect(probe.locator(".jp-OutputArea-output")).to_contain_text("topics ['rockets']")
    search.fill("bread dough number 7")
    search.press("Enter")
    expect(output).to_contain_text("1 match")
    expect(output.locator("ol li")).to_have_count(8)
    expect(output.locator("ol li").first).to_contain_text("bread dough")
    cell.screenshot(path=str(ARTIFACTS / "explorer-neighbours.png"))
    browser.screenshot(path=str(ARTIFACTS / "explorer-lab.png"), full_page=True)
    assert blocked == [], blocked


# The tooltip's text once it shows (jupyter-scatter draws it as an absolutely placed div that lets the
# pointer through, faded in with its opacity), else null.
TOOLTIP_SHOWN = """(root) => {
  const tips = [...root.querySelectorAll('div')].filter(d => d.style.position === 'absolute'
      && d.style.pointerEvents === 'none' && d.innerText.includes('Cluster'));
  const shown = tips.find(d => Number(getComputedStyle(d).opacity) > 0.9);
  return shown ? shown.innerText : null;
}"""


def spots(box: dict, where: list[list[float]]) -> Iterator[tuple[float, float]]:
    """Candidate pixels of each point: the ranges stretched over the canvas, or fitted into its
    shorter side and centred (the camera keeps the aspect ratio), with a few pixels around each."""
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    side = min(width, height)
    for nx, ny in where:
        for px, py in ((left + nx * width, top + (1 - ny) * height),
                       (left + width / 2 + (nx - 0.5) * side, top + height / 2 - (ny - 0.5) * side)):
            for dx, dy in ((0, 0), (2, 0), (0, 2), (-2, 0), (0, -2)):
                yield px + dx, py + dy


def test_hovering_a_point_coloured_by_a_column_names_its_cluster(page: tuple[Any, list[str]], lab: Lab) -> None:
    from playwright.sync_api import TimeoutError as NotShown

    browser, blocked = page
    errors: list[str] = []
    browser.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    browser.on("pageerror", lambda error: errors.append(str(error)))
    # `reset`: the workspace does not reopen the other test's notebook beside this one
    cell, output, canvas = drawn_map(browser, lab.notebook_url("tooltip.ipynb") + "&reset")
    expect(output).to_contain_text(re.compile(r"bread\s*cats\s*rockets"))  # the legend: the topics
    where = json.loads(run_cell(browser, 1, 2).locator(".jp-OutputArea-output").inner_text())
    box = canvas.bounding_box()
    assert box is not None
    shown = None
    for x, y in spots(box, where[::20]):  # a point of each topic: a cluster's points lie close together
        browser.mouse.move(x, y)
        try:  # the tooltip fades in (opacity 1) once the kernel has sent the hovered row's values
            shown = browser.wait_for_function(TOOLTIP_SHOWN, arg=output.element_handle(), timeout=1500).json_value()
            break
        except NotShown:  # no point under the pointer here
            continue
    cell.screenshot(path=str(ARTIFACTS / "explorer-tooltip.png"))
    assert shown is not None, "no tooltip naming the cluster appeared over any point"
    assert re.search(r"Topic\s*(bread|cats|rockets)", shown) and re.search(r"Cluster\s*[0-2] · \w", shown), shown
    assert errors == [], errors
    assert blocked == [], blocked
