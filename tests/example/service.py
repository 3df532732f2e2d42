"""A tiny service built on the messaging kit, run as a real OS process by the messaging tests.

It adds amounts to counters and announces each new value through the outbox. Environment: the kit's
`JOBBRO_*` settings, plus EXAMPLE_COMMANDS / EXAMPLE_CHANGES (topics), EXAMPLE_GROUP, EXAMPLE_PORT, and
EXAMPLE_CRASH_MARKER: when set and the file is absent, the process creates it and SIGKILLs itself right after
its first handler transaction commits — before the offset commit — to show redelivery changes nothing.
Adding to the counter named UNADDABLE fails for good (a handler's bug, as far as the consumer can tell).
EXAMPLE_HANDLER_SECONDS makes each handler take that long (a stream that is still being worked through).
"""

import asyncio
import os
import signal
from pathlib import Path

import uvicorn

from contracts.envelope import Metadata
from jobbro.runtime import Runtime, create_http_app
from jobbro.settings import ServiceSettings
from jobbro.uow import UnitOfWork
from tests.example.events import AddToCounter, ExampleTopics

SQL = Path(__file__).parent / "sql"
UNADDABLE = "unaddable"


def build(
    settings: ServiceSettings, topics: ExampleTopics, group: str, crash_marker: Path | None, handler_seconds: float = 0
) -> Runtime:
    add, changed = topics.bind()

    async def on_add(event: AddToCounter, meta: Metadata, uow: UnitOfWork, _ctx: None) -> None:
        if event.counter == UNADDABLE:
            raise ValueError(f"cannot add to {UNADDABLE}")
        await asyncio.sleep(handler_seconds)
        row = await uow.conn.fetchrow(
            """INSERT INTO counters (counter, value, version) VALUES ($1, $2, 1)
               ON CONFLICT (counter) DO UPDATE
               SET value = counters.value + EXCLUDED.value, version = counters.version + 1
               RETURNING value, version""",
            event.counter,
            event.amount,
        )
        uow.publish(changed(counter=event.counter, value=row["value"], version=row["version"]))
        if crash_marker and not crash_marker.exists():
            uow.after_commit(lambda: _crash(crash_marker))

    runtime = Runtime(settings, SQL)
    runtime.consume(topics.commands, group=group, catalog={add.type: add}, handlers={add: on_add})
    return runtime


def _crash(marker: Path) -> None:
    marker.touch()
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    env = os.environ
    runtime = build(
        ServiceSettings(service="example"),
        ExampleTopics(commands=env["EXAMPLE_COMMANDS"], changes=env["EXAMPLE_CHANGES"]),
        env["EXAMPLE_GROUP"],
        Path(env["EXAMPLE_CRASH_MARKER"]) if env.get("EXAMPLE_CRASH_MARKER") else None,
        float(env.get("EXAMPLE_HANDLER_SECONDS", "0")),
    )
    uvicorn.run(create_http_app(runtime), host="127.0.0.1", port=int(env["EXAMPLE_PORT"]), log_config=None)


if __name__ == "__main__":
    main()
