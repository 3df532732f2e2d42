"""CEF lines of the access audit: one line per access, with every field a SIEM needs, escaped as CEF demands."""

from datetime import UTC, datetime
from uuid import uuid4

from contracts.audit import AccessAction, AccessOutcome, SubsidyAccessRecorded
from jobbro.audit import cef_line


def _recorded(**changes: object) -> SubsidyAccessRecorded:
    fields: dict[str, object] = {
        "access_id": uuid4(),
        "at": datetime(2026, 11, 2, 9, 15, tzinfo=UTC),
        "actor": "caseworker-ida",
        "roles": ("caseworker",),
        "municipality": "751",
        "purpose": "case_handling",
        "action": AccessAction.CHANGE,
        "object_kind": "application",
        "object_ref": "3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90",
        "citizen_refs": ("c-5f2b7e0a9d134c68",),
        "outcome": AccessOutcome.GRANTED,
        "route": "POST /v1/applications/{application_id}/caseworker-decision",
    }
    return SubsidyAccessRecorded(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_cef_line_names_the_actor_object_purpose_time_and_outcome() -> None:
    recorded = _recorded()
    line = cef_line("subsidy", recorded)

    assert line.startswith("CEF:0|Jobbro|subsidy|1|access.change|change of application|3|rt=1793610900000 ")
    for field in (
        f"externalId={recorded.access_id}", "suser=caseworker-ida", "spriv=caseworker", "outcome=granted",
        "duid=3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90", "cs1=case_handling", "cs2=751", "cs4=c-5f2b7e0a9d134c68",
        "request=POST /v1/applications/{application_id}/caseworker-decision",
    ):  # fmt: skip
        assert f" {field}" in line


def test_a_refusal_is_more_severe_and_values_are_escaped() -> None:
    line = cef_line("subsidy", _recorded(outcome=AccessOutcome.REFUSED, actor="a=b\\c\nd", object_kind="x|y"))

    assert "|change of x\\|y|7|" in line and " suser=a\\=b\\\\c\\nd " in line and "\n" not in line
