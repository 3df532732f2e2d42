"""The development mail sink keeps each mail as a file, and deletes mails older than their retention period."""

import os
import time
from pathlib import Path
from types import SimpleNamespace

from demo.mailsink import _Keep
from jobbro.retention import policies


async def test_a_new_mail_is_kept_and_mails_past_their_period_are_deleted(tmp_path: Path) -> None:
    old, young = tmp_path / "old.eml", tmp_path / "young.eml"
    for mail in (old, young):
        mail.write_bytes(b"Subject: x\r\n\r\nbody")
    past = time.time() - policies()["mails"].period.total_seconds() - 60
    os.utime(old, (past, past))

    answer = await _Keep(tmp_path).handle_DATA(None, None, SimpleNamespace(original_content=b"Subject: new\r\n\r\nhi"))

    assert answer == "250 kept"
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert "old.eml" not in kept and "young.eml" in kept and len(kept) == 2
