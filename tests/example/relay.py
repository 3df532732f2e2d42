"""A bare outbox relay process whose sends are slowed down, so a test can SIGKILL it in the middle of a batch.

Environment: JOBBRO_PG_DSN, JOBBRO_KAFKA_BOOTSTRAP, EXAMPLE_SEND_DELAY (seconds per record), EXAMPLE_PORT
(unused; the process has no HTTP endpoint). Prints "relay-started" once connected.
"""

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from jobbro.db import create_pool, migrate
from jobbro.kafka import create_broker, outbox_publisher
from jobbro.outbox import OutboxRelay
from jobbro.settings import ServiceSettings


async def main() -> None:
    settings = ServiceSettings(service="example-relay")
    delay = float(os.environ.get("EXAMPLE_SEND_DELAY", "0"))
    pool = await create_pool(settings.pg_dsn)
    await migrate(pool)
    broker = create_broker(settings)
    await broker.connect()
    send = outbox_publisher(broker)

    async def slow_send(topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> Any:
        await asyncio.sleep(delay)
        return await send(topic, key, value, headers)

    print("relay-started", flush=True)
    await OutboxRelay(pool, slow_send, batch_size=settings.outbox_batch_size, poll_seconds=0.2).run()


if __name__ == "__main__":
    asyncio.run(main())
