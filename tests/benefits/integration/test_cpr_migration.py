"""Migration 0002 gives CPR numbers sealed before key ids the key id `initial`: they keep opening after it."""

import os
import shutil
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from jobbro import db
from services.benefits.app import SQL
from services.benefits.cpr import INITIAL_KEY_ID, CprCipher, key_id
from tests.benefits.events import DATA_KEYS
from tests.benefits.factories import import_row

_COLUMNS = ", ".join(
    ("citizen_ref", "cpr_sealed", "municipality", "benefit", "target_group", "monthly_rate_ore", "top_up_monthly_ore")
    + ("birth_date", "single_parent", "upper_secondary_or_vocational_education", "newly_graduated", "import_id")
)


def _sealed_the_old_way(secret: str, cpr: str, ref: str) -> bytes:
    """What the cipher stored before key ids: the nonce and the ciphertext under the one configured key."""
    key = HKDF(hashes.SHA256(), length=32, salt=None, info=b"jobbro/benefits/cpr/v1").derive(secret.encode())
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, cpr.encode(), ref.encode())


async def test_a_cpr_number_sealed_before_key_ids_opens_after_the_migration_under_the_initial_key(
    database: str, tmp_path: Path
) -> None:
    before = tmp_path / "benefits" / "sql"  # migrations are named by service: the same directory names
    before.mkdir(parents=True)
    shutil.copy(SQL / "0001_benefits.sql", before / "0001_benefits.sql")  # the schema as deployed before 0002
    secret, row = "a-secret-configured-before-rotation", import_row()
    ref = f"c-{os.urandom(8).hex()}"
    pool = await db.create_pool(database, 1)
    try:
        await db.migrate(pool, before)
        await pool.execute(
            f"""INSERT INTO citizens ({_COLUMNS})
                VALUES ($1, $2, '101', 'dagpenge', 'dagpenge', 1000, 0, '1990-05-17', false, true, false,
                        gen_random_uuid())""",
            ref,
            _sealed_the_old_way(secret, row["cpr"].replace("-", ""), ref),
        )
        applied = await db.migrate(pool, SQL)
        sealed = await pool.fetchval("SELECT cpr_sealed FROM citizens WHERE citizen_ref = $1", ref)
    finally:
        await pool.close()

    assert "benefits/0002_cpr_key_ids.sql" in applied
    assert key_id(sealed) == INITIAL_KEY_ID
    ring = CprCipher({"rotated-later": "a-newer-secret", INITIAL_KEY_ID: secret}, DATA_KEYS)
    assert ring.open(sealed, ref) == row["cpr"].replace("-", "")
