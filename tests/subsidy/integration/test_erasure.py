"""Erasing a citizen on real PostgreSQL: the signed evidence naming them is sealed under their data key, and the
operator's erasure destroys the key; the application and its decision stay under the citizen's reference."""

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from contracts import benefits
from jobbro.shredding import KeyDestroyed
from jobbro.testing import tables_holding
from services.subsidy.signing import sign
from services.subsidy.store import PgApplications
from tests.subsidy.factories import assessed, internship, plan_checked
from tests.subsidy.integration.conftest import Subsidy

REASON = "Borgerens anmodning om sletning, GDPR art. 17, sag 2026-0042"


async def test_an_erased_citizens_cpr_number_is_in_no_row_and_the_application_stays_by_reference(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    form = internship(employer, employees=1)
    cpr = form["citizen"]["cpr"]
    signature = sign(form, employer.signer.key, [employer.signer.cert])
    application = (await service.submit(form, employer, signature=signature)).json()
    await service.answer(assessed(application), plan_checked(application))
    approved = await service.until(application, service.issuer.caseworker(), "approved")
    application_id = UUID(application["id"])
    async with service.runtime.pool.acquire() as conn:
        assert (
            await PgApplications(conn, service.runtime.context.keys).signature(application_id, "application")
            == signature
        )  # kept, and it opens
        assert await tables_holding(conn, cpr) == []  # but sealed: not in the clear, hex or base64 in any row
        assert await tables_holding(conn, signature.split(".")[1][:40]) == []

    erasure = {"cpr": cpr, "reason": REASON}
    refused = await service.client.post("/v1/erasures", json=erasure, headers=service.issuer.caseworker())
    erased = await service.client.post("/v1/erasures", json=erasure, headers=service.issuer.operator())
    again = await service.client.post("/v1/erasures", json=erasure, headers=service.issuer.operator())

    assert refused.status_code == 403
    assert erased.status_code == 201 and erased.json()["citizen_ref"] == application["citizen_ref"]
    assert again.json() == erased.json() and cpr not in erased.text
    async with service.runtime.pool.acquire() as conn:
        with pytest.raises(KeyDestroyed):
            await PgApplications(conn, service.runtime.context.keys).signature(application_id, "application")
        assert await tables_holding(conn, cpr) == []
        ref = approved["citizen_ref"]
        assert await conn.fetchval("SELECT count(*) FROM citizen_keys WHERE citizen_ref = $1", ref) == 0
        assert await conn.fetchval("SELECT reason FROM citizen_erasures WHERE citizen_ref = $1", ref) == REASON
    after = await service.view(application, service.issuer.caseworker())
    assert (after["state"], after["citizen_ref"], after["decision"]) == (
        "approved",
        application["citizen_ref"],
        approved["decision"],
    )


async def test_evidence_kept_as_received_before_data_keys_is_shredded_too_when_its_citizen_is_erased(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    form = internship(employer, employees=1)
    signature = sign(form, employer.signer.key, [employer.signer.cert])
    application = (await service.submit(form, employer, signature=signature)).json()
    application_id = UUID(application["id"])
    async with service.runtime.pool.acquire() as conn:  # as kept before migration 0004
        await conn.execute(
            """UPDATE signatures SET jws = $2, jws_sealed = NULL, citizen_ref = NULL
               WHERE application_id = $1 AND purpose = 'application'""",
            application_id,
            signature,
        )
        assert await tables_holding(conn, form["citizen"]["cpr"]) == ["public.signatures"]  # the scan sees it

    erasure = {"cpr": form["citizen"]["cpr"], "reason": REASON}
    erased = await service.client.post("/v1/erasures", json=erasure, headers=service.issuer.operator())

    assert erased.status_code == 201
    async with service.runtime.pool.acquire() as conn:
        with pytest.raises(KeyDestroyed):
            await PgApplications(conn, service.runtime.context.keys).signature(application_id, "application")
        assert await tables_holding(conn, form["citizen"]["cpr"]) == []


async def test_an_erasure_in_benefits_registry_shreds_subsidys_evidence_too(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer, employees=1), employer)
    erasure_id = uuid4()

    await service.answer(
        benefits.CitizenErased(
            erasure_id=erasure_id, citizen_ref=application["citizen_ref"], erased_at=datetime.now(UTC)
        )
    )

    for _ in range(300):
        async with service.runtime.pool.acquire() as conn:
            recorded = await conn.fetchval(
                "SELECT erasure_id FROM citizen_erasures WHERE citizen_ref = $1", application["citizen_ref"]
            )
            if recorded is not None:
                break
        await asyncio.sleep(0.1)
    assert recorded == erasure_id
    async with service.runtime.pool.acquire() as conn:
        with pytest.raises(KeyDestroyed):
            await PgApplications(conn, service.runtime.context.keys).signature(UUID(application["id"]), "application")
