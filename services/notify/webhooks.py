"""Webhooks: each event POSTed as a CloudEvent in JSON, signed with HMAC-SHA256 over a timestamp and the body.

Headers of every attempt:
- `Jobbro-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`; a receiver recomputes it with
  the subscription's secret and refuses stale timestamps, so a captured request cannot be replayed later.
- `Jobbro-Delivery-Id`: the delivery's dedup key, the same for every attempt; a receiver drops a repeat by it.
"""

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from contracts.catalog import PERSONAL_DATA
from contracts.common import PersonalData
from contracts.envelope import SPECVERSION, Event, Metadata
from services.notify.domain import DELIVERY_ID_HEADER, Delivery, DeliveryFailed

SIGNATURE_HEADER = "Jobbro-Signature"
CONTENT_TYPE = "application/cloudevents+json"


def cloudevent(meta: Metadata, event: Event, *, sensitive: bool) -> str:
    """The event in CloudEvents structured mode: its attributes and its data in one JSON document; the fields the
    catalog marks sensitive only when `sensitive` (the subscription was made with that grant)."""
    data = json.loads(event.model_dump_json())
    if not sensitive:
        for path, kind in PERSONAL_DATA.get(meta.type, {}).items():
            if kind == PersonalData.SENSITIVE:
                without(data, path)
    document = {
        "specversion": SPECVERSION,
        "id": str(meta.id),
        "source": meta.source,
        "type": meta.type,
        "subject": meta.subject,
        "time": meta.time.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def without(data: Any, path: str) -> None:
    """Remove the field at a catalog path (`a.b`, list items as `a[].b`; `a[]` marks the list `a` itself)."""
    _remove(data, path.removesuffix("[]").replace("[]", ".[]").split("."))


def _remove(node: Any, path: list[str]) -> None:
    """Remove the field at `path` (names, with `[]` for every item of a list) wherever it occurs in `node`."""
    head, rest = path[0], path[1:]
    if head == "[]":
        for item in node if isinstance(node, list) else ():
            _remove(item, rest)
    elif isinstance(node, dict) and head in node:
        if rest:
            _remove(node[head], rest)
        else:
            del node[head]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class WebhookSender:
    """POSTs a delivery to its subscription's URL; any answer but 2xx, or none, is a failed attempt."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(self, delivery: Delivery) -> None:
        endpoint = delivery.endpoint
        assert endpoint is not None, "a webhook delivery has a subscription (a CHECK in the schema)"
        body = delivery.body.encode()
        headers = {
            "Content-Type": CONTENT_TYPE,
            DELIVERY_ID_HEADER: delivery.dedup_key,
            SIGNATURE_HEADER: signature(endpoint.secret, int(time.time()), body),
        }
        try:
            response = await self._client.post(endpoint.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(type(exc).__name__) from None
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}")
