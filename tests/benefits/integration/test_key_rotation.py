"""Rotating the registry's key-encryption key on real PostgreSQL: `rewrap-keys` under a new KEK listed first, then the
old one removed from the settings, and every citizen's CPR number still opens."""

import asyncpg
import pytest
from pydantic import SecretStr

from jobbro.shredding import KekUnknown
from services.benefits.__main__ import rewrap_keys
from services.benefits.app import create_context
from services.benefits.handlers import Context
from services.benefits.settings import BenefitsSettings
from services.benefits.store import PgBenefits
from tests.benefits.factories import import_rows
from tests.benefits.integration.conftest import register

NEW_KEK = "development-only-2027-06:development-only-the-kek-listed-at-rotation"


async def test_after_rewrapping_the_old_kek_can_be_removed_and_every_cpr_number_still_opens(
    pool: asyncpg.Pool, ctx: Context, settings: BenefitsSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = import_rows(3)
    refs = await register(pool, ctx, *rows)
    old_kek = settings.data_key_keks.get_secret_value()
    rotated = settings.model_copy(update={"data_key_keks": SecretStr(f"{NEW_KEK},{old_kek}")})
    retired = create_context(settings.model_copy(update={"data_key_keks": SecretStr(NEW_KEK)}))

    async with pool.acquire() as conn:
        with pytest.raises(KekUnknown):  # before the rewrap, the new KEK alone opens nothing
            retired.cipher.open_stored(await PgBenefits(conn, ctx.data_keys).sealed_cpr(refs[0]), refs[0])

    assert await rewrap_keys(rotated, batch_size=2) == 0
    assert "rewrapped 3 data keys" in capsys.readouterr().out
    async with pool.acquire() as conn:
        for row, ref in zip(rows, refs, strict=True):
            stored = await PgBenefits(conn, ctx.data_keys).sealed_cpr(ref)
            assert retired.cipher.open_stored(stored, ref) == row["cpr"]
            with pytest.raises(KekUnknown):
                ctx.cipher.open_stored(stored, ref)  # the old KEK alone no longer does
    assert await rewrap_keys(rotated, batch_size=2) == 0
    assert "rewrapped 0 data keys" in capsys.readouterr().out
