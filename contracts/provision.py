"""Create every catalog topic and its dead-letter topic with their configuration; existing topics are left alone.

`python -m contracts.provision --bootstrap HOST:PORT` runs it against a real broker; running it again is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from contracts.catalog import TOPICS, Topic


@dataclass(frozen=True)
class Provisioned:
    """Which topics this run created, and which already existed."""

    created: tuple[str, ...]
    existing: tuple[str, ...]


def new_topics(
    topics: Iterable[Topic], partitions_override: int | None, replication_factor: int, prefix: str = ""
) -> list[NewTopic]:
    """Every topic and its `.dlq` as the broker should create them, named within `prefix`."""
    return [
        NewTopic(
            name=prefix + name,
            num_partitions=partitions_override or topic.partitions,
            replication_factor=replication_factor,
            topic_configs=dict(topic.config),
        )
        for topic in topics
        for name in (topic.name, topic.dlq)
    ]


async def provision(
    bootstrap: str,
    topics: Iterable[Topic] = TOPICS,
    partitions_override: int | None = None,
    replication_factor: int = 1,
    prefix: str = "",
) -> Provisioned:
    """Create the topics that are missing; topics that exist keep whatever configuration they have.

    A `prefix` gives a whole deployment (or one test) its own set of topics on a shared broker.
    """
    wanted = new_topics(topics, partitions_override, replication_factor, prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        present = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in present]
        raced = await _create(admin, missing) if missing else set()
    finally:
        await admin.close()
    created = tuple(t.name for t in missing if t.name not in raced)
    return Provisioned(created=created, existing=tuple(t.name for t in wanted if t.name not in created))


async def _create(admin: AIOKafkaAdminClient, topics: list[NewTopic]) -> set[str]:
    """Create the topics; return those another client created first. Any other refusal raises."""
    response = await admin.create_topics(topics)
    raced = set()
    for name, code, *message in response.topic_errors:
        if code == TopicAlreadyExistsError.errno:
            raced.add(name)
        elif code:
            raise for_code(code)(f"cannot create topic {name}: {' '.join(filter(None, message))}")
    return raced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.provision", description=__doc__)
    parser.add_argument("--bootstrap", required=True, help="HOST:PORT of a broker")
    parser.add_argument("--partitions", type=int, help="partitions for every topic instead of the catalog's")
    parser.add_argument("--replication-factor", type=int, default=1, help="replicas of each partition (default 1)")
    parser.add_argument("--prefix", default="", help="namespace prepended to every topic name (default none)")
    args = parser.parse_args(argv)
    result = asyncio.run(provision(args.bootstrap, TOPICS, args.partitions, args.replication_factor, args.prefix))
    for name in result.created:
        print(f"created  {name}")
    for name in result.existing:
        print(f"existing {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
