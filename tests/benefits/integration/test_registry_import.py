"""Citizen imports on real PostgreSQL, by the command and the admin endpoint: all rows or none, CPR sealed."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from jobbro.infra import REPO
from jobbro.pseudonym import citizen_ref
from services.benefits import handlers
from services.benefits.domain import StoredCpr
from services.benefits.handlers import Context
from services.benefits.registry import ImportFormat, ImportRejected
from services.benefits.settings import BenefitsSettings
from tests.benefits.events import PSEUDONYM_KEY
from tests.benefits.factories import import_row, import_rows
from tests.benefits.integration.conftest import unit_of_work
from tests.identity import Callers


async def _import_command(settings: BenefitsSettings, path: Path) -> subprocess.CompletedProcess[str]:
    """`python -m services.benefits import-citizens FILE`, its settings from the environment as in production."""
    env = {**os.environ, "BENEFITS_PG_DSN": settings.pg_dsn, "BENEFITS_PSEUDONYM_KEY": PSEUDONYM_KEY}
    command = [sys.executable, "-m", "services.benefits", "import-citizens", str(path)]
    return await asyncio.to_thread(subprocess.run, command, env=env, cwd=REPO, capture_output=True, text=True)


async def _citizens(database: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database)
    try:
        return await conn.fetch(
            """SELECT c.citizen_ref, c.cpr_sealed, c.cpr_shreddable, k.data_key, c.benefit, c.municipality
               FROM citizens c LEFT JOIN citizen_keys k USING (citizen_ref)"""
        )
    finally:
        await conn.close()


async def test_the_command_reports_every_bad_row_and_imports_nothing(
    settings: BenefitsSettings, pool: asyncpg.Pool, database: str, tmp_path: Path
) -> None:
    bad_cpr = "3113901234"
    rows = [import_row(), import_row(cpr=bad_cpr), import_row(), import_row(benefit="pension", municipality="1")]
    path = tmp_path / "citizens.json"
    path.write_text(json.dumps(rows))

    done = await _import_command(settings, path)

    assert done.returncode == 1
    err = done.stderr
    assert "row 2: cpr: the first six digits are not a date (DDMMYY)" in err
    assert "row 4: municipality: " in err and "row 4: benefit: " in err
    assert "rejected: 3 problem(s); nothing imported" in err
    assert bad_cpr not in err
    assert await _citizens(database) == []


async def test_the_command_imports_a_csv_file_with_each_cpr_number_sealed_and_found_by_its_reference(
    settings: BenefitsSettings, ctx: Context, database: str, tmp_path: Path
) -> None:
    rows = [import_row(), import_row(benefit="kontanthjaelp", target_group="kontanthjaelp_job_ready")]
    path = tmp_path / "citizens.csv"
    path.write_text(
        ",".join(rows[0]) + "\n" + "".join(",".join(str(v).lower() for v in row.values()) + "\n" for row in rows)
    )

    done = await _import_command(settings, path)

    assert (done.returncode, done.stdout) == (0, "imported 2 citizens\n"), done.stderr
    stored = {row["citizen_ref"]: row for row in await _citizens(database)}
    for row in rows:
        ref = citizen_ref(row["cpr"], PSEUDONYM_KEY)
        sealed = stored[ref]["cpr_shreddable"]  # under the ring and the citizen's own data key
        assert stored[ref]["cpr_sealed"] is None and row["cpr"].encode() not in sealed
        stored_cpr = StoredCpr(sealed, shreddable=True, data_key=stored[ref]["data_key"])
        assert ctx.cipher.open_stored(stored_cpr, ref) == row["cpr"]
        assert stored[ref]["benefit"] == row["benefit"]


async def test_the_admin_endpoint_rejects_a_file_with_bad_rows_as_a_problem_and_imports_a_good_one(
    http: Callable[..., httpx.AsyncClient], callers: Callers, database: str
) -> None:
    good, duplicate = import_row(), import_row()
    async with http(callers.operator()) as client:
        rejected = await client.post(
            "/v1/admin/citizens/import",
            content=json.dumps([good, {**good}, {**duplicate, "monthly_rate_ore": -1}]),
            headers={"content-type": "application/json"},
        )
        unsupported = await client.post("/v1/admin/citizens/import", content=b"x", headers={"content-type": "text/xml"})
        assert await _citizens(database) == []
        imported = await client.post(
            "/v1/admin/citizens/import",
            content=json.dumps([good, duplicate]),
            headers={"content-type": "application/json"},
        )

    assert (rejected.status_code, rejected.headers["content-type"]) == (422, "application/problem+json")
    assert rejected.json()["rejected"] == [
        {"row": 2, "field": "cpr", "reason": "the same citizen as row 1"},
        {"row": 3, "field": "monthly_rate_ore", "reason": "Input should be greater than or equal to 0"},
    ]
    assert unsupported.status_code == 415
    assert (imported.status_code, imported.json()["imported"]) == (200, 2)
    assert len(await _citizens(database)) == 2


async def _pieces(content: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start : start + size]


async def test_a_streamed_import_finds_a_citizen_repeated_chunks_later_and_imports_nothing(
    pool: asyncpg.Pool, ctx: Context, database: str
) -> None:
    rows = import_rows(40)
    lines = [json.dumps(row) for row in [*rows, rows[0], {**rows[1], "monthly_rate_ore": -1}]]
    content = ("\n".join(lines) + "\n").encode()

    with pytest.raises(ImportRejected) as caught:
        async with unit_of_work(pool, ctx) as uow:
            await handlers.import_file(_pieces(content, 97), ImportFormat.JSONL, "test", uow, ctx, max_json_bytes=0)

    assert [(r.row, r.field, r.reason) for r in caught.value.rejections] == [
        (41, "cpr", "the same citizen as row 1"),
        (42, "monthly_rate_ore", "Input should be greater than or equal to 0"),
    ]
    assert await _citizens(database) == []


async def test_a_streamed_import_in_small_chunks_registers_every_citizen_once(
    pool: asyncpg.Pool, ctx: Context, database: str
) -> None:
    rows = import_rows(40)
    content = ("\n".join(json.dumps(row) for row in rows) + "\n").encode()

    async with unit_of_work(pool, ctx) as uow:
        done = await handlers.import_file(_pieces(content, 97), ImportFormat.JSONL, "test", uow, ctx, max_json_bytes=0)
        await uow.commit()

    assert done.citizens == 40
    stored = {row["citizen_ref"] for row in await _citizens(database)}
    assert stored == {citizen_ref(row["cpr"], PSEUDONYM_KEY) for row in rows}
