"""The demo's webhook receiver believes a request only with a current Standard Webhooks signature, as notify signs."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from demo.webhooks import WebhookReceiver
from services.notify.webhooks import CONTENT_TYPE, new_secret, signed_headers


def test_the_receiver_accepts_notifys_signature_once_per_webhook_id_and_refuses_a_forged_or_stale_one(
    tmp_path: Path,
) -> None:
    secret = new_secret()
    body = json.dumps({"type": "dk.jobbro.subsidy.placement-extended.v1", "subject": "s", "data": {}})

    def post(key: str, delivery_id: str, at: datetime) -> int:
        headers = {"Content-Type": CONTENT_TYPE, **signed_headers(delivery_id, key, body, at)}
        return httpx.post(receiver.url, content=body.encode(), headers=headers).status_code

    now = datetime.now(UTC)
    with WebhookReceiver(secret, tmp_path / "receiver.log") as receiver:
        answers = [
            post(secret, "d1", now),
            post(secret, "d1", now),  # a repeat of the same delivery
            post(new_secret(), "d2", now),
            post(secret, "d3", now - timedelta(minutes=10)),
        ]

    assert answers == [204, 200, 401, 401]
    assert [d.delivery_id for d in receiver.deliveries] == ["d1"] and receiver.refused == 2
