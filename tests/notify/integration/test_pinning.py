"""A webhook goes to the address just checked, over TLS verified for the URL's host name (not for the address).

The guard here counts loopback as public, so a real TLS server on 127.0.0.1 can stand for an integrator's host."""

import datetime
import ipaddress
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.notify.domain import Channel, Delivery, DeliveryFailed, Endpoint, Recipient, Role
from services.notify.targets import IPAddress, TargetGuard
from services.notify.webhooks import WebhookSender, new_secret
from tests.example.process import free_port
from tests.notify.dns import FakeDns
from tests.notify.integration.conftest import serving


class _LoopbackCountsAsPublic(TargetGuard):
    def refusal(self, address: IPAddress) -> str | None:
        return None if address == ipaddress.ip_address("127.0.0.1") else super().refusal(address)


class _Recorder:
    """Answers 204 and keeps each request's Host header."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        self.hosts.append(dict(scope["headers"]).get(b"host", b"").decode())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` (its own issuer) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _delivery(url: str) -> Delivery:
    subscription = uuid4()
    return Delivery(
        id=1,
        dedup_key=f"event:{uuid4()}:{subscription}:webhook",
        recipient=Recipient(Role.INTEGRATOR, Channel.WEBHOOK, str(subscription), None),
        template="dk.jobbro.test.v1",
        subject=None,
        body="{}",
        application_id=None,
        attempts=0,
        endpoint=Endpoint(subscription, url, new_secret()),
    )


@pytest.mark.parametrize("certified", ["hooks.test", "someone-else.test"])
async def test_the_request_goes_to_the_checked_address_and_tls_is_verified_for_the_host_name(
    tmp_path: Path, certified: str
) -> None:
    cert_file, key_file = _self_signed(tmp_path, certified)
    trusted = ssl.create_default_context(cafile=str(cert_file))
    guard = _LoopbackCountsAsPublic(https_only=True, resolver=FakeDns(hooks_test="127.0.0.1"))
    recorder, port = _Recorder(), free_port()
    tls = {"ssl_certfile": str(cert_file), "ssl_keyfile": str(key_file)}
    async with serving(recorder, port, **tls), httpx.AsyncClient(verify=trusted) as client:
        sender = WebhookSender(client, guard)
        if certified == "hooks.test":
            await sender.send(_delivery(f"https://hooks.test:{port}/jobbro-events"))
        else:
            with pytest.raises(DeliveryFailed, match="ConnectError"):
                await sender.send(_delivery(f"https://hooks.test:{port}/jobbro-events"))

    assert recorder.hosts == ([f"hooks.test:{port}"] if certified == "hooks.test" else [])


async def test_a_name_that_stops_resolving_is_a_failed_attempt_to_retry_not_a_refusal() -> None:
    dns = FakeDns()
    dns.point("gone.example")  # no address: as a DNS outage answers
    async with httpx.AsyncClient() as client:
        with pytest.raises(DeliveryFailed) as failed:
            await WebhookSender(client, TargetGuard(https_only=True, resolver=dns)).send(
                _delivery("https://gone.example/hook")
            )

    assert failed.value.reason.startswith("target unresolved: gone.example does not resolve")
    assert not failed.value.permanent
