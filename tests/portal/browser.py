"""Debian's Chromium driven by Playwright, and axe-core run inside each page.

Playwright's own browser download cannot be reached from these machines: `scripts/bootstrap-browser` installs
Debian's `chromium`, which Playwright drives through `executable_path`. Neither is optional: without them the
tests fail, they do not skip.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from jobbro.infra import REPO

CHROMIUM = Path(os.environ.get("JOBBRO_CHROMIUM", "/usr/bin/chromium"))
AXE = REPO / "services" / "portal" / "node_modules" / "axe-core" / "axe.min.js"
WCAG21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def launch_options() -> dict[str, Any]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/bootstrap-browser (apt-get install chromium)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
    return {"executable_path": str(CHROMIUM), "headless": True, "args": args}


async def assert_accessible(page: Page) -> None:
    """axe-core over the whole page: no violation of WCAG 2.0/2.1 level A or AA."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run scripts/bootstrap-node")
    await page.evaluate(AXE.read_text())  # evaluated by the driver, so the page's CSP does not block it
    results = await page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG21_A_AA)
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
    ]
    assert violations == [], f"{page.url}: {violations}"


async def assert_fits(page: Page, width: int = 320) -> None:
    """At `width` CSS pixels the page needs no sideways scrolling (WCAG 1.4.10 reflow)."""
    await page.set_viewport_size({"width": width, "height": 800})
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    wide = await page.evaluate(_WIDER_THAN, width) if scroll_width > width else []
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at {width}px: {wide}"


_WIDER_THAN = """(width) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), wide = [];
  for (let node = walker.nextNode(); node && wide.length < 5; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    if (range.getBoundingClientRect().right > width) { wide.push(node.textContent.trim().slice(0, 60)); }
  }
  return wide;
}"""
"""The texts that reach past `width`: what to fix when a page does not fit."""


async def log_in(page: Page, username: str) -> None:
    """Keycloak's own login form, as a person fills it (development password = user name)."""
    await page.wait_for_selector("#username")
    await page.fill("#username", username)
    await page.fill("#password", username)
    await page.click("#kc-login")
