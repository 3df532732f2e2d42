"""The monthly payment run on real Kafka and PostgreSQL: once per citizen and month, resumable, streaming."""

import asyncio
import os
import signal
import subprocess
import sys
import tracemalloc
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag

from bench import population
from contracts.benefits import PAYEE_KEYS, PAYMENT_INSTRUCTIONS, PaymentInstructionIssuedV2
from contracts.common import Scheme
from jobbro import db
from jobbro.infra import REPO
from jobbro.kafka_access import KafkaAccess
from jobbro.pseudonym import citizen_ref
from jobbro.runtime import Runtime
from jobbro.testing import publish, read_events
from services.benefits import payment_run, store
from services.benefits.app import SQL, create_context
from services.benefits.handlers import Context
from services.benefits.rules import Month
from services.benefits.settings import BenefitsSettings
from tests.benefits.events import PSEUDONYM_KEY, placement_confirmed
from tests.benefits.factories import import_row, import_rows
from tests.benefits.integration.conftest import eventually, register
from tests.benefits.payees import payee_cprs

NOVEMBER = Month(2026, 11)


async def test_pays_each_citizen_their_month_prorated_around_a_wage_subsidy_job_and_a_rerun_issues_nothing(
    service: Runtime, ctx: Context, settings: BenefitsSettings, kafka: KafkaAccess, topic_prefix: str
) -> None:
    rows = [
        *(import_row(monthly_rate_ore=1_000_000 + n) for n in range(5)),
        import_row(
            benefit="kontanthjaelp",
            target_group="kontanthjaelp_job_ready",
            monthly_rate_ore=1_200_000,
            top_up_monthly_ore=300_000,
        ),
        import_row(benefit="none", target_group="self_supporting_job_ready", monthly_rate_ore=0),
    ]
    refs = await register(service.pool, ctx, *rows)
    from_16th = [
        placement_confirmed(refs[n], Scheme.WAGE_SUBSIDY_PRIVATE, date(2026, 11, 16), date(2027, 2, 15)) for n in (0, 5)
    ]
    two_jobs = [
        placement_confirmed(refs[1], Scheme.WAGE_SUBSIDY_PUBLIC, date(2026, 10, 1), date(2026, 11, 5)),
        placement_confirmed(refs[1], Scheme.WAGE_SUBSIDY_PRIVATE, date(2026, 11, 21), date(2026, 12, 20)),
    ]
    not_this_month = placement_confirmed(refs[2], Scheme.WAGE_SUBSIDY_PRIVATE, date(2026, 9, 1), date(2026, 10, 31))
    internship = placement_confirmed(refs[3], Scheme.INTERNSHIP, date(2026, 11, 2), date(2026, 11, 13))
    await publish(kafka, topic_prefix, *from_16th, *two_jobs, not_this_month, internship)
    await eventually(lambda: service.pool.fetchval("SELECT count(*) = 6 FROM placements"))

    first = await payment_run.run(service.pool, ctx, NOVEMBER, batch_size=2, source=settings.source)
    again = await payment_run.run(service.pool, ctx, NOVEMBER, batch_size=2, source=settings.source)

    expected = {
        f"benefit:{refs[0]}:2026-11": 1_000_000 * 15 // 30,  # dagpenge stop on the 16th
        f"benefit:{refs[1]}:2026-11": 1_000_001 * 20 // 30 - 1_000_001 * 5 // 30,  # the 6th to the 20th
        **{f"benefit:{refs[n]}:2026-11": 1_000_000 + n for n in range(2, 5)},  # an internship keeps dagpenge
        f"benefit:{refs[5]}:2026-11": 1_200_000 * 15 // 30,
        f"benefit_top_up:{refs[5]}:2026-11": 300_000 - 300_000 * 15 // 30,
    }
    assert (first.citizens, first.citizens_done, first.issued, first.issued_ore) == (6, 6, 7, sum(expected.values()))
    assert (again.issued, again.issued_ore) == (0, 0)
    found = [e for _, e in await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=7)]
    assert len(found) == 7
    assert {e.idempotency_key: e.amount_ore for e in found if isinstance(e, PaymentInstructionIssuedV2)} == expected
    cpr_of = {ref: row["cpr"] for ref, row in zip(refs, rows, strict=True)}
    keys = [e for _, e in await read_events(kafka, topic_prefix + PAYEE_KEYS, expect=6)]
    paid = sorted({key.split(":")[1] for key in expected})
    assert sorted(e.citizen_ref for e in keys) == paid  # one key per citizen paid, though one is paid twice
    opened = payee_cprs([*keys, *found], settings.payee_key_keks)
    for event in found:
        assert isinstance(event, PaymentInstructionIssuedV2)
        ref = event.idempotency_key.split(":")[1]
        assert (event.payee_kind, event.payee_ref, event.due_on) == ("citizen", ref, date(2026, 11, 30))
        assert opened[event.instruction_id] == cpr_of[ref]
        assert cpr_of[ref] not in event.model_dump_json()


