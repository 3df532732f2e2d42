"""Webhooks: each event POSTed as a CloudEvent in JSON, signed as the Standard Webhooks specification says.

Headers of every attempt (any Standard Webhooks library verifies them with the subscription's `whsec_` secret):
- `webhook-id`: the delivery's dedup key, the same for every attempt; a receiver drops a repeat by it.
- `webhook-timestamp`: the attempt's time in unix seconds; a receiver refuses stale ones, so a captured request
  cannot be replayed later.
- `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
- `traceparent` (W3C Trace Context) when the delivery is traced.
"""

import base64
import binascii
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from contracts.catalog import PERSONAL_DATA
from contracts.common import PersonalData
from contracts.envelope import SPECVERSION, Event, Metadata
from jobbro import tracing
from services.notify.domain import Delivery, DeliveryFailed
from services.notify.targets import TargetGuard, TargetRefused, Unresolved

CONTENT_TYPE = "application/cloudevents+json"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = (24, 64)
"""How long a secret's key is, in bytes (the specification's bounds); a generated one has 32."""


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


def new_secret() -> str:
    """A fresh `whsec_` secret: 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    """Why `secret` is not a Standard Webhooks secret (`whsec_` and the base64 of 24 to 64 bytes), or None."""
    if not secret.startswith(SECRET_PREFIX):
        return f"a secret starts with {SECRET_PREFIX}"
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        return f"a secret is {SECRET_PREFIX} and base64"
    low, high = SECRET_BYTES
    return None if low <= len(key) <= high else f"a secret's key is {low} to {high} bytes"


def signer(secret: str) -> Webhook:
    """The library's signer for a subscription's secret; one made before `whsec_` secrets signs with its bytes."""
    return Webhook(secret) if secret.startswith(SECRET_PREFIX) else Webhook(secret.encode())


def signed_headers(delivery_id: str, secret: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer(secret).sign(delivery_id, now.astimezone(UTC), body),
    }


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
        headers = {
            "Host": target.host_header(),
            "Content-Type": CONTENT_TYPE,
            **signed_headers(delivery.dedup_key, endpoint.secret, delivery.body, datetime.now(UTC)),
        }
        tracing.inject(headers)  # the delivery's span as `traceparent`: the receiver may continue the trace
        extensions = {"sni_hostname": target.host} if target.address is not None else {}
        request = self._client.build_request(
            "POST", target.pinned_url(), content=delivery.body.encode(), headers=headers, extensions=extensions
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
