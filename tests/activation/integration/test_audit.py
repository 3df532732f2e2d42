"""The access audit of activation: every plan read and overdue list is recorded, with its outcome, before the answer
leaves; on the audit topic, in the table an auditor queries, and as CEF lines for a SIEM."""

from datetime import date

from contracts.audit import TOPICS, AccessOutcome, ActivationAccessRecorded
from jobbro.testing import read_events
from tests.activation.events import assessed, citizen, submitted
from tests.activation.integration.conftest import Activation
from tests.identity import Callers

BORN = date(1984, 6, 1)


async def test_plan_reads_are_recorded_granted_refused_or_unknown_and_queried_by_the_auditor(
    activation: Activation, callers: Callers
) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 5, 29))
    answer = assessed(application, assessed_on=date(2026, 2, 1), unemployed_weeks=10, born=BORN)
    await activation.publish(application, answer)
    await activation.wait_handled(2)

    async with activation.client(callers.caseworker("101")) as own, activation.client(callers.caseworker()) as other:
        answers = [
            await own.get(f"/v1/citizens/{ref}/plan"),
            await other.get(f"/v1/citizens/{ref}/plan"),
            await own.get("/v1/citizens/010190-1234/plan"),
            await own.get("/v1/overdue", params={"on": "2026-12-01"}),
        ]
    about = (await activation.http.get("/v1/audit/access", params={"citizen_ref": ref})).json()["accesses"]
    cef = (await activation.http.get("/v1/audit/access", params={"format": "cef", "limit": 4})).text

    assert [answer.status_code for answer in answers] == [200, 404, 404, 200]
    assert [(a["route"], a["outcome"], a["municipality"], a["roles"]) for a in reversed(about)] == [
        ("GET /v1/citizens/{citizen_ref}/plan", "granted", "101", ["caseworker"]),
        ("GET /v1/citizens/{citizen_ref}/plan", "refused", "751", ["caseworker"]),
        ("GET /v1/overdue", "granted", "101", ["caseworker"]),
    ]
    assert about[-1]["object_ref"] == ref and about[-1]["purpose"] == "plan_follow_up"
    lines = cef.splitlines()
    assert len(lines) == 4 and all(line.startswith("CEF:0|Jobbro|activation|1|access.read|") for line in lines)
    assert "cs3=access_audit" in lines[0] and "outcome=not_found" in lines[2] and "010190-1234" not in cef
    assert f"cs4={ref}" in lines[3] and "outcome=refused" in lines[3] and "|7|" in lines[3]
    audited = await read_events(
        activation.settings.kafka, activation.settings.topic_prefix + TOPICS["activation"], expect=6
    )
    events = sorted((event for _, event in audited), key=lambda event: event.at)
    assert all(isinstance(event, ActivationAccessRecorded) for event in events)
    assert [event.outcome for event in events[:4]] == [
        AccessOutcome.GRANTED, AccessOutcome.REFUSED, AccessOutcome.NOT_FOUND, AccessOutcome.GRANTED,
    ]  # fmt: skip


async def test_a_caller_the_role_check_refuses_is_recorded_by_route_without_the_path(
    activation: Activation, callers: Callers
) -> None:
    async with activation.client(callers.employer("12345678")) as employer:
        refused = await employer.get("/v1/citizens/010190-1234/plan")
    accesses = (await activation.http.get("/v1/audit/access", params={"limit": 2})).json()["accesses"]

    assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")
    [recorded] = [a for a in accesses if a["route"] != "GET /v1/audit/access"]
    assert (recorded["route"], recorded["outcome"], recorded["purpose"]) == (
        "GET /v1/citizens/{citizen_ref}/plan",
        "refused",
        "none: the role does not admit it",
    )
    assert "employer" in recorded["roles"] and "caseworker" not in recorded["roles"]
    assert recorded["object_ref"] is None and recorded["citizen_refs"] == [] and "010190" not in str(recorded)
