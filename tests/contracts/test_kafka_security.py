"""The broker authenticates every client and lets each principal do only what the topic catalog says (real broker).

Each test works in its own provisioned namespace (`topic_prefix`), whose ACLs provisioning made from the catalog.
"""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from contracts.catalog import TOPICS
from contracts.provision import PRINCIPALS, PUBLIC_TOPICS, acls, provision
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess

APPLICATIONS = "subsidy.applications.v1"
SETTLEMENTS = "payments.settlements.v1"
INSTRUCTIONS = "benefits.payment-instructions.v1"
REFUSED = (TopicAuthorizationFailedError, ClusterAuthorizationFailedError, GroupAuthorizationFailedError)


async def _write(kafka: KafkaAccess, topic: str) -> None:
    """Send one record as the services send (idempotent, acks from all replicas); raise if refused."""
    producer = AIOKafkaProducer(**kafka.client_kwargs(), acks="all", enable_idempotence=True, request_timeout_ms=10000)
    try:
        await producer.start()
        await asyncio.wait_for(producer.send_and_wait(topic, b"{}", key=b"k"), 30)
    finally:
        await producer.stop()


async def _read(kafka: KafkaAccess, topic: str, group: str | None = None) -> None:
    """Fetch from the topic (in `group`, committing, if given); raise if refused."""
    consumer = AIOKafkaConsumer(
        topic, **kafka.client_kwargs(), group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    )
    try:
        await consumer.start()
        await asyncio.wait_for(consumer.getmany(timeout_ms=500), 30)
        if group:
            await consumer.commit()
    finally:
        await consumer.stop()


def test_the_broker_requires_sasl_ssl(infra: Infrastructure) -> None:
    """Everything below assumes the authenticating broker; a PLAINTEXT one is a failure, not a reason to skip."""
    assert infra.kafka.security_protocol == "SASL_SSL", f"{infra.origin} gives a broker without authentication"


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL"])
async def test_a_client_without_credentials_is_refused(infra: Infrastructure, topic_prefix: str, protocol: str) -> None:
    anonymous = AIOKafkaProducer(
        bootstrap_servers=infra.kafka.bootstrap,
        security_protocol=protocol,
        ssl_context=infra.kafka.ssl_context() if protocol == "SSL" else None,
        request_timeout_ms=5000,
    )
    try:
        with pytest.raises(KafkaConnectionError):
            await anonymous.start()
    finally:
        await anonymous.stop()


async def test_a_wrong_password_is_refused(infra: Infrastructure, topic_prefix: str) -> None:
    with pytest.raises(KafkaConnectionError):
        await _write(infra.kafka_as("subsidy").as_principal("subsidy", "not-the-password"), topic_prefix + APPLICATIONS)


async def test_the_back_office_cannot_write_applications(infra: Infrastructure, topic_prefix: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(infra.kafka_as("payment-back-office"), topic_prefix + APPLICATIONS)


async def test_only_the_back_office_writes_settlements(infra: Infrastructure, topic_prefix: str) -> None:
    await _write(infra.kafka_as("payment-back-office"), topic_prefix + SETTLEMENTS)
    for principal in set(PRINCIPALS) - {"payment-back-office"}:
        with pytest.raises(REFUSED):
            await _write(infra.kafka_as(principal), topic_prefix + SETTLEMENTS)


async def test_each_service_writes_its_own_topics_and_the_dead_letters_of_what_it_reads(
    infra: Infrastructure, topic_prefix: str
) -> None:
    for topic in TOPICS:
        await _write(infra.kafka_as(topic.owner), topic_prefix + topic.name)
        for consumer in topic.consumers:
            await _write(infra.kafka_as(consumer), topic_prefix + topic.dlq)


async def test_a_service_reads_what_it_consumes_in_its_own_groups_only(
    infra: Infrastructure, topic_prefix: str
) -> None:
    benefits = infra.kafka_as("benefits")
    await _read(benefits, topic_prefix + SETTLEMENTS, group=f"{topic_prefix}benefits.settlements")
    with pytest.raises(GroupAuthorizationFailedError):
        await _read(benefits, topic_prefix + SETTLEMENTS, group=f"{topic_prefix}activation.settlements")
    with pytest.raises(TopicAuthorizationFailedError):  # activation consumes no payment instructions
        await _read(infra.kafka_as("activation"), topic_prefix + INSTRUCTIONS)


async def test_an_integrator_reads_public_topics_and_no_cpr_bearing_one(
    infra: Infrastructure, topic_prefix: str
) -> None:
    integrator = infra.kafka_as("integrator-example")
    for topic in PUBLIC_TOPICS:
        await _read(integrator, topic_prefix + topic, group=f"{topic_prefix}integrator-example.tail")
    for topic in (APPLICATIONS, INSTRUCTIONS):
        with pytest.raises(TopicAuthorizationFailedError):
            await _read(integrator, topic_prefix + topic)


async def test_provisioning_twice_is_harmless(infra: Infrastructure, topic_prefix: str) -> None:
    again = await provision(infra.kafka, prefix=topic_prefix)
    assert again.created == ()
    assert len(again.acls) == len(set(again.acls)) > 0
    await _write(infra.kafka_as("payment-back-office"), topic_prefix + SETTLEMENTS)
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(infra.kafka_as("benefits"), topic_prefix + SETTLEMENTS)


def test_the_acls_let_only_a_topics_owner_write_it_and_integrators_read_no_personal_topic() -> None:
    bindings = acls(prefix="p.")
    for topic in TOPICS:
        writers = {acl.principal for acl in bindings if acl.name == "p." + topic.name and acl.operation.name == "WRITE"}
        assert writers == {topic.owner}
        dlq_writers = {acl.principal for acl in bindings if acl.name == "p." + topic.dlq}
        assert dlq_writers == set(topic.consumers)
    assert {acl.resource.name for acl in bindings if acl.pattern.name == "PREFIXED"} == {"GROUP"}
    assert APPLICATIONS not in PUBLIC_TOPICS and INSTRUCTIONS not in PUBLIC_TOPICS
    assert "benefits.assessments.v1" not in PUBLIC_TOPICS  # sensitive fields: only with a grant
