"""A DEVELOPMENT mail server for the local stack: accepts every message on loopback and keeps it as a file.

Each message lands in `MAILSINK_DIR` as `<time>-<n>.eml`, so the demo (and a person) can read what notify sent;
mails older than the period of `mails` in `jobbro/retention.toml` are deleted as new ones arrive.
"""

import argparse
import asyncio
import itertools
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from jobbro.retention import FileSweep, delete_files, policies

_PRUNED_AT_ONCE = 100


class _Keep:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._numbers):05d}.eml"
        (self._folder / name).write_bytes(envelope.original_content)
        before = datetime.now(UTC) - policies()["mails"].period
        delete_files(FileSweep("mails", self._folder, "*.eml"), before, _PRUNED_AT_ONCE)
        return "250 kept"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(_Keep(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
