"""The catalog is complete and consistent: every event registered once, on a listed topic, fully documented."""

import re
from typing import Any

import pytest

from contracts import activation, benefits, notify, payments, subsidy
from contracts.catalog import ALL_EVENTS, CPR_ALLOWED, EVENT_TYPES, KEYS, PERSONAL_DATA, TOPICS
from contracts.common import PersonalData
from contracts.envelope import Event
from contracts.examples import example
from contracts.schema import event_schema

TYPE_PATTERN = re.compile(r"^dk\.jobbro\.[a-z]+\.[a-z]+(-[a-z]+)*\.v[1-9][0-9]*$")
TOPIC_PATTERN = re.compile(r"^[a-z]+\.[a-z]+(-[a-z]+)*\.v[1-9][0-9]*$")
IRREGULAR_PAST = {"Withdrawn", "Sent"}


def _concrete_subclasses(cls: type[Event]) -> set[type[Event]]:
    found = set()
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("contracts.") and hasattr(sub, "type"):
            found.add(sub)
        found |= _concrete_subclasses(sub)
    return found


def _objects(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The event and every nested model of its schema, by name."""
    return [(schema["title"], schema)] + [(name, d) for name, d in schema.get("$defs", {}).items() if "properties" in d]


def _all_nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for v in node.values() for n in _all_nodes(v)]
    if isinstance(node, list):
        return [n for v in node for n in _all_nodes(v)]
    return []


EVENTS = pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)


def test_every_event_class_is_registered_once() -> None:
    assert len(ALL_EVENTS) == len(set(ALL_EVENTS))
    assert set(ALL_EVENTS) == _concrete_subclasses(Event)


def test_every_type_string_is_unique_and_versioned() -> None:
    types = [model.type for model in ALL_EVENTS]
    assert len(types) == len(set(types)) == len(EVENT_TYPES)
    assert [t for t in types if not TYPE_PATTERN.match(t)] == []


def test_the_issue_lists_at_least_these_events() -> None:
    names = {model.__name__ for model in ALL_EVENTS}
    assert names >= {
        "ApplicationSubmitted", "RepresentativeApprovalRequested", "RepresentativeApproved", "RepresentativeDeclined",
        "ApplicationReferred", "ApplicationApproved", "ApplicationRejected", "PlacementConfirmed", "PlacementExtended",
        "PlacementHoursChanged", "PlacementEnded", "ApplicationWithdrawn", "WageReportSubmitted", "CitizenAssessed",
        "BenefitAdjusted", "PaymentInstructionIssued", "PaymentSettled", "PaymentFailed", "ActivationChecked",
        "ActivationRecorded", "ActivationEnded", "NotificationSent", "NotificationFailed",
    }  # fmt: skip


@EVENTS
def test_every_event_is_named_in_the_past_tense(model: type[Event]) -> None:
    last_word = re.findall(r"[A-Z][a-z]*", re.sub(r"V[0-9]+$", "", model.__name__))[-1]
    assert last_word.endswith("ed") or last_word in IRREGULAR_PAST


@EVENTS
def test_every_event_is_listed_on_its_topic(model: type[Event]) -> None:
    topic = next(t for t in TOPICS if t.name == model.topic)
    assert model in topic.events


def test_topics_are_versioned_unique_and_list_only_their_own_events() -> None:
    names = [t.name for t in TOPICS]
    assert len(names) == len(set(names))
    assert [n for n in names if not TOPIC_PATTERN.match(n)] == []
    assert [(t.name, m.__name__) for t in TOPICS for m in t.events if m.topic != t.name] == []
    assert sorted(m.type for t in TOPICS for m in t.events) == sorted(EVENT_TYPES)


def test_every_topic_has_a_dead_letter_topic_and_time_retention() -> None:
    for topic in TOPICS:
        assert topic.dlq == f"{topic.name}.dlq"
        assert topic.owner not in topic.consumers
        if topic.config is KEYS:
            continue
        assert topic.config["cleanup.policy"] == "delete", "event streams must not be compacted"
        assert int(topic.config["retention.ms"]) > 0, "no topic keeps personal data forever"


def test_only_a_topic_of_keys_is_compacted_and_it_forgets_a_tombstoned_key_within_two_days() -> None:
    compacted = [topic for topic in TOPICS if topic.config["cleanup.policy"] != "delete"]
    assert [topic.name for topic in compacted] == [benefits.PAYEE_KEYS]
    for topic in compacted:
        assert topic.config == KEYS
        assert [model.__name__ for model in topic.events if model.tombstone] == ["PayeeKeyDestroyed"]
        assert all(model.key_field == "citizen_ref" for model in topic.events)
    day = 24 * 60 * 60 * 1000
    assert int(KEYS["segment.ms"]) <= day // 24 and int(KEYS["min.compaction.lag.ms"]) <= day // 24
    assert int(KEYS["max.compaction.lag.ms"]) + int(KEYS["delete.retention.ms"]) <= 2 * day


def test_each_service_module_publishes_on_its_own_topics() -> None:
    owners = {t.name: t.owner for t in TOPICS}
    modules = {subsidy: "subsidy", benefits: "benefits", payments: "payment-back-office", activation: "activation",
               notify: "notify"}  # fmt: skip
    assert [
        (m.__name__, e.__name__) for m, owner in modules.items() for e in m.EVENTS if owners[e.topic] != owner
    ] == []


@EVENTS
def test_the_key_field_is_a_required_field_of_the_event(model: type[Event]) -> None:
    assert model.model_fields[model.key_field].is_required()
    assert model.key_field in event_schema(model)["required"]


@EVENTS
def test_every_field_has_a_description_and_an_example(model: type[Event]) -> None:
    undocumented = [
        f"{name}.{field}"
        for name, obj in _objects(event_schema(model))
        for field, prop in obj["properties"].items()
        if not prop.get("description") or not prop.get("examples")
    ]
    assert undocumented == []


@EVENTS
def test_the_field_examples_make_a_valid_event(model: type[Event]) -> None:
    assert isinstance(example(model), model)


@EVENTS
def test_money_is_integer_ore_and_nothing_is_a_float(model: type[Event]) -> None:
    schema = event_schema(model)
    for _, obj in _objects(schema):
        for field, prop in obj["properties"].items():
            if field.endswith("_ore"):
                assert {v.get("type") for v in prop.get("anyOf", [prop])} <= {"integer", "null"}, field
    assert [n for n in _all_nodes(schema) if n.get("type") == "number"] == []


@EVENTS
def test_cpr_numbers_travel_only_where_a_consumer_must_act_on_them(model: type[Event]) -> None:
    carries_cpr = PersonalData.CPR in PERSONAL_DATA[model.type].values()
    assert carries_cpr == (model.type in CPR_ALLOWED)


@EVENTS
def test_citizen_references_and_contact_details_are_marked_personal_data(model: type[Event]) -> None:
    marks = PERSONAL_DATA[model.type]
    for field in model.model_fields:
        if field == "citizen_ref" or (field.endswith(("_cpr", "_email", "_name")) and "employer" not in field):
            assert field in marks, field


def test_the_marks_use_only_the_documented_kinds() -> None:
    kinds = {kind for marks in PERSONAL_DATA.values() for kind in marks.values()}
    assert kinds <= {k.value for k in PersonalData}
