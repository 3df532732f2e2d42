"""The access audit of benefits: an import of the registry is recorded in its own transaction, with who did it; the
record reaches the audit topic through the outbox, under benefits' own principal."""

import json
from collections.abc import Callable

import httpx

from contracts.audit import TOPICS, BenefitsAccessRecorded
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Role
from jobbro.runtime import Runtime
from jobbro.testing import read_events
from tests.benefits.factories import import_row
from tests.identity import Callers, bearer


async def test_an_import_is_recorded_as_a_change_of_the_registry_by_its_operator(
    service: Runtime,
    http: Callable[..., httpx.AsyncClient],
    callers: Callers,
    token_for: Callable[..., str],
    kafka: KafkaAccess,
) -> None:
    async with http(bearer(token_for(Role.OPERATOR, subject="operator-ida"))) as operator:
        imported = await operator.post(
            "/v1/admin/citizens/import",
            content=json.dumps([import_row()]),
            headers={"content-type": "application/json"},
        )
        rejected = await operator.post(
            "/v1/admin/citizens/import",
            content=json.dumps([{"cpr": "x"}]),
            headers={"content-type": "application/json"},
        )
    async with http(callers.auditor()) as auditor, http(callers.operator()) as other_operator:
        refused = await other_operator.get("/v1/audit/access")
        accesses = (await auditor.get("/v1/audit/access")).json()["accesses"]
    [recorded] = [a for a in accesses if a["object_kind"] == "citizen_import"]
    [role_refused] = [a for a in accesses if a["outcome"] == "refused"]  # the operator is no auditor

    assert (imported.status_code, rejected.status_code, refused.status_code) == (200, 422, 403)
    assert (recorded["action"], recorded["object_kind"], recorded["outcome"], recorded["roles"]) == (
        "change", "citizen_import", "granted", ["operator"],
    )  # fmt: skip
    assert recorded["object_ref"] == imported.json()["import_id"]
    assert (role_refused["route"], role_refused["roles"], role_refused["object_kind"]) == (
        "GET /v1/audit/access", ["operator"], "route",
    )  # fmt: skip
    assert await service.pool.fetchval("SELECT count(*) FROM access_audit WHERE object_kind = 'citizen_import'") == 1
    published = await read_events(kafka, service.settings.topic_prefix + TOPICS["benefits"], expect=3)
    assert all(isinstance(event, BenefitsAccessRecorded) for _, event in published)
    assert {event.object_kind for _, event in published} == {"citizen_import", "route", "access_audit"}  # and query
