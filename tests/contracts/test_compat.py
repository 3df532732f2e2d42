"""The compatibility checker: hand-written schema pairs, then deliberate changes to a real event."""

from typing import Any, Literal

import pytest
from pydantic import Field

from contracts.compat import breaking_changes
from contracts.generate import SCHEMAS, committed_schemas
from contracts.schema import event_schema
from contracts.subsidy import ApplicationSubmitted

STRING = {"type": "string"}
INTEGER = {"type": "integer"}


def obj(required: tuple[str, ...] = ("a",), **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties or {"a": STRING}, "required": list(required)}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}], "default": None}


def enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


BREAKING = [
    ("field removed", obj(a=STRING, b=STRING), obj(a=STRING), "b: field removed or renamed"),
    ("field renamed", obj(a=STRING), obj(("c",), c=STRING),
     ["a: field removed or renamed", "c: new required field (old events lack it)"]),
    ("int to str", obj(a=INTEGER), obj(a=STRING), "a: type changed from integer to string"),
    ("string to enum", obj(a=STRING), obj(a=enum("x")), "a: restricted to the values ['x'] (narrowed)"),
    ("nullable removed", obj(a=nullable(STRING)), obj(a=STRING), "a: null no longer allowed (narrowed)"),
    ("null added", obj(a=STRING), obj(a=nullable(STRING)), "a: may now be null (old readers expect a value)"),
    ("optional to required", obj((), a=STRING), obj(("a",), a=STRING), "a: became required (old events may lack it)"),
    ("required to optional", obj(("a",), a=STRING), obj((), a=STRING), "a: no longer required (old readers expect it)"),
    ("new required field", obj(), obj(("a", "b"), a=STRING, b=STRING), "b: new required field (old events lack it)"),
    ("enum value removed", obj(a=enum("x", "y")), obj(a=enum("x")), "a: enum value(s) removed: ['y']"),
    ("format changed", obj(a={**STRING, "format": "date"}), obj(a={**STRING, "format": "date-time"}),
     "a: format changed from date to date-time"),
    ("format added", obj(a=STRING), obj(a={**STRING, "format": "uuid"}), "a: format changed from None to uuid"),
    ("max length lowered", obj(a={**STRING, "maxLength": 9}), obj(a={**STRING, "maxLength": 8}),
     "a: maxLength changed from 9 to 8 (narrowed)"),
    ("minimum raised", obj(a={**INTEGER, "minimum": 0}), obj(a={**INTEGER, "minimum": 1}),
     "a: minimum changed from 0 to 1 (narrowed)"),
    ("pattern changed", obj(a={**STRING, "pattern": "^a"}), obj(a={**STRING, "pattern": "^b"}),
     "a: pattern changed from ^a to ^b (changed)"),
    ("nested field removed", obj(a=obj(("x",), x=STRING, y=STRING)), obj(a=obj(("x",), x=STRING)),
     "a.y: field removed or renamed"),
    ("array item narrowed", obj(a={"type": "array", "items": INTEGER}), obj(a={"type": "array", "items": STRING}),
     "a[]: type changed from integer to string"),
    ("field in a $def removed",
     {**obj(a={"$ref": "#/$defs/P"}), "$defs": {"P": obj(("x",), x=STRING, y=INTEGER)}},
     {**obj(a={"$ref": "#/$defs/P"}), "$defs": {"P": obj(("x",), x=STRING)}},
     "a.y: field removed or renamed"),
    ("enum in a $def lost a value, behind null",
     {**obj(a=nullable({"$ref": "#/$defs/E"})), "$defs": {"E": enum("x", "y")}},
     {**obj(a=nullable({"$ref": "#/$defs/E"})), "$defs": {"E": enum("y")}},
     "a: enum value(s) removed: ['x']"),
    ("type list narrowed", obj(a={"type": ["string", "null"]}), obj(a=STRING), "a: null no longer allowed (narrowed)"),
]  # fmt: skip

COMPATIBLE = [
    ("identical", obj(), obj()),
    ("new optional field", obj(), obj(a=STRING, b=nullable(STRING))),
    ("enum value added", obj(a=enum("x")), obj(a=enum("x", "y"))),
    ("descriptions, titles, examples, marks", obj(a=STRING),
     obj(a={**STRING, "description": "new", "title": "A", "examples": ["v"], "x-personal-data": "pseudonym"})),
    ("inline object moved to a $def", obj(a=obj(("x",), x=STRING)),
     {**obj(a={"$ref": "#/$defs/P", "description": "d"}), "$defs": {"P": obj(("x",), x=STRING)}}),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in BREAKING], ids=[c[0] for c in BREAKING])
def test_catches_a_breaking_change(old: dict, new: dict, expected: str | list[str]) -> None:
    assert breaking_changes(old, new) == (expected if isinstance(expected, list) else [expected])


@pytest.mark.parametrize(("old", "new"), [c[1:] for c in COMPATIBLE], ids=[c[0] for c in COMPATIBLE])
def test_lets_a_compatible_change_through(old: dict, new: dict) -> None:
    assert breaking_changes(old, new) == []


def test_survives_a_recursive_schema() -> None:
    tree = {"$defs": {"N": obj((), children={"type": "array", "items": {"$ref": "#/$defs/N"}})}, "$ref": "#/$defs/N"}
    assert breaking_changes(tree, tree) == []


COMMITTED = committed_schemas(SCHEMAS)[ApplicationSubmitted.type]


class WithOptionalRemark(ApplicationSubmitted):
    remark: str | None = Field(default=None, description="A later, optional addition.", examples=["x"])


class WithRequiredRemark(ApplicationSubmitted):
    remark: str = Field(description="A later, required addition.", examples=["x"])


class WithNarrowedScheme(ApplicationSubmitted):
    scheme: Literal["internship"] = Field(description="Narrowed.", examples=["internship"])  # type: ignore[assignment]


class WithRetypedCvr(ApplicationSubmitted):
    employer_cvr: int = Field(description="Retyped.", examples=[12345678])  # type: ignore[assignment]


def test_a_compatible_change_to_a_real_event_passes_the_gate() -> None:
    assert breaking_changes(COMMITTED, event_schema(WithOptionalRemark)) == []


def test_breaking_changes_to_a_real_event_fail_the_gate() -> None:
    assert breaking_changes(COMMITTED, event_schema(WithRequiredRemark)) == [
        "remark: new required field (old events lack it)"
    ]
    assert breaking_changes(COMMITTED, event_schema(WithNarrowedScheme)) == [
        "scheme: enum value(s) removed: ['wage_subsidy_private', 'wage_subsidy_public']"
    ]
    assert breaking_changes(COMMITTED, event_schema(WithRetypedCvr)) == [
        "employer_cvr: type changed from string to integer"
    ]


def test_removing_a_field_from_a_real_event_fails_the_gate() -> None:
    current = event_schema(ApplicationSubmitted)
    del current["properties"]["employer_name"]
    current["required"].remove("employer_name")
    assert breaking_changes(COMMITTED, current) == ["employer_name: field removed or renamed"]