async def test_a_run_killed_half_way_issues_every_instruction_exactly_once_when_run_again(
    service: Runtime, ctx: Context, settings: BenefitsSettings, kafka: KafkaAccess, topic_prefix: str, tmp_path: Path
) -> None:
    rows = import_rows(3000)
    for n, row in enumerate(rows):
        row["monthly_rate_ore"] = 900_000 + n
    refs = await register(service.pool, ctx, *rows)
    command = [sys.executable, "-m", "services.benefits", "payment-run", "--month", "2026-11", "--batch-size", "10"]
    env = {
        **os.environ,
        "BENEFITS_PG_DSN": settings.pg_dsn,
        "BENEFITS_PSEUDONYM_KEY": settings.pseudonym_key.get_secret_value(),
        "BENEFITS_LOG_JSON": "true",
    }
    with (tmp_path / "killed.log").open("wb") as log:
        killed = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        while killed.poll() is None and await _ledger_count(service.pool) < len(rows) // 3:
            await asyncio.sleep(0.01)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    committed = await _ledger_count(service.pool)
    assert killed.returncode == -signal.SIGKILL, (tmp_path / "killed.log").read_text()[-2000:]
    assert 0 < committed < len(rows)

    rerun = await asyncio.to_thread(subprocess.run, command, env=env, cwd=REPO, capture_output=True, text=True)

    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"3000 citizens, {len(rows) - committed} instructions" in rerun.stdout
    assert "3000/3000 citizens" in rerun.stderr  # progress
    async with service.pool.acquire() as conn:
        [totals] = await store.reconciliation(conn, NOVEMBER)
    assert (totals.instructions, totals.issued_ore) == (3000, sum(900_000 + n for n in range(3000)))
    found = await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=3000, timeout=120)
    keys = [event.idempotency_key for _, event in found if isinstance(event, PaymentInstructionIssuedV2)]
    assert len(keys) == len(set(keys)) == 3000
    assert set(keys) == {f"benefit:{ref}:2026-11" for ref in refs}


async def _ledger_count(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM payment_instructions")


async def test_a_failing_batch_stops_the_run_with_its_error_and_a_rerun_pays_the_rest_once(
    pool: asyncpg.Pool, ctx: Context, settings: BenefitsSettings
) -> None:
    rows = import_rows(30)
    await register(pool, ctx, *rows)
    cpr_of = {citizen_ref(row["cpr"], PSEUDONYM_KEY): row["cpr"] for row in rows}
    sixteenth = await pool.fetchval("SELECT citizen_ref FROM citizens ORDER BY citizen_ref OFFSET 15 LIMIT 1")
    _, misplaced = ctx.cipher.seal_for_citizen(cpr_of[sixteenth], "c-another-citizen")  # copied from another row
    await pool.execute("UPDATE citizens SET cpr_shreddable = $2 WHERE citizen_ref = $1", sixteenth, misplaced)

    with pytest.raises(InvalidTag):  # the sixteenth CPR number does not open: its batch of five rolls back
        await payment_run.run(pool, ctx, NOVEMBER, batch_size=5, source=settings.source)

    committed = await _ledger_count(pool)
    assert committed % 5 == 0 and 15 <= committed < 15 + 5 * payment_run.IN_FLIGHT  # before it, perhaps beside it
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", PAYMENT_INSTRUCTIONS) == committed
    assert pool.get_idle_size() == pool.get_size()  # the batches beside it gave their connections back
    key, sealed = ctx.cipher.seal_for_citizen(cpr_of[sixteenth], sixteenth)
    await pool.execute("UPDATE citizens SET cpr_shreddable = $2 WHERE citizen_ref = $1", sixteenth, sealed)
    await pool.execute("UPDATE citizen_keys SET data_key = $2 WHERE citizen_ref = $1", sixteenth, key)

    rerun = await payment_run.run(pool, ctx, NOVEMBER, batch_size=5, source=settings.source)

    assert (rerun.citizens_done, rerun.issued) == (30, 30 - committed)
    assert (
        await _ledger_count(pool)
        == await pool.fetchval("SELECT count(DISTINCT key) FROM outbox WHERE topic = $1", PAYMENT_INSTRUCTIONS)
        == 30
    )


async def test_a_runs_memory_does_not_grow_with_the_number_of_citizens(
    pool: asyncpg.Pool, ctx: Context, settings: BenefitsSettings
) -> None:
    async def peak_of_run(month: Month) -> int:
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            done = await payment_run.run(pool, ctx, month, batch_size=200, source=settings.source)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert done.issued == done.citizens
        return peak - before

    await register(pool, ctx, *import_rows(1_000))
    small = await peak_of_run(Month(2026, 10))
    await register(pool, ctx, *import_rows(9_000))
    large = await peak_of_run(Month(2026, 11))

    assert large < small * 1.5, f"peak {large} bytes for 10 000 citizens, {small} for 1 000"


async def test_the_benchmarks_generated_registry_is_paid_in_full_each_cpr_number_opening_as_the_service_sealed_it(
    database: str,
) -> None:
    await population.generate(database, SQL, 130, lambda _: None, chunk=50)
    settings = BenefitsSettings(environment="development")  # the keys the generator sealed under
    pool = await db.create_pool(database, payment_run.CONNECTIONS)
    try:  # a batch of 100 goes to the outbox by COPY, the last 30 by INSERT
        done = await payment_run.run(pool, create_context(settings), NOVEMBER, batch_size=100, source=settings.source)
        events = await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", PAYMENT_INSTRUCTIONS)
    finally:
        await pool.close()

    assert (done.citizens, done.issued, done.issued_ore) == (130, 130, 130 * population.BULK_MONTHLY_RATE_ORE)
    assert events == 130


async def test_two_runs_at_once_as_from_two_replicas_issue_each_instruction_once(
    pool: asyncpg.Pool, ctx: Context, settings: BenefitsSettings
) -> None:
    await register(pool, ctx, *import_rows(200))

    runs = await asyncio.gather(
        *(payment_run.run(pool, ctx, NOVEMBER, batch_size=5, source=settings.source) for _ in range(2))
    )

    assert sum(run.issued for run in runs) == await _ledger_count(pool) == 200
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", PAYMENT_INSTRUCTIONS) == 200
