"""The kit (`jobbro/`) is what every service builds on, so it must not depend on any of them, nor on the demo, the
bench or the command line (`jobbroctl/`): read every module's imports from its syntax tree, including those inside
functions."""

import ast
from pathlib import Path

import pytest

from jobbro.infra import REPO

FORBIDDEN = {"services", "demo", "bench", "jobbroctl"}
KIT = sorted((REPO / "jobbro").rglob("*.py"))


def _imported(source: str) -> set[str]:
    """The top-level package of every absolute import in a module's source."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def test_the_scan_sees_an_import_inside_a_function() -> None:
    source = "from . import log\ndef f():\n    from services.subsidy import devca\n    import bench.run, demo\n"
    assert _imported(source) == {"services", "bench", "demo"}


@pytest.mark.parametrize("path", KIT, ids=[str(path.relative_to(REPO)) for path in KIT])
def test_no_kit_module_imports_a_service_the_demo_the_bench_or_the_cli(path: Path) -> None:
    assert not _imported(path.read_text()) & FORBIDDEN
