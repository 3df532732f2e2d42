"""The registry's record of a citizen's circumstances on real PostgreSQL: sealed under their data key, so no row holds
it in clear; rows imported before migration 0006 are sealed by its data step, and an erased citizen's are gone."""

from datetime import date

import asyncpg

from jobbro.testing import tables_holding
from services.benefits import handlers
from services.benefits.handlers import Context
from services.benefits.store import PgBenefits
from tests.benefits.factories import import_rows
from tests.benefits.integration.conftest import register, unit_of_work

_IN_CLEAR = """UPDATE citizens SET profile_sealed = NULL, target_group = 'dagpenge', birth_date = $2,
                  unemployed_since = '2025-10-06', single_parent = true,
                  upper_secondary_or_vocational_education = false, newly_graduated = false
               WHERE citizen_ref = $1"""
"""A row as imported before migration 0006: the circumstances in clear."""


async def test_a_citizens_circumstances_are_in_no_row_in_clear_yet_read_as_imported(
    pool: asyncpg.Pool, ctx: Context
) -> None:
    [row] = import_rows(1, birth_date="1961-03-29", unemployed_since="2024-02-11", single_parent=True)
    [ref] = await register(pool, ctx, row)

    async with pool.acquire() as conn, conn.transaction():
        assert await tables_holding(conn, "1961-03-29") == [] and await tables_holding(conn, "2024-02-11") == []
        citizen = await PgBenefits(conn, ctx.data_keys).citizen_for_update(ref)
    assert citizen is not None
    assert (citizen.birth_date, citizen.unemployed_since, citizen.single_parent, citizen.benefit) == (
        date(1961, 3, 29),
        date(2024, 2, 11),
        True,
        "dagpenge",
    )


async def test_rows_imported_before_0006_are_sealed_by_its_data_step_and_an_erased_ones_are_unrecoverable(
    pool: asyncpg.Pool, ctx: Context
) -> None:
    with_key, before_keys, erased = import_rows(3)
    refs = await register(pool, ctx, with_key, before_keys, erased)
    births = {ref: date(1950 + n, 1 + n, 3 + n) for n, ref in enumerate(refs)}
    for ref in refs:
        await pool.execute(_IN_CLEAR, ref, births[ref])
    await pool.execute(  # imported before data keys too (migration 0004): the CPR number under the ring alone
        "UPDATE citizens SET cpr_sealed = $2, cpr_shreddable = NULL WHERE citizen_ref = $1",
        refs[1],
        ctx.cipher.seal(before_keys["cpr"], refs[1]),
    )
    await pool.execute("DELETE FROM citizen_keys WHERE citizen_ref = $1", refs[1])
    async with pool.acquire() as conn:
        assert await tables_holding(conn, births[refs[2]].isoformat()) == ["public.citizens"]

    async with unit_of_work(pool, ctx) as uow:
        await handlers.erase_citizen(erased["cpr"], "GDPR art. 17", "operator-1", uow, ctx)
        await uow.commit()
    sealed = await handlers.seal_registry(lambda: unit_of_work(pool, ctx), ctx, batch_size=1)

    assert sealed == 2  # the erased citizen's were sealed under a forgotten key as they were erased
    assert await handlers.seal_registry(lambda: unit_of_work(pool, ctx), ctx) == 0
    async with pool.acquire() as conn, conn.transaction():
        benefits = PgBenefits(conn, ctx.data_keys)
        for ref in refs:
            assert await tables_holding(conn, births[ref].isoformat()) == []
        for row, ref in zip((with_key, before_keys), refs, strict=False):
            citizen = await benefits.citizen_for_update(ref)
            assert citizen is not None and citizen.birth_date == births[ref] and citizen.single_parent
            assert ctx.cipher.open_stored(await benefits.sealed_cpr(ref), ref) == row["cpr"]
        assert await benefits.citizen_for_update(refs[2]) is None  # held no more
        assert await benefits.benefit_for_update(refs[2]) == "dagpenge"  # what the ledger pays by stays
