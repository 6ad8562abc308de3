"""The README's pictures, taken from the executed demo notebooks: `make pictures`.

Each picture is one cell (its code and what it showed) of a demo notebook's HTML page, as headless
Chromium renders it. The pages come from `make demo` (`build/demo/`), run first when they are
missing. Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright without a browser download.
The thread-run builder is live ipywidgets, which a static page cannot show: its picture is the one
the browser test takes of it in a real JupyterLab (`tests/browser/`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# (page, text that starts the cell's code, picture): one picture per magic.
PICTURES = [
    ("02-chat", '%%chat -s "You are a concise travel guide."', "chat.png"),
    ("02-chat", "%%chat --tools get_weather", "chat-tools.png"),
    ("03-images", "%image -n 4", "image.png"),
    ("04-embeddings", "%embed -i corpus --column text --plot", "embed-plot.png"),
    ("04-embeddings", "%embed -i corpus --column text --query", "embed-query.png"),
    ("01-quickstart", "%oai usage", "oai-usage.png"),
    ("05-assistants", "%assistant run", "assistant.png"),
]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def pages(demo: Path) -> Path:
    """The folder of executed HTML pages, made by the demo runner when it is not there yet."""
    if not any(demo.glob("*.html")):
        subprocess.run([sys.executable, "-m", "oai_magics.demo", str(ROOT / "notebooks"), "--out", str(demo),
                        "--backend", "sandbox"], check=True)
    return demo


def take(demo: Path, out: Path) -> list[Path]:
    """Screenshot each listed cell; the pictures written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                                                 viewport={"width": 1000, "height": 800})
        page = browser.new_page()
        # The pages are self-contained; anything they would fetch from the network is refused, not waited for.
        page.route("http*://**", lambda route: route.abort())
        for name, starts, picture in PICTURES:
            html = demo / f"{name}.html"
            if not html.exists():
                print(f"skipped {picture}: {html.name} is missing")
                continue
            page.goto(html.as_uri())
            cell = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=starts)).first
            cell.scroll_into_view_if_needed()
            cell.screenshot(path=str(out / picture))
            written.append(out / picture)
            print(f"{picture}: {name}, the cell starting {starts!r}")
        browser.close()
    return written


def builder_picture(out: Path) -> Path:
    """Run the JupyterLab browser test and keep its picture of the form after a tool-call round."""
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "browser")],
                   cwd=ROOT, check=True)
    target = out / "builder.png"
    shutil.copyfile(ROOT / "build" / "test-artifacts" / "builder-lab.png", target)
    print(f"{target.name}: the browser test's JupyterLab page")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=ROOT / "build" / "demo", help="the executed notebooks' HTML pages")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="where the pictures go")
    args = parser.parse_args()
    take(pages(args.demo), args.out)
    builder_picture(args.out)


if __name__ == "__main__":
    main()
