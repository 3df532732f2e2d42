"""Write the committed artefacts: a JSON Schema per event type and the AsyncAPI document.

`python -m contracts.generate` refuses to overwrite a schema with an incompatible one (a breaking change needs
a new event type version instead); `--check` also fails when the committed files differ from the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.asyncapi import document
from contracts.catalog import EVENT_TYPES, TOPICS
from contracts.compat import breaking_changes
from contracts.schema import event_schema

ROOT = Path(__file__).parent
SCHEMAS = ROOT / "schemas"
ASYNCAPI = ROOT / "asyncapi.json"


def current_schemas() -> dict[str, dict[str, Any]]:
    """Event type → the schema the code publishes now."""
    return {type_: event_schema(model) for type_, model in EVENT_TYPES.items()}


def committed_schemas(directory: Path) -> dict[str, dict[str, Any]]:
    """Event type → the schema committed in `directory`."""
    return {path.name.removesuffix(".json"): json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def incompatibilities(committed: Mapping[str, dict[str, Any]], current: Mapping[str, dict[str, Any]]) -> list[str]:
    """Every breaking change from the committed schemas to the current ones, each prefixed by its event type."""
    problems = []
    for type_, old in committed.items():
        if type_ not in current:
            problems.append(f"{type_}: event type removed")
            continue
        problems.extend(f"{type_}: {problem}" for problem in breaking_changes(old, current[type_]))
    return problems


def rendered() -> dict[Path, str]:
    """Every artefact's path and the text the code produces for it."""
    files = {SCHEMAS / f"{type_}.json": _dump(schema) for type_, schema in current_schemas().items()}
    files[ASYNCAPI] = _dump(document(TOPICS))
    return files


def stale(files: Mapping[Path, str]) -> list[Path]:
    """Artefacts missing or different from what the code produces."""
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; fail if the artefacts are not current")
    args = parser.parse_args(argv)
    problems = incompatibilities(committed_schemas(SCHEMAS), current_schemas())
    if problems:
        print("Incompatible with the committed schemas; publish a new event type version instead:", file=sys.stderr)
        print("\n".join(f"  {problem}" for problem in problems), file=sys.stderr)
        return 1
    files = rendered()
    if args.check:
        outdated = stale(files)
        if outdated:
            print("Out of date; run `python -m contracts.generate`:", file=sys.stderr)
            print("\n".join(f"  {path.name}" for path in outdated), file=sys.stderr)
            return 1
        return 0
    SCHEMAS.mkdir(exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    return 0


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(main())
