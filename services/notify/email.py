"""E-mail over SMTP: plain text in the recipient's language, its Message-ID made from the delivery's dedup key.

A mail sent again after a crash carries the same Message-ID and `Jobbro-Delivery-Id`, so a receiving system (or a
person's mail client threading on Message-ID) can drop the repeat.
"""

import socket
import time
from datetime import UTC, datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from services.notify.domain import DELIVERY_ID_HEADER, Delivery, DeliveryFailed, dotted
from services.notify.settings import NotifySettings

_WIRE = policy.SMTP.clone(max_line_length=998)
"""RFC 5322's line limit rather than 78: an id without spaces is then never folded, and reads back unchanged."""


class _HeaderClasses(HeaderRegistry):
    """The standard registry, but each header's class made once: `HeaderRegistry` makes a new class per lookup."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        if key not in self._made:
            self._made[key] = super().__getitem__(key)
        return self._made[key]


_IDLE_SECONDS = 30.0
"""How long an idle connection is kept: well within the five minutes a server waits for the next command (RFC 5321
4.5.3.2.7), and idle connections do not pile up on it between bursts."""

_COMPOSE = policy.default.clone(header_factory=_HeaderClasses())
"""The policy an `EmailMessage` has by default, with the header classes made once."""


def message_id(dedup_key: str, domain: str) -> str:
    """The same for every attempt at one notice; `make_msgid` would make a new one each time."""
    return f"<{dotted(dedup_key)}@{domain}>"


def compose(delivery: Delivery, settings: NotifySettings, at: datetime) -> bytes:
    """The mail for a delivery, as sent on the wire."""
    message = EmailMessage(policy=_COMPOSE)
    message["From"] = settings.mail_from
    message["To"] = delivery.recipient.address
    message["Subject"] = delivery.subject or ""
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(delivery.dedup_key, settings.message_id_domain)
    message[DELIVERY_ID_HEADER] = delivery.dedup_key
    message.set_content(delivery.body)
    message["Content-Language"] = delivery.recipient.language or ""  # after set_content, which drops Content-*
    return message.as_bytes(policy=_WIRE)


class SmtpMailer:
    """Hands each mail to the configured SMTP server; a 5xx answer is permanent, anything else worth a retry.

    Connections are kept open between mails (one per send in flight; one idle longer than `_IDLE_SECONDS` is closed
    rather than used): a mail on an open connection is MAIL, RCPT and DATA, not also the connection, greeting, EHLO,
    STARTTLS, AUTH and QUIT.
    A kept connection the server closed meanwhile is not a failed attempt: the mail goes on a new one.
    """

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings
        self._local_hostname = socket.getfqdn()
        """Our name in EHLO, looked up once: aiosmtplib would look it up in a thread for every mail."""
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        """Open connections no send is using, with when each was last used (newest last)."""

    async def send(self, delivery: Delivery) -> None:
        settings = self._settings
        message = compose(delivery, settings, datetime.now(UTC))
        sender, recipients = parseaddr(settings.mail_from)[1], [delivery.recipient.address]
        client = self._kept()
        try:
            if client is not None:
                try:
                    await client.sendmail(sender, recipients, message)
                except aiosmtplib.SMTPServerDisconnected:  # closed while idle: send on a new connection
                    client.close()
                    client = None
            if client is None:
                client = await self._connect()
                await client.sendmail(sender, recipients, message)
        except aiosmtplib.SMTPRecipientsRefused as exc:  # the server's text may quote the address: keep the code only
            _close(client)
            code = exc.recipients[0].code if exc.recipients else 550
            raise DeliveryFailed(f"SMTP {code} recipient refused", permanent=code >= 500) from None
        except aiosmtplib.SMTPResponseException as exc:
            _close(client)
            raise DeliveryFailed(f"SMTP {exc.code}", permanent=exc.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            _close(client)
            raise DeliveryFailed(type(exc).__name__) from None
        except BaseException:  # cancelled mid-mail: the connection is in an unknown state
            _close(client)
            raise
        if client.is_connected:
            self._idle.append((client, time.monotonic()))

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_start_tls,
            local_hostname=self._local_hostname,
            timeout=settings.send_timeout_seconds,
        )
        await client.connect()
        return client

    def _kept(self) -> aiosmtplib.SMTP | None:
        """The most recently used open connection, if one was used lately; older ones are closed."""
        now = time.monotonic()
        while self._idle:
            client, used = self._idle.pop()
            if now - used < _IDLE_SECONDS and client.is_connected:
                return client
            client.close()
        return None


def _close(client: aiosmtplib.SMTP | None) -> None:
    """Drop a connection after a failure, rather than keep it for the next mail."""
    if client is not None:
        client.close()
