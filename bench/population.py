"""Citizens for benchmarks and the chaos test: CPR numbers unique by construction (random ones collide by the
thousand), rows for the registry's import endpoint, and a bulk generator for the payment run.

The bulk generator COPYs straight into a fresh benefits database, sealing CPR numbers and deriving citizen
references exactly as the service does: a benchmark fixture for a million citizens, not the product's import path.
"""

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

from pydantic import SecretStr

from demo.citizens import Citizen
from jobbro import db
from jobbro.pseudonym import citizen_ref
from services.benefits.app import create_context
from services.benefits.cpr import CprCipher
from services.benefits.settings import BenefitsSettings

MUNICIPALITY = "751"
_FIRST_BIRTH = date(1975, 1, 1)
_PER_DAY = 4000
"""Four thousand CPR numbers per birth date: 7th digit 0–3 (born in the 1900s), the last three 000–999."""


def cpr(n: int) -> str:
    """The n-th CPR number; no two n give the same."""
    birth = _FIRST_BIRTH + timedelta(days=n // _PER_DAY)
    return f"{birth:%d%m%y}{n % _PER_DAY:04d}"


def birth_date(n: int) -> date:
    return _FIRST_BIRTH + timedelta(days=n // _PER_DAY)


def intern(n: int, today: date) -> Citizen:
    """A job-ready dagpenge recipient, three months unemployed: the rules approve a two-week internship."""
    return Citizen(
        label=f"intern {n}",
        cpr=cpr(n),
        benefit="dagpenge",
        target_group="dagpenge",
        monthly_rate_ore=1_972_800,
        top_up_monthly_ore=0,
        birth_date=birth_date(n),
        unemployed_since=today - timedelta(days=90),
    )


def wage_subsidy_employee(n: int, today: date) -> Citizen:
    """A job-ready kontanthjælp recipient, unemployed over a year, with a top-up during a wage-subsidy job."""
    return Citizen(
        label=f"employee {n}",
        cpr=cpr(n),
        benefit="kontanthjaelp",
        target_group="kontanthjaelp_job_ready",
        monthly_rate_ore=1_250_000,
        top_up_monthly_ore=310_000,
        birth_date=birth_date(n),
        unemployed_since=today - timedelta(days=420),
    )


_COLUMNS = (
    "citizen_ref",
    "cpr_shreddable",
    "import_id",
    "municipality",
    "benefit",
    "target_group",
    "monthly_rate_ore",
    "top_up_monthly_ore",
    "birth_date",
    "unemployed_since",
    "single_parent",
    "upper_secondary_or_vocational_education",
    "newly_graduated",
)
BULK_MONTHLY_RATE_ORE = 1_972_800
"""What each generated citizen is paid a month (dagpenge): a run's total is citizens × this."""


async def generate(
    dsn: str, benefits_sql: Path, count: int, progress: Callable[[int], None], chunk: int = 50_000
) -> None:
    """`count` dagpenge recipients in the (fresh) benefits database at `dsn`, migrated first, then analysed."""
    settings = BenefitsSettings(environment="development")  # the keys of the bench's development stack
    cipher = create_context(settings).cipher
    pool = await db.create_pool(dsn, 1)
    try:
        await db.migrate(pool, benefits_sql)
        async with pool.acquire() as conn:
            import_id = uuid4()
            await conn.execute(
                "INSERT INTO citizen_imports (import_id, source, citizens) VALUES ($1, 'bench generator', $2)",
                import_id,
                count,
            )
            for start in range(0, count, chunk):
                keys, rows = _rows(range(start, min(start + chunk, count)), import_id, cipher, settings.pseudonym_key)
                await conn.copy_records_to_table("citizen_keys", records=keys, columns=("citizen_ref", "data_key"))
                await conn.copy_records_to_table("citizens", records=rows, columns=_COLUMNS)
                progress(len(rows))
            await conn.execute("ANALYZE citizens, citizen_keys")
    finally:
        await pool.close()


def _rows(
    numbers: range, import_id: object, cipher: CprCipher, key: SecretStr
) -> tuple[list[tuple[str, bytes]], list[tuple[object, ...]]]:
    """Each citizen's data key (wrapped) and registry row, its CPR number sealed under the ring and that key."""
    unemployed_since = date.today() - timedelta(days=90)
    keys, rows = [], []
    for n in numbers:
        number = cpr(n)
        ref = citizen_ref(number, key)
        data_key, sealed = cipher.seal_for_citizen(number, ref)
        keys.append((ref, data_key))
        rows.append(
            (
                ref,
                sealed,
                import_id,
                MUNICIPALITY,
                "dagpenge",
                "dagpenge",
                BULK_MONTHLY_RATE_ORE,
                0,
                birth_date(n),
                unemployed_since,
                False,
                True,
                False,
            )
        )
    return keys, rows
