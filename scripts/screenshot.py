#!/usr/bin/env python3
"""Make docs/labeling.png: the labeling page of `labelwise demo`, as the annotator alice sees it.

Runs the real demo on a throw-away data directory and a free port, logs in with the password
it prints, answers part of the first item by keyboard and mouse, and takes a screenshot with
Debian's Chromium (apt-get install chromium; Playwright never downloads a browser here).

    python scripts/screenshot.py [--output docs/labeling.png]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
VIEWPORT = {"width": 1366, "height": 768}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """Start `labelwise demo`; return the process and alice's password, read from its output."""
    env = {**os.environ, "LABELWISE_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("LABELWISE_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "labelwise.cli.main", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    password = None
    for line in process.stdout:
        found = re.match(r"\W*alice\W+(\S+)", line)
        password = found.group(1) if found else password
        if "/login" in line:
            break
    if password is None:
        process.terminate()
        raise SystemExit("the demo did not print alice's password")
    return process, password


def label_a_little(page: Page) -> None:
    """Answer some questions the way a labeler does, so the picture shows them in use."""
    page.wait_for_selector(".item-card[data-assignment]")
    page.keyboard.press("2")  # team: technical
    page.keyboard.press("/")
    page.keyboard.type("phone")
    page.keyboard.press("Enter")  # topic: the first match, hardware/phone
    page.keyboard.press("Escape")
    page.locator("fieldset[data-question=urgency] label.option").nth(2).click()
    box = page.evaluate(
        """() => {
          const node = document.querySelector('.span-text').firstChild;
          const at = Math.max(0, node.data.toLowerCase().indexOf('pulse 7'));
          const range = document.createRange();
          range.setStart(node, at); range.setEnd(node, Math.min(at + 7, node.data.length));
          const r = range.getBoundingClientRect();
          return {x: r.left, y: r.top + r.height / 2, w: r.width};
        }"""
    )
    page.mouse.move(box["x"] + 1, box["y"])
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 1, box["y"], steps=4)
    page.mouse.up()
    page.keyboard.press("1")  # entities: PRODUCT
    page.keyboard.press("g")  # the guidelines panel, beside the questions
    page.mouse.move(0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "labeling.png")
    output = parser.parse_args().output
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process, password = start_demo(Path(tmp) / "data", port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport=VIEWPORT, base_url=f"http://127.0.0.1:{port}")
                page.goto("/login?next=/projects/tickets/annotate")
                page.fill("#username", "alice")
                page.fill("#password", password)
                page.press("#password", "Enter")
                label_a_little(page)
                output.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(output))
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
