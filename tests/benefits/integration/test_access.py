"""Who may import, reissue and read the ledger: operators import and reissue, auditors read, nobody anonymously."""

import base64
import json
from collections.abc import Callable
from uuid import uuid4

import asyncpg
import httpx

from jobbro.principal import Role
from jobbro.runtime import Runtime
from services.benefits.handlers import Context
from tests.benefits.factories import import_row
from tests.benefits.integration.conftest import register
from tests.identity import Callers

_HUGE_RATE = 99_999_999


async def _rates(pool: asyncpg.Pool) -> list[int]:
    return [row["monthly_rate_ore"] for row in await pool.fetch("SELECT monthly_rate_ore FROM citizens")]


async def test_an_anonymous_or_auditor_import_cannot_raise_a_known_citizens_rate(
    service: Runtime, ctx: Context, http: Callable[..., httpx.AsyncClient], callers: Callers
) -> None:
    known = import_row()
    await register(service.pool, ctx, known)
    forged = json.dumps([{**known, "monthly_rate_ore": _HUGE_RATE}])
    headers = {"content-type": "application/json"}

    async with http() as anonymous, http(callers.auditor()) as auditor, http(callers.caseworker()) as caseworker:
        refused = [
            await client.post("/v1/admin/citizens/import", content=forged, headers=headers)
            for client in (anonymous, auditor, caseworker)
        ]

    assert [response.status_code for response in refused] == [401, 403, 403]
    assert await _rates(service.pool) == [known["monthly_rate_ore"]]


async def test_an_operator_imports_and_the_import_names_who_did(
    service: Runtime, http: Callable[..., httpx.AsyncClient], token_for: Callable[..., str]
) -> None:
    token = token_for(Role.OPERATOR, subject="operator-ida")
    async with http({"Authorization": f"Bearer {token}"}) as operator:
        imported = await operator.post(
            "/v1/admin/citizens/import",
            content=json.dumps([import_row()]),
            headers={"content-type": "application/json"},
        )

    assert imported.status_code == 200, imported.text
    subject = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["sub"]  # Keycloak's id of the user
    assert await service.pool.fetchval("SELECT source FROM citizen_imports") == f"operator:{subject}"


async def test_the_ledger_is_read_by_operators_and_auditors_only(
    service: Runtime, http: Callable[..., httpx.AsyncClient], callers: Callers
) -> None:
    url = "/v1/ledger/reconciliation/2026-11"
    async with http() as anonymous, http(callers.caseworker()) as caseworker, http(callers.integrator()) as integrator:
        refused = [await client.get(url) for client in (anonymous, caseworker, integrator)]
    async with http(callers.auditor()) as auditor, http(callers.operator()) as operator:
        read = [await client.get(url) for client in (auditor, operator)]

    assert [response.status_code for response in refused] == [401, 403, 403]
    assert all(response.headers["content-type"] == "application/problem+json" for response in refused)
    assert [response.status_code for response in read] == [200, 200]


async def test_only_an_operator_reissues_a_payment(
    service: Runtime, http: Callable[..., httpx.AsyncClient], callers: Callers
) -> None:
    url = f"/v1/admin/payment-instructions/{uuid4()}/reissue"
    async with http() as anonymous, http(callers.auditor()) as auditor, http(callers.operator()) as operator:
        answers = [await client.post(url) for client in (anonymous, auditor, operator)]

    assert [response.status_code for response in answers] == [401, 403, 404]


async def test_a_month_shaped_like_a_cpr_number_is_refused_without_repeating_it(
    service: Runtime, http: Callable[..., httpx.AsyncClient], callers: Callers
) -> None:
    async with http(callers.auditor()) as auditor:
        refused = [await auditor.get(f"/v1/ledger/reconciliation/{cpr}") for cpr in ("0101901234", "010190-1234")]

    assert [response.status_code for response in refused] == [422, 422]
    assert not any(digits in response.text for response in refused for digits in ("010190", "1234"))
