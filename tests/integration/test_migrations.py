from pathlib import Path

import pytest

from jobbro.db import MigrationDrift, create_pool, migrate

KIT_SQL = Path(__file__).parents[2] / "jobbro" / "sql"


async def test_applies_each_migration_once_kit_tables_first(database: str, tmp_path: Path) -> None:
    sql = tmp_path / "svc" / "sql"
    sql.mkdir(parents=True)
    (sql / "0001_things.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    (sql / "0002_more.sql").write_text("ALTER TABLE things ADD COLUMN name text;")
    pool = await create_pool(database)
    try:
        kit = sorted(f"jobbro/{path.name}" for path in KIT_SQL.glob("*.sql"))
        assert kit[0] == "jobbro/0001_messaging.sql"
        assert await migrate(pool, sql) == [*kit, "svc/0001_things.sql", "svc/0002_more.sql"]
        assert await migrate(pool, sql) == []
        columns = await pool.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = 'things'")
        assert {c["column_name"] for c in columns} == {"id", "name"}
    finally:
        await pool.close()


async def test_refuses_to_start_when_an_applied_migration_was_edited(database: str, tmp_path: Path) -> None:
    sql = tmp_path / "svc" / "sql"
    sql.mkdir(parents=True)
    (sql / "0001_things.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    pool = await create_pool(database)
    try:
        await migrate(pool, sql)
        (sql / "0001_things.sql").write_text("CREATE TABLE things (id bigint PRIMARY KEY);")
        with pytest.raises(MigrationDrift):
            await migrate(pool, sql)
    finally:
        await pool.close()
