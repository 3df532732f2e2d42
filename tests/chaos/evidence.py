"""What the chaos test reads back once the stack has settled, each from where it is kept: the services' databases
(outboxes, notify's pending deliveries, the back-office's own ledger), the mail sink's folder, the subsidy API."""

from collections import defaultdict
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from jobbro.infra import Infrastructure
from jobbroctl.stack import Layout

OUTBOXES = ("subsidy", "benefits", "activation", "notify", "backoffice")


async def unrelayed(infra: Infrastructure, layout: Layout) -> dict[str, int]:
    """Outbox rows not yet published or set aside as refused by the broker, per service."""
    query = "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM outbox_rejected)"
    return {name: await _value(infra, layout, name, query) for name in OUTBOXES}


async def pending_deliveries(infra: Infrastructure, layout: Layout) -> int:
    """Notices and webhook calls notify has recorded but not yet sent (or given up)."""
    return await _value(infra, layout, "notify", "SELECT count(*) FROM delivery WHERE status = 'pending'")


async def backoffice_payments(infra: Infrastructure, layout: Layout) -> list[asyncpg.Record]:
    """The back-office stand-in's own ledger: one row per idempotency key it paid (or refused)."""
    conn = await asyncpg.connect(infra.database_dsn(layout.database_prefix + "backoffice"))
    try:
        return await conn.fetch("SELECT idempotency_key, instruction_id, amount_ore, outcome FROM payments")
    finally:
        await conn.close()


def mails(folder: Path) -> dict[str, list[tuple[float, str]]]:
    """Per Message-ID, each copy the mail sink kept: (when it arrived, notify's delivery id)."""
    kept: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for path in folder.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        kept[str(message["Message-ID"])].append((path.stat().st_mtime, str(message["Jobbro-Delivery-Id"])))
    return kept


async def states(infra: Infrastructure, layout: Layout) -> dict[str, str]:
    """Every application the subsidy service holds, with its state, by id (its API lists a hundred at most)."""
    conn = await asyncpg.connect(infra.database_dsn(layout.database_prefix + "subsidy"))
    try:
        return dict(await conn.fetch("SELECT id::text, state FROM applications"))
    finally:
        await conn.close()


async def wage_reports(infra: Infrastructure, layout: Layout) -> dict[str, int]:
    """How many wage reports the subsidy service took, per application id."""
    conn = await asyncpg.connect(infra.database_dsn(layout.database_prefix + "subsidy"))
    try:
        return dict(await conn.fetch("SELECT application_id::text, count(*) FROM wage_reports GROUP BY 1"))
    finally:
        await conn.close()


async def reconciliation(
    http: httpx.AsyncClient, layout: Layout, month: str, headers: dict[str, str]
) -> dict[str, Any]:
    """The month's ledger totals, read with `headers` (an auditor's token)."""
    response = await http.get(layout.service("benefits").url + f"/v1/ledger/reconciliation/{month}", headers=headers)
    response.raise_for_status()
    return response.json()


async def _value(infra: Infrastructure, layout: Layout, service: str, query: str) -> int:
    conn = await asyncpg.connect(infra.database_dsn(layout.database_prefix + service))
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()
