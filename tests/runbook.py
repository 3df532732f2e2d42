"""The runbook's (docs/operations.md) command blocks, each found by its `<!-- runbook: name -->` marker."""

import re

from jobbro.infra import REPO

RUNBOOK = REPO / "docs" / "operations.md"
MARKED = re.compile(r"<!-- runbook: ([\w-]+) \(run by ([\w/.]+)\) -->\n```\w*\n(.*?)```", re.S)
"""A marked block: its name, the test file that runs it, and the block."""


def block(name: str) -> str:
    """The fenced block that follows the runbook's `<!-- runbook: name -->` marker, as an operator copies it."""
    found = {marked: text for marked, _, text in MARKED.findall(RUNBOOK.read_text())}
    assert name in found, f"docs/operations.md has no runbook block {name!r}"
    return found[name]
