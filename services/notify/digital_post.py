"""Digital Post behind a port, and a file-drop stand-in for the national service (one JSON file per letter).

The national service (NgDP) addresses a citizen by CPR number and a company by CVR number. Notify keeps no CPR
numbers: letters to citizens are addressed by the pseudonymous citizen reference. An adapter for the real service
would turn the reference into a CPR number at the moment of sending, by asking the service that issued it (subsidy,
which holds the consented CPR number), so the number never rests in notify's database, events or logs.
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from services.notify.domain import Delivery, DeliveryFailed, Role, dotted


@dataclass(frozen=True)
class Letter:
    """One letter, shaped like a Digital Post message: an id the service refuses to take twice, and its text."""

    letter_id: str
    recipient_kind: str
    """`citizen_ref` (the stand-in's way to address a citizen) or `cvr`."""
    recipient: str
    language: str
    title: str
    body: str


class DigitalPost(Protocol):
    """The port: hand a letter to Digital Post; raises `OSError` when it cannot be handed over now."""

    async def deliver(self, letter: Letter) -> None: ...


class FileDropDigitalPost:
    """A stand-in, not the national service: writes each letter as `<letter id>.json` into a directory.

    Writing goes through a temporary file and an atomic rename, and the same letter id names the same file, so a
    letter delivered again after a crash replaces itself instead of making a second letter. A letter is a small file
    in a local directory, written in the event loop: handing it to a thread would cost more than the write.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def deliver(self, letter: Letter) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / f"{dotted(letter.letter_id)}.json"
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(asdict(letter), ensure_ascii=False, indent=2) + "\n")
        os.replace(temporary, path)

    def forget(self, citizen_ref: str) -> int:
        """Delete the letters to an erased citizen still in the drop; how many. (The national service's copies are
        its own: a real adapter would ask it to delete them.)"""
        removed = 0
        for path in sorted(self._directory.glob("*.json")) if self._directory.is_dir() else ():
            letter = json.loads(path.read_text())
            if (letter["recipient_kind"], letter["recipient"]) == ("citizen_ref", citizen_ref):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class DigitalPostSender:
    """Turns a delivery into a letter for whichever Digital Post it is given."""

    def __init__(self, post: DigitalPost) -> None:
        self._post = post

    async def send(self, delivery: Delivery) -> None:
        recipient = delivery.recipient
        letter = Letter(
            letter_id=delivery.dedup_key,
            recipient_kind="citizen_ref" if recipient.role is Role.CITIZEN else "cvr",
            recipient=recipient.address,
            language=recipient.language or "",
            title=delivery.subject or "",
            body=delivery.body,
        )
        try:
            await self._post.deliver(letter)
        except OSError as exc:
            raise DeliveryFailed(type(exc).__name__) from None
