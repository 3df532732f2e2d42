"""The published JSON Schema of an event: what a producer puts on the wire, for consumers to validate against.

It is pydantic's serialization-mode schema (so Decimal hours are strings, as sent), without
`additionalProperties: false`: producers refuse unknown fields, but a reader must ignore them, so that a new
optional field within a version breaks no one who validates with the schema they downloaded earlier.
"""

from __future__ import annotations

from typing import Any

from contracts.common import PERSONAL_DATA_KEY
from contracts.envelope import Event

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(model: type[Event]) -> dict[str, Any]:
    """The schema published for one event type."""
    schema = _tolerant(model.model_json_schema(mode="serialization"))
    return {
        "$schema": DIALECT,
        **schema,
        "x-cloudevents-type": model.type,
        "x-topic": model.topic,
        "x-key-field": model.key_field,
    }


def personal_fields(schema: dict[str, Any]) -> dict[str, str]:
    """Field path → personal-data kind for every marked field, nested ones as `a.b` and list items as `a[].b`."""
    found: dict[str, str] = {}
    _collect(schema, schema, "", found)
    return found


def _tolerant(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _tolerant(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(node, list):
        return [_tolerant(v) for v in node]
    return node


def _collect(root: dict[str, Any], node: dict[str, Any], path: str, found: dict[str, str]) -> None:
    if PERSONAL_DATA_KEY in node and path:
        found[path] = node[PERSONAL_DATA_KEY]
    if "$ref" in node:
        _collect(root, resolve(root, node["$ref"]), path, found)
    for name, child in node.get("properties", {}).items():
        _collect(root, child, f"{path}.{name}" if path else name, found)
    if isinstance(node.get("items"), dict):
        _collect(root, node["items"], f"{path}[]", found)
    for child in node.get("anyOf", []) + node.get("oneOf", []):
        _collect(root, child, path, found)


def resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    """The schema a local `#/...` reference points to."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node
