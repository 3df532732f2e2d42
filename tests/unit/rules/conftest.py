"""Fixtures for the rule tests: the repository's rule data, and a private copy a test may add files to."""

import shutil
from pathlib import Path

import pytest

from rules import REPOSITORY_RULES_DIR, Rulebook


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return Rulebook.load(REPOSITORY_RULES_DIR)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A copy of the repository's rules, so a test can add a version without touching them."""
    copy = tmp_path / "rules"
    shutil.copytree(REPOSITORY_RULES_DIR, copy)
    return copy
