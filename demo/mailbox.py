"""Reading what the mail sink kept (`.local/mail/*.eml`), as a person reads their inbox."""

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Mail:
    """One kept message: its file, recipient, subject, body text and notify's delivery id."""

    path: Path
    to: str
    subject: str
    delivery_id: str
    body: str

    def link(self, containing: str) -> str | None:
        """The first URL in the body that contains `containing`."""
        return next((url for url in _URL.findall(self.body) if containing in url), None)


def read(path: Path) -> Mail:
    """One kept message, its body decoded (notify may send it quoted-printable or base64)."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    return Mail(
        path=path,
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        delivery_id=str(message["Jobbro-Delivery-Id"] or ""),
        body=part.get_content() if part else "",
    )


def mails(folder: Path, since: float = 0.0) -> list[Mail]:
    """The messages kept in `folder` since `since` (a time.time()), oldest first."""
    if not folder.is_dir():
        return []
    paths = sorted(path for path in folder.glob("*.eml") if path.stat().st_mtime >= since)
    return [read(path) for path in paths]
