"""Rotating subsidy's key-encryption key on real PostgreSQL: `rewrap-keys` under a new KEK listed first, then the old
one removed from the settings, and the signed evidence naming a citizen still opens."""

from uuid import UUID

import pytest
from pydantic import SecretStr

from jobbro.shredding import KekUnknown, KeyWrap
from services.subsidy import store
from services.subsidy.__main__ import rewrap_keys
from services.subsidy.signing import sign
from tests.subsidy.factories import internship
from tests.subsidy.integration.conftest import Subsidy

NEW_KEK = "development-only-2027-06:development-only-the-kek-listed-at-rotation"


async def test_after_rewrapping_the_old_kek_can_be_removed_and_the_evidence_still_opens(
    service: Subsidy, capsys: pytest.CaptureFixture[str]
) -> None:
    employer = service.pki.employer()
    documents = {}
    for _ in range(3):
        form = internship(employer, employees=1)
        signature = sign(form, employer.signer.key, [employer.signer.cert])
        documents[UUID((await service.submit(form, employer, signature=signature)).json()["id"])] = signature
    old_kek = service.settings.data_key_keks.get_secret_value()
    rotated = service.settings.model_copy(update={"data_key_keks": SecretStr(f"{NEW_KEK},{old_kek}")})

    assert await rewrap_keys(rotated, batch_size=2) == 0
    assert "rewrapped 3 data keys" in capsys.readouterr().out

    retired = KeyWrap(SecretStr(NEW_KEK), setting="SUBSIDY_DATA_KEY_KEKS")
    async with service.runtime.pool.acquire() as conn:
        for application_id, signature in documents.items():
            assert await store.PgApplications(conn, retired).signature(application_id, "application") == signature
        with pytest.raises(KekUnknown):  # the old KEK alone no longer opens it
            await store.PgApplications(conn, service.runtime.context.keys).signature(application_id, "application")
