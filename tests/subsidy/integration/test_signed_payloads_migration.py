"""The replay guard covers signatures stored before it: its migration claims the digest of every kept signature."""

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from jobbro.db import create_pool, migrate
from services.subsidy import store
from services.subsidy.app import SQL
from services.subsidy.signing import TrustStore, sign, verify
from services.subsidy.store import PgApplications
from tests.subsidy.factories import DATA_KEYS, Pki, internship
from tests.subsidy.unit.conftest import submitted


async def test_the_migration_claims_the_signatures_already_kept(database: str, pki: Pki, tmp_path: Path) -> None:
    before = tmp_path / "subsidy" / "sql"  # named as the service's own directory, so the later run skips 0001
    before.mkdir(parents=True)
    shutil.copy(SQL / "0001_applications.sql", before)
    shutil.copy(SQL / "0006_case_trace.sql", before)  # the column today's `store.insert` writes (independent of 0002)
    employer = pki.employer()
    form = internship(employer)
    now = datetime.now(UTC)
    trust = TrustStore.from_pem(pki.anchors.read_bytes(), crls=[pki.crl.read_bytes()])
    signature = verify(sign(form, employer.signer.key, [employer.signer.cert]), None, employer.cvr, trust, now)
    application = submitted(form)
    pool = await create_pool(database, size=1)
    try:
        await migrate(pool, before)
        async with pool.acquire() as conn:
            await PgApplications(conn, DATA_KEYS).insert(application)
            await conn.execute(  # as the code of 0001's time kept it
                """INSERT INTO signatures (application_id, purpose, jws, signer, cert_serial, fingerprint, alg,
                                           signed_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                application.id,
                "application",
                signature.jws,
                signature.signer,
                Decimal(signature.cert_serial),
                signature.fingerprint,
                signature.alg,
                signature.signed_at,
                now,
            )

        assert (await migrate(pool, SQL))[0] == "subsidy/0002_signed_payloads.sql"
        async with pool.acquire() as conn:
            first = await PgApplications(conn, DATA_KEYS).claim_signed_payload(
                signature.payload_sha256, application.id, "application"
            )
    finally:
        await pool.close()

    assert first == store.SignedPayload(application.id, "application")
