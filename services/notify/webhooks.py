"""Webhooks: each event POSTed as a CloudEvent in JSON, signed with HMAC-SHA256 over a timestamp and the body.

Headers of every attempt:
- `Jobbro-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`; a receiver recomputes it with
  the subscription's secret and refuses stale timestamps, so a captured request cannot be replayed later.
- `Jobbro-Delivery-Id`: the delivery's dedup key, the same for every attempt; a receiver drops a repeat by it.
- `traceparent` (W3C Trace Context) when the delivery is traced.
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
from jobbro import tracing
from services.notify.domain import DELIVERY_ID_HEADER, Delivery, DeliveryFailed
from services.notify.targets import TargetGuard, TargetRefused, Unresolved

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
    """POSTs a delivery to its subscription's URL; any answer but 2xx, or none, is a failed attempt.

    The URL is checked again at every attempt (`TargetGuard`) and the request goes to the address just checked,
    with the URL's host name as `Host`, TLS SNI and the name the certificate must show. Redirects are not followed
    (a 3xx is a failed attempt) and the answer's body is not read.
    """

    def __init__(self, client: httpx.AsyncClient, guard: TargetGuard) -> None:
        self._client = client
        self._guard = guard

    async def send(self, delivery: Delivery) -> None:
        endpoint = delivery.endpoint
        assert endpoint is not None, "a webhook delivery has a subscription (a CHECK in the schema)"
        try:
            target = await self._guard.check(endpoint.url)
        except Unresolved as unresolved:  # DNS may answer again: retried like a failed connection
            raise DeliveryFailed(f"target unresolved: {unresolved}") from None
        except TargetRefused as refused:  # the URL now reaches somewhere webhooks never go
            raise DeliveryFailed(f"target refused: {refused}", permanent=True) from None
        body = delivery.body.encode()
        headers = {
            "Host": target.host_header(),
            "Content-Type": CONTENT_TYPE,
            DELIVERY_ID_HEADER: delivery.dedup_key,
            SIGNATURE_HEADER: signature(endpoint.secret, int(time.time()), body),
        }
        tracing.inject(headers)  # the delivery's span as `traceparent`: the receiver may continue the trace
        extensions = {"sni_hostname": target.host} if target.address is not None else {}
        request = self._client.build_request(
            "POST", target.pinned_url(), content=body, headers=headers, extensions=extensions
        )
        try:
            response = await self._client.send(request, follow_redirects=False, stream=True)
            await response.aclose()
        except httpx.HTTPError as exc:
            raise DeliveryFailed(type(exc).__name__) from None
        if response.is_redirect or 300 <= response.status_code < 400:
            raise DeliveryFailed(f"HTTP {response.status_code}: redirects are not followed")
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}")
