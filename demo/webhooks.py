"""An integrator's webhook endpoint on loopback: checks each POST's Standard Webhooks signature before believing it.

The `standardwebhooks` library checks `webhook-signature` over `webhook-id`, `webhook-timestamp` and the body with
the subscription's `whsec_` secret; a wrong signature or a timestamp more than five minutes off is answered 401
(notify then retries), a repeated `webhook-id` is acknowledged and dropped. Each request is appended to a log file
as one JSON line, which is where the demo says webhooks went.
"""

import json
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Delivery:
    """One webhook request the receiver accepted, or refused (`verified` False)."""

    delivery_id: str
    type: str
    subject: str
    application_id: str | None
    verified: bool
    received_at: float


def signature_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether the request carries a current Standard Webhooks signature of `body` under `secret`."""
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 that keeps what it was sent.

    Notify calls a loopback target only when it is named exactly in its development allowlist
    (`NOTIFY_WEBHOOK_ALLOWED_TARGETS`), so the stack gives the receiver its own port (`port`; 0: any free one).
    """

    def __init__(self, secret: str, log_path: Path, port: int = 0) -> None:
        self.secret = secret
        self.log_path = log_path
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/jobbro-events"

    @property
    def deliveries(self) -> list[Delivery]:
        """Accepted deliveries, first to last, each delivery id once."""
        with self._lock:
            return [delivery for delivery in self._deliveries if delivery.verified]

    @property
    def refused(self) -> int:
        with self._lock:
            return sum(1 for delivery in self._deliveries if not delivery.verified)

    def __enter__(self) -> "WebhookReceiver":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _receive(self, headers: Any, body: bytes) -> int:
        """Record one request; the HTTP status to answer."""
        verified = signature_valid(self.secret, dict(headers.items()), body)
        event = json.loads(body) if verified else {}
        delivery = Delivery(
            delivery_id=headers.get("webhook-id", ""),
            type=event.get("type", ""),
            subject=event.get("subject", ""),
            application_id=(event.get("data") or {}).get("application_id"),
            verified=verified,
            received_at=time.time(),
        )
        with self._lock:
            if verified and any(seen.delivery_id == delivery.delivery_id for seen in self._deliveries):
                return 200
            self._deliveries.append(delivery)
            with self.log_path.open("a") as log:
                log.write(json.dumps(asdict(delivery)) + "\n")
        return 204 if verified else 401

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """http.server wants a class; this one hands each POST to this receiver."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(receiver._receive(self.headers, body))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
                """Quiet: the receiver's log file says what came."""

        return Handler
