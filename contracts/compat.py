"""Whether a new JSON Schema of an event type breaks the readers of the old one.

Within a version both directions must keep working: old readers read new events, and new readers replay old
events from the log. So a field's accepted values never change, with two exceptions the catalog promises: an
optional field may be added, and an enum may gain values (readers must tolerate unknown ones). Descriptions,
titles, examples, defaults and `x-` annotations may change freely.
"""

from __future__ import annotations

from typing import Any

from contracts.schema import resolve

_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")
_EXACT = ("pattern", "multipleOf", "uniqueItems")


def breaking_changes(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[str]:
    """Every incompatible difference, each as `path: what changed`; empty when the change is compatible."""
    problems: list[str] = []
    _Comparison(old_schema, new_schema, problems).node(old_schema, new_schema, "")
    return problems


class _Comparison:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any], problems: list[str]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems = problems
        self.open_refs: set[tuple[str | None, str | None]] = set()

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '(event)'}: {message}")

    def node(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        refs = (old.get("$ref"), new.get("$ref"))
        if refs != (None, None):
            if refs in self.open_refs:
                return  # a recursive type: already being compared further up
            self.open_refs.add(refs)
        try:
            self.variants(_variants(self.old_root, old), _variants(self.new_root, new), path)
        finally:
            self.open_refs.discard(refs)

    def variants(self, old: list[dict[str, Any]], new: list[dict[str, Any]], path: str) -> None:
        old_null, new_null = any(map(_is_null, old)), any(map(_is_null, new))
        if old_null and not new_null:
            self.report(path, "null no longer allowed (narrowed)")
        if new_null and not old_null:
            self.report(path, "may now be null (old readers expect a value)")
        old = [v for v in old if not _is_null(v)]
        new = [v for v in new if not _is_null(v)]
        if len(old) != len(new):
            self.report(path, f"union of {len(old)} alternative(s) became {len(new)}")
            return
        for old_variant, new_variant in zip(old, new, strict=True):
            self.single(old_variant, new_variant, path)

    def single(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old_kind, new_kind = _kind(old), _kind(new)
        if old_kind != new_kind:
            self.report(path, f"type changed from {old_kind} to {new_kind}")
            return
        self.values(old, new, path)
        if old_kind == "object":
            self.fields(old, new, path)
        if old_kind == "array":
            self.items(old, new, path)

    def values(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old_enum, new_enum = _enum(old), _enum(new)
        if old_enum is None and new_enum is not None:
            self.report(path, f"restricted to the values {sorted(new_enum, key=repr)} (narrowed)")
        elif old_enum is not None and new_enum is not None and old_enum - new_enum:
            self.report(path, f"enum value(s) removed: {sorted(old_enum - new_enum, key=repr)}")
        if old.get("format") != new.get("format"):
            self.report(path, f"format changed from {old.get('format')} to {new.get('format')}")
        for keyword in _LOWER_BOUNDS + _UPPER_BOUNDS + _EXACT:
            before, after = old.get(keyword), new.get(keyword)
            if before != after:
                self.report(path, f"{keyword} changed from {before} to {after} ({_direction(keyword, before, after)})")

    def fields(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name, old_field in old_props.items():
            field_path = f"{path}.{name}" if path else name
            if name not in new_props:
                self.report(field_path, "field removed or renamed")
                continue
            if name in old_required and name not in new_required:
                self.report(field_path, "no longer required (old readers expect it)")
            if name in new_required and name not in old_required:
                self.report(field_path, "became required (old events may lack it)")
            self.node(old_field, new_props[name], field_path)
        for name in new_props.keys() - old_props.keys():
            if name in new_required:
                self.report(f"{path}.{name}" if path else name, "new required field (old events lack it)")
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.node(old_extra, new_extra, f"{path}.*")

    def items(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self.node(old["items"], new["items"], f"{path}[]")
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            self.report(path, f"tuple of {len(old_prefix)} item(s) became {len(new_prefix)}")
            return
        for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=True)):
            self.node(old_item, new_item, f"{path}[{index}]")


def _variants(root: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a schema allows, references resolved: `anyOf`, `oneOf` and type lists spread out."""
    if "$ref" in node:
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = {**resolve(root, node["$ref"]), **siblings}
    for keyword in ("anyOf", "oneOf"):
        if keyword in node:
            return [variant for alternative in node[keyword] for variant in _variants(root, alternative)]
    if isinstance(node.get("type"), list):
        return [{**node, "type": type_} for type_ in node["type"]]
    return [node]


def _is_null(node: dict[str, Any]) -> bool:
    return node.get("type") == "null" or _enum(node) == {None}


def _kind(node: dict[str, Any]) -> str:
    if "type" in node:
        return node["type"]
    types = {_json_type(value) for value in _enum(node) or ()}
    if types:
        return types.pop() if len(types) == 1 else "mixed"
    if "properties" in node:
        return "object"
    return "any"


def _enum(node: dict[str, Any]) -> frozenset[Any] | None:
    if "const" in node:
        return frozenset([node["const"]])
    if "enum" in node:
        return frozenset(node["enum"])
    return None


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}.get(
        type(value), "object"
    )


def _direction(keyword: str, before: Any, after: Any) -> str:
    if before is None or after is None:
        return "narrowed" if before is None else "widened"
    if keyword in _LOWER_BOUNDS:
        return "narrowed" if after > before else "widened"
    if keyword in _UPPER_BOUNDS:
        return "narrowed" if after < before else "widened"
    return "changed"
