"""Events are frozen, strict when produced, tolerant when read, and keep their rules as values."""

import json
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.benefits import (
    CitizenAssessed,
    PayeeKeyDestroyed,
    PayeeKeyIssued,
    PaymentInstructionIssued,
    PaymentInstructionIssuedV2,
    TargetGroup,
)
from contracts.catalog import ALL_EVENTS, EVENT_TYPES
from contracts.common import HoursStep, OpenPeriod, Period
from contracts.envelope import Event, InvalidPayload, decode, encode
from contracts.examples import example
from contracts.subsidy import ApplicationSubmitted, PlacementEnded, PlacementExtended, WageReportSubmitted

EVENTS = pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)


def _data(event: Event) -> dict:
    return json.loads(event.model_dump_json())


def _headers(record) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in record.headers.items()]


@EVENTS
def test_every_event_survives_the_envelope_unchanged(model: type[Event]) -> None:
    event = example(model)
    meta, record = encode(event, source="/jobbro/tests")
    assert record.topic == model.topic and record.key == event.key()
    assert decode(_headers(record), record.value, EVENT_TYPES) == (meta, event)


@EVENTS
def test_producers_refuse_unknown_fields(model: type[Event]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate({**_data(example(model)), "surprise": 1})


@EVENTS
def test_events_are_frozen_all_the_way_down(model: type[Event]) -> None:
    event = example(model)
    with pytest.raises(ValidationError):
        setattr(event, model.key_field, "changed")
    assert hash(event) == hash(example(model))  # hashable: no list or dict inside


def test_readers_ignore_unknown_fields_also_in_nested_values() -> None:
    event = example(ApplicationSubmitted)
    _, record = encode(event, source="/jobbro/tests")
    data = json.loads(record.value)
    data["added_in_a_later_release"] = "x"
    data["period"]["note"] = "x"
    data["weekly_hours"][0]["note"] = "x"
    _, decoded = decode(_headers(record), json.dumps(data).encode(), EVENT_TYPES)
    assert decoded == event


def test_readers_still_refuse_a_payload_that_breaks_the_schema() -> None:
    _, record = encode(example(ApplicationSubmitted), source="/jobbro/tests")
    data = json.loads(record.value)
    del data["citizen_cpr"]
    with pytest.raises(InvalidPayload, match="citizen_cpr"):
        decode(_headers(record), json.dumps(data).encode(), EVENT_TYPES)


def test_hours_travel_as_exact_two_decimal_strings() -> None:
    step = HoursStep(from_date=date(2026, 3, 2), hours_per_week=Decimal("37.5"))
    assert step.model_dump(mode="json")["hours_per_week"] == "37.50"
    with pytest.raises(ValidationError):
        HoursStep(from_date=date(2026, 3, 2), hours_per_week=Decimal("0"))
    with pytest.raises(ValidationError):
        HoursStep(from_date=date(2026, 3, 2), hours_per_week=Decimal("1.005"))


def test_a_period_cannot_end_before_it_starts_and_only_an_open_period_may_lack_an_end() -> None:
    with pytest.raises(ValidationError, match="ends before it starts"):
        Period(start=date(2026, 3, 2), end=date(2026, 3, 1))
    with pytest.raises(ValidationError):
        Period(start=date(2026, 3, 2), end=None)
    assert OpenPeriod(start=date(2026, 3, 2), end=None).end is None


def test_weekly_hours_steps_must_ascend() -> None:
    data = _data(example(ApplicationSubmitted))
    data["weekly_hours"] = list(reversed(data["weekly_hours"]))
    with pytest.raises(ValidationError, match="strictly ascending"):
        ApplicationSubmitted.model_validate(data)


def test_a_payment_instruction_names_a_cpr_number_only_for_a_citizen_payee() -> None:
    employer = _data(example(PaymentInstructionIssued))
    citizen = {**employer, "payee_kind": "citizen", "payee_cpr": "0101901234", "payee_cvr": None}
    assert PaymentInstructionIssued.model_validate(citizen).payee_cpr == "0101901234"
    for wrong in ({**employer, "payee_cpr": "0101901234"}, {**citizen, "payee_cpr": None}):
        with pytest.raises(ValidationError, match="payee"):
            PaymentInstructionIssued.model_validate(wrong)


def test_a_v2_payment_instruction_names_a_citizen_by_reference_and_sealed_number_only() -> None:
    employer = _data(example(PaymentInstructionIssuedV2))
    citizen = {**employer, "payee_kind": "citizen", "payee_ref": "c-1", "payee_cpr_sealed": "AQID", "payee_cvr": None}
    assert PaymentInstructionIssuedV2.model_validate(citizen).payee_ref == "c-1"
    for wrong in (
        {**employer, "payee_ref": "c-1", "payee_cpr_sealed": "AQID"},
        {**citizen, "payee_cpr_sealed": None},
        {**citizen, "payee_ref": None},
        {**citizen, "payee_cpr_sealed": "0101901234 in clear"},
    ):
        with pytest.raises(ValidationError, match="payee"):
            PaymentInstructionIssuedV2.model_validate(wrong)


def test_a_tombstone_event_is_a_record_without_a_value_that_reads_back_from_its_key() -> None:
    meta, record = encode(PayeeKeyDestroyed(citizen_ref="c-1"), source="/jobbro/tests")
    assert (record.key, record.value) == ("c-1", None)
    assert decode(_headers(record), None, EVENT_TYPES) == (meta, PayeeKeyDestroyed(citizen_ref="c-1"))
    issued = encode(PayeeKeyIssued(citizen_ref="c-1", wrapped_key="k"), source="/jobbro/tests")[1]
    with pytest.raises(InvalidPayload):  # only a tombstone event may come without a value
        decode(_headers(issued), None, EVENT_TYPES)


def test_an_early_end_needs_a_reason_and_a_planned_end_has_none() -> None:
    early = _data(example(PlacementEnded))
    PlacementEnded.model_validate({**early, "kind": "planned", "reason": None})
    for wrong in ({**early, "reason": None}, {**early, "kind": "planned"}):
        with pytest.raises(ValidationError, match="reason"):
            PlacementEnded.model_validate(wrong)


def test_an_extension_moves_the_end_later() -> None:
    data = _data(example(PlacementExtended))
    with pytest.raises(ValidationError, match="later"):
        PlacementExtended.model_validate({**data, "new_end": data["previous_end"]})


def test_a_wage_report_covers_one_calendar_month() -> None:
    data = _data(example(WageReportSubmitted))
    with pytest.raises(ValidationError, match="one calendar month"):
        WageReportSubmitted.model_validate({**data, "month": {"start": "2026-03-02", "end": "2026-04-01"}})


def test_the_record_key_is_the_aggregate_id() -> None:
    event = example(ApplicationSubmitted).model_copy(update={"application_id": uuid4()})
    meta, record = encode(event, source="/jobbro/tests")
    assert record.key == meta.subject == str(event.application_id)


@pytest.mark.parametrize(
    ("deprecated", "current"),
    [("jobafklaring", "jobafklaringsydelse"), ("ressourceforloeb", "ressourceforloebsydelse")],
)
def test_a_target_group_in_its_deprecated_spelling_is_read_and_written_in_the_current_one(
    deprecated: str, current: str
) -> None:
    old = {**_data(example(CitizenAssessed)), "target_group": deprecated}
    _, record = encode(example(CitizenAssessed), source="/jobbro/tests")

    _, read = decode(_headers(record), json.dumps(old).encode(), EVENT_TYPES)
    written = CitizenAssessed.model_validate(old)

    assert read.target_group is written.target_group is TargetGroup(current)
    assert json.loads(encode(written, source="/jobbro/tests")[1].value)["target_group"] == current
