"""The signed applications kept as evidence (with the citizen's CPR number) go once their retention period after
the placement's end is over, and not a day before."""

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from jobbro.retention import policies, sweep
from services.subsidy import store
from services.subsidy.store import PgApplications
from tests.subsidy.factories import internship
from tests.subsidy.integration.conftest import Subsidy


async def test_the_signed_evidence_goes_five_years_after_the_placements_end_and_not_before(service: Subsidy) -> None:
    employer = service.pki.employer()
    ended, running = [await service.submitted(internship(employer), employer) for _ in range(2)]
    pool = service.runtime.pool
    end = date(2020, 1, 31)
    await pool.execute("UPDATE applications SET ends_on = $2 WHERE id = $1", UUID(ended["id"]), end)
    await pool.execute("UPDATE applications SET ends_on = $2 WHERE id = $1", UUID(running["id"]), end + timedelta(1))
    after = datetime.combine(end + policies()["evidence"].period + timedelta(1), time(12), UTC)

    deleted = await sweep(pool, store.RETAINED, now=after, batch_size=10, max_batches=1)

    assert deleted == {"evidence": 1}
    async with pool.acquire() as conn:
        assert (
            await PgApplications(conn, service.runtime.context.keys).signature(UUID(ended["id"]), "application") is None
        )
        assert (
            await PgApplications(conn, service.runtime.context.keys).signature(UUID(running["id"]), "application")
            is not None
        )
