"""`python -m services.subsidy`: the service (uvicorn), or one of its commands.

python -m services.subsidy                  run the service on `SUBSIDY_HTTP_HOST`:`SUBSIDY_HTTP_PORT`
python -m services.subsidy rewrap-keys      rewrap every citizen's data key under the newest KEK
"""

import argparse
import asyncio
import sys

from jobbro import db, shredding
from jobbro.http_limits import serve
from jobbro.log import configure_logging
from services.subsidy.app import SQL, create_app
from services.subsidy.settings import SubsidySettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.subsidy", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    rewrapping = commands.add_parser("rewrap-keys", help="rewrap every data key under the newest KEK (rotation)")
    rewrapping.add_argument("--batch-size", type=int, default=shredding.REWRAP_BATCH, help="keys per transaction")
    args = parser.parse_args(argv)

    settings = SubsidySettings()
    if args.command is None:
        serve(create_app(settings), settings)
        return 0
    configure_logging(settings.service, json=settings.log_json, level=settings.log_level)
    return asyncio.run(rewrap_keys(settings, args.batch_size))


async def rewrap_keys(settings: SubsidySettings, batch_size: int) -> int:
    """Rewrap every data key under the newest of `SUBSIDY_DATA_KEY_KEKS`, printing progress per batch (stderr)."""
    keys = shredding.KeyWrap(settings.data_key_keks, setting=settings.env_name("data_key_keks"))
    pool = await db.create_pool(settings.pg_dsn, 2, settings.database_password)
    try:
        await db.migrate(pool, SQL)
        done = await shredding.rewrap(pool, keys, batch_size=batch_size, on_batch=_rewrap_progress)
    finally:
        await pool.close()
    print(f"rewrapped {done} data keys under the newest KEK; the older KEKs can be removed from the settings")
    return 0


def _rewrap_progress(seen: int, rewrapped: int) -> None:
    print(f"{seen} data keys read, {rewrapped} rewrapped", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
