"""Provisioning creates every topic and its dead-letter topic on a real broker, once, with its configuration."""

import asyncio
from dataclasses import replace
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.catalog import TOPICS
from contracts.provision import provision
from jobbro.kafka_access import KafkaAccess


async def _describe(kafka: KafkaAccess, names: list[str]) -> dict[str, tuple[int, dict[str, str]]]:
    """Topic → (partitions, its explicitly set configuration), once the broker describes every topic with its
    partitions and configuration: right after a creation (or a broker restart) it may describe them empty for a
    moment, so it is asked again."""
    for _ in range(100):
        found = await _describe_once(kafka, names)
        if all(partitions and config for partitions, config in found.values()):
            return found
        await asyncio.sleep(0.1)
    return found


async def _describe_once(kafka: KafkaAccess, names: list[str]) -> dict[str, tuple[int, dict[str, str]]]:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        topics = await admin.describe_topics(names)
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    finally:
        await admin.close()
    topic_config_source = 1
    configs = {
        resource["resource_name"]: {
            entry["config_names"]: entry["config_value"]
            for entry in resource["config_entries"]
            if entry["config_source"] == topic_config_source
        }
        for resource in response.to_object()["resources"]
    }
    return {t["topic"]: (len(t["partitions"]), configs[t["topic"]]) for t in topics}


async def _delete(kafka: KafkaAccess, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


async def test_creates_each_topic_and_its_dlq_once_with_its_configuration(kafka: KafkaAccess) -> None:
    prefix = f"test-{uuid4().hex[:8]}."
    topics = [replace(topic, name=prefix + topic.name) for topic in TOPICS]
    names = [name for topic in topics for name in (topic.name, topic.dlq)]
    try:
        first = await provision(kafka, topics, partitions_override=2)
        second = await provision(kafka, topics)

        assert (sorted(first.created), first.existing) == (sorted(names), ())
        assert (second.created, sorted(second.existing)) == ((), sorted(names))
        described = await _describe(kafka, names)
        for topic in topics:
            for name in (topic.name, topic.dlq):
                assert described[name] == (2, dict(topic.config)), name
    finally:
        await _delete(kafka, names)


async def test_an_existing_topic_is_given_the_retention_of_the_catalog_again(kafka: KafkaAccess) -> None:
    prefix = f"test-{uuid4().hex[:8]}."
    [topic] = [replace(topic, name=prefix + topic.name) for topic in TOPICS[:1]]
    shorter = replace(topic, config={**topic.config, "retention.ms": str(24 * 60 * 60 * 1000)})
    try:
        await provision(kafka, [topic])
        again = await provision(kafka, [shorter])

        assert again.created == ()
        expected = {topic.name: shorter.config["retention.ms"], topic.dlq: shorter.config["retention.ms"]}
        for _ in range(50):  # an altered configuration reaches the broker's description a moment later
            described = await _describe(kafka, [topic.name, topic.dlq])
            retention = {name: config.get("retention.ms") for name, (_, config) in described.items()}
            if retention == expected:
                break
            await asyncio.sleep(0.1)
        assert retention == expected
    finally:
        await _delete(kafka, [topic.name, topic.dlq])


async def test_the_catalog_topics_exist_after_provisioning(kafka: KafkaAccess) -> None:
    result = await provision(kafka)
    names = [name for topic in TOPICS for name in (topic.name, topic.dlq)]
    assert sorted(result.created + result.existing) == sorted(names)
    described = await _describe(kafka, names)
    assert sorted(described) == sorted(names)
