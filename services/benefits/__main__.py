"""`python -m services.benefits`: the service (uvicorn), or one of its commands.

python -m services.benefits                             run the service
python -m services.benefits import-citizens FILE        import a CSV, JSON Lines or JSON file into the registry
python -m services.benefits payment-run --month 2026-11 issue the month's citizen payments
python -m services.benefits rewrap-keys                 rewrap every citizen's data key under the newest KEK
python -m services.benefits seal-registry               seal what rows imported before migration 0006 hold in clear
"""

import argparse
import asyncio
import gc
import sys
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import asyncpg

from jobbro import db, shredding
from jobbro.http_limits import serve
from jobbro.log import configure_logging
from jobbro.uow import UnitOfWork
from services.benefits import handlers, payment_run
from services.benefits.app import SQL, create_app, create_context
from services.benefits.registry import ImportFormat, ImportRejected, ImportTooLarge
from services.benefits.rules import Month
from services.benefits.settings import BenefitsSettings
from services.benefits.store import PgBenefits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.benefits", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    importing = commands.add_parser("import-citizens", help="import citizens into the registry: all rows or none")
    importing.add_argument("file", type=Path)
    importing.add_argument("--format", type=ImportFormat, choices=list(ImportFormat), help="default: the suffix")
    paying = commands.add_parser("payment-run", help="issue every citizen's benefit payments for a month")
    paying.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    paying.add_argument("--batch-size", type=int, help="citizens per transaction (default: the settings')")
    rewrapping = commands.add_parser("rewrap-keys", help="rewrap every data key under the newest KEK (rotation)")
    rewrapping.add_argument("--batch-size", type=int, default=shredding.REWRAP_BATCH, help="keys per transaction")
    sealing = commands.add_parser("seal-registry", help="seal the circumstances of citizens imported before 0006")
    sealing.add_argument("--batch-size", type=int, default=handlers.SEAL_BATCH, help="citizens per transaction")
    args = parser.parse_args(argv)

    settings = BenefitsSettings()
    if args.command is None:
        serve(create_app(settings), settings)
        return 0
    configure_logging(settings.service, json=settings.log_json, level=settings.log_level)
    if args.command == "import-citizens":
        fmt = args.format or next((f for f in ImportFormat if args.file.suffix == f".{f}"), None)
        if fmt is None:
            parser.error(f"cannot tell the format of {args.file.name}: give --format")
        return asyncio.run(import_citizens(settings, args.file, fmt))
    if args.command == "seal-registry":
        return asyncio.run(seal_registry(settings, args.batch_size))
    if args.command == "rewrap-keys":
        return asyncio.run(rewrap_keys(settings, args.batch_size))
    return asyncio.run(run_payments(settings, args.month, args.batch_size or settings.payment_batch_size))


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def import_citizens(settings: BenefitsSettings, path: Path, fmt: ImportFormat) -> int:
    """Import a file, streamed; print each rejected row and return 1 if any, else print the count and return 0."""
    ctx = create_context(settings)
    pool = await _migrated_pool(settings)
    try:
        async with UnitOfWork(pool, settings.source, store=partial(PgBenefits, keys=ctx.data_keys)) as uow:
            done = await handlers.import_file(
                _chunks(path), fmt, str(path), uow, ctx, max_json_bytes=settings.import_json_max_bytes
            )
            await uow.commit()
    except (ImportRejected, ImportTooLarge) as exc:
        for rejection in getattr(exc, "rejections", ()):
            print(f"row {rejection.row}: {rejection.field or '-'}: {rejection.reason}", file=sys.stderr)
        print(f"rejected: {exc}", file=sys.stderr)
        return 1
    finally:
        await pool.close()
    print(f"imported {done.citizens} citizens")
    return 0


async def _chunks(path: Path, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, size):
            yield chunk


async def run_payments(settings: BenefitsSettings, month: Month, batch_size: int) -> int:
    """Run the month's payments, printing progress per batch (stderr) and a summary (stdout)."""
    pool = await _migrated_pool(settings, payment_run.CONNECTIONS)
    gc.freeze()  # start-up's objects live as long as the process: spare them the full collections every few batches
    try:
        done = await payment_run.run(
            pool,
            create_context(settings),
            month,
            batch_size=batch_size,
            source=settings.source,
            on_batch=lambda p: print(f"{p.citizens_done}/{p.citizens} citizens, {p.issued} issued", file=sys.stderr),
        )
    finally:
        await pool.close()
    print(f"payment run {done.month}: {done.citizens_done} citizens, {done.issued} instructions, {done.issued_ore} øre")
    return 0


async def rewrap_keys(settings: BenefitsSettings, batch_size: int) -> int:
    """Rewrap every data key under the newest of `BENEFITS_DATA_KEY_KEKS`, printing progress per batch (stderr)."""
    keys = shredding.KeyWrap(settings.data_key_keks, setting=settings.env_name("data_key_keks"))
    pool = await _migrated_pool(settings)
    try:
        done = await shredding.rewrap(pool, keys, batch_size=batch_size, on_batch=_rewrap_progress)
    finally:
        await pool.close()
    print(f"rewrapped {done} data keys under the newest KEK; the older KEKs can be removed from the settings")
    return 0


async def seal_registry(settings: BenefitsSettings, batch_size: int) -> int:
    """Seal what rows imported before migration 0006 hold in clear (the service does it at start too)."""
    ctx = create_context(settings)
    pool = await _migrated_pool(settings)
    try:
        done = await handlers.seal_registry(
            lambda: UnitOfWork(pool, settings.source, store=partial(PgBenefits, keys=ctx.data_keys)),
            ctx,
            batch_size,
            lambda sealed: print(f"{sealed} citizens sealed", file=sys.stderr),
        )
    finally:
        await pool.close()
    print(f"sealed the circumstances of {done} citizens; none is left in clear")
    return 0


def _rewrap_progress(seen: int, rewrapped: int) -> None:
    print(f"{seen} data keys read, {rewrapped} rewrapped", file=sys.stderr)


async def _migrated_pool(settings: BenefitsSettings, connections: int = 2) -> asyncpg.Pool:
    """A pool on the service's database with its schema in place (a command may run before the service ever did)."""
    pool = await db.create_pool(settings.pg_dsn, connections, settings.database_password)
    await db.migrate(pool, SQL)
    return pool


if __name__ == "__main__":
    sys.exit(main())
