"""The repository's rule data, and a private copy a test may add versions to."""

import shutil
from pathlib import Path

import pytest

from rules import REPOSITORY_RULES_DIR, Rulebook


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return Rulebook.load(REPOSITORY_RULES_DIR)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(REPOSITORY_RULES_DIR, copy)
    return copy
