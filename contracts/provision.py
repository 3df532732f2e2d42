"""Create every catalog topic and its dead-letter topic, and the ACLs the catalog implies; idempotent.

Topics that exist are given the catalog's configuration again (their retention from `jobbro/retention.toml`, so
a changed period reaches the broker), and keep their partitions. The ACLs (the broker runs the StandardAuthorizer
and allows nothing no ACL allows) follow the catalog: a topic's `owner` alone writes it; each of its `consumers`
reads it, writes its `.dlq` (consumers dead-letter there) and uses the consumer groups named
`<prefix><principal>.…`; integrators read the public topics (`PUBLIC_TOPICS`) only. Nobody else, and no anonymous
client, gets anything. Creating an ACL that exists changes nothing, so running provisioning again is harmless.

`python -m contracts.provision --bootstrap HOST:PORT` runs it against a real broker, as the super user named by
`--username` (password in `JOBBRO_KAFKA_SASL_PASSWORD`), over SASL_SSL when `--ca-file` or `--sasl-ssl` says so.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.protocol.admin import (
    CreateAclsRequest,
    CreateAclsRequest_v1,
    DeleteAclsRequest,
    DeleteAclsRequest_v1,
    DescribeAclsRequest,
)
from pydantic import SecretStr

from contracts.catalog import PERSONAL_DATA, TOPICS, Topic
from jobbro.kafka_access import KafkaAccess

INTEGRATORS: tuple[str, ...] = ("integrator-example",)
"""Integrator principals: each reads the public topics, with consumer groups named after it."""
PRINCIPALS: tuple[str, ...] = (
    tuple(dict.fromkeys(name for topic in TOPICS for name in (topic.owner, *topic.consumers))) + INTEGRATORS
)
"""Every principal the ACLs name (besides the provisioning super user, who needs none)."""
_NOT_PUBLIC = {"cpr", "sensitive", "identity", "sealed"}


def is_public(topic: Topic) -> bool:
    """A topic an integrator may read: none of its events carries a CPR number or a field marked sensitive, identity
    or sealed (only pseudonymous references, contact data of the employer's own application at most), and it has
    readers at all (a topic without consumers is for operators)."""
    kinds = {kind for type_ in topic.event_types for kind in PERSONAL_DATA[type_].values()}
    return bool(topic.consumers) and not kinds & _NOT_PUBLIC


PUBLIC_TOPICS: tuple[str, ...] = tuple(topic.name for topic in TOPICS if is_public(topic))
"""Topics integrators may read."""


class _Resource(enum.IntEnum):
    TOPIC = 2
    GROUP = 3


class _Pattern(enum.IntEnum):
    LITERAL = 3
    PREFIXED = 4


class _Operation(enum.IntEnum):
    READ = 3
    WRITE = 4


_ALLOW = 3


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW binding: `principal` may `operation` the resource, from any host."""

    principal: str
    resource: _Resource
    name: str
    pattern: _Pattern
    operation: _Operation

    def wire(self) -> tuple[int, str, int, str, str, int, int]:
        """The binding as CreateAcls/DeleteAcls v1 carry it."""
        return (self.resource, self.name, self.pattern, f"User:{self.principal}", "*", self.operation, _ALLOW)


def acls(topics: Iterable[Topic] = TOPICS, prefix: str = "") -> list[Acl]:
    """The ACLs the catalog implies within the namespace `prefix` (READ and WRITE imply DESCRIBE; WRITE on a topic
    also lets a producer be idempotent)."""
    topics = tuple(topics)
    wanted: set[Acl] = set()

    def allow(principal: str, resource: _Resource, name: str, pattern: _Pattern, operation: _Operation) -> None:
        wanted.add(Acl(principal, resource, prefix + name, pattern, operation))

    for topic in topics:
        allow(topic.owner, _Resource.TOPIC, topic.name, _Pattern.LITERAL, _Operation.WRITE)
        for consumer in topic.consumers:
            allow(consumer, _Resource.TOPIC, topic.name, _Pattern.LITERAL, _Operation.READ)
            allow(consumer, _Resource.TOPIC, topic.dlq, _Pattern.LITERAL, _Operation.WRITE)
    for integrator in INTEGRATORS:
        for topic in topics:
            if is_public(topic):
                allow(integrator, _Resource.TOPIC, topic.name, _Pattern.LITERAL, _Operation.READ)
    readers = {consumer for topic in topics for consumer in topic.consumers} | set(INTEGRATORS)
    for reader in readers:
        allow(reader, _Resource.GROUP, f"{reader}.", _Pattern.PREFIXED, _Operation.READ)
    return sorted(wanted)


@dataclass(frozen=True)
class Provisioned:
    """Which topics this run created, and which already existed."""

    created: tuple[str, ...]
    existing: tuple[str, ...]
    acls: tuple[Acl, ...] = ()
    """The ACLs now in place for the namespace (created, or already there)."""


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
    kafka: KafkaAccess,
    topics: Iterable[Topic] = TOPICS,
    partitions_override: int | None = None,
    replication_factor: int = 1,
    prefix: str = "",
) -> Provisioned:
    """Create the topics that are missing, set the catalog's configuration on those that exist, and on a broker
    with authentication, the catalog's ACLs. `kafka` must be a super user.

    A `prefix` gives a whole deployment (or one test) its own set of topics and ACLs on a shared broker.
    """
    topics = tuple(topics)
    wanted = new_topics(topics, partitions_override, replication_factor, prefix)
    bindings = acls(topics, prefix) if kafka.security_protocol != "PLAINTEXT" else []
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        if bindings:  # first, so no service is refused the topics it is about to see
            await _send_acls(admin, _CreateAcls(bindings))
            await _until_in_force(admin, bindings)
        present = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in present]
        raced = await _create(admin, missing) if missing else set()
        await _configure(admin, [topic for topic in wanted if topic.name in present])
    finally:
        await admin.close()
    created = tuple(t.name for t in missing if t.name not in raced)
    existing = tuple(t.name for t in wanted if t.name not in created)
    return Provisioned(created=created, existing=existing, acls=tuple(bindings))


async def remove_acls(kafka: KafkaAccess, topics: Iterable[Topic] = TOPICS, prefix: str = "") -> None:
    """Delete the ACLs `provision` made for the namespace `prefix` (when its topics are deleted)."""
    if kafka.security_protocol == "PLAINTEXT":
        return
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        await _send_acls(admin, _DeleteAcls(acls(topics, prefix)))
    finally:
        await admin.close()


async def _configure(admin: AIOKafkaAdminClient, topics: list[NewTopic]) -> None:
    """Set each existing topic's configuration to the catalog's (the whole set: AlterConfigs replaces it)."""
    if not topics:
        return
    resources = [ConfigResource(ConfigResourceType.TOPIC, t.name, configs=dict(t.topic_configs)) for t in topics]
    for response in await admin.alter_configs(resources):
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise for_code(resource["error_code"])(f"{resource['resource_name']}: {resource['error_message']}")


_ANY = 1


async def _until_in_force(admin: AIOKafkaAdminClient, bindings: list[Acl], timeout: float = 30.0) -> None:
    """Wait until the broker's authorizer holds every binding: the controller has accepted them when CreateAcls
    answers, but the broker applies them a moment later, and a client would be refused meanwhile."""
    wanted = {binding.wire() for binding in bindings}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await admin._send_request(DescribeAclsRequest(_ANY, None, _ANY, None, None, _ANY, _ANY))  # noqa: SLF001
        held = {
            (resource_type, name, pattern, principal, host, operation, permission)
            for resource_type, name, pattern, acls_ in response.resources
            for principal, host, operation, permission in acls_
        }
        if wanted <= held:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{len(wanted - held)} ACLs not in force after {timeout:.0f}s")
        await asyncio.sleep(0.1)


class _CreateAcls(CreateAclsRequest):
    """CreateAcls v1 with many bindings in one request (aiokafka's request carries one)."""

    def __init__(self, bindings: list[Acl]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type) -> CreateAclsRequest_v1:
        return CreateAclsRequest_v1([binding.wire() for binding in self._bindings])


class _DeleteAcls(DeleteAclsRequest):
    """DeleteAcls v1 with one exact filter per binding."""

    def __init__(self, bindings: list[Acl]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type) -> DeleteAclsRequest_v1:
        return DeleteAclsRequest_v1([binding.wire() for binding in self._bindings])


async def _send_acls(admin: AIOKafkaAdminClient, request: _CreateAcls | _DeleteAcls) -> None:
    """Send to the broker (KRaft forwards ACL changes to the controller); any refusal raises."""
    response = await admin._send_request(request)  # noqa: SLF001 - aiokafka has no ACL API of its own
    results = getattr(response, "creation_responses", None) or getattr(response, "filter_responses", [])
    for code, message, *_ in results:
        if code:
            raise for_code(code)(f"ACL change refused: {message}")


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
    parser.add_argument("--username", help="SASL (SCRAM-SHA-512) super user; password in JOBBRO_KAFKA_SASL_PASSWORD")
    parser.add_argument("--ca-file", type=Path, help="PEM CA of the broker's TLS certificate")
    args = parser.parse_args(argv)
    kafka = KafkaAccess(args.bootstrap, ca_file=args.ca_file)
    if args.username:
        password = os.environ.get("JOBBRO_KAFKA_SASL_PASSWORD")
        if not password:
            parser.error("--username needs the password in JOBBRO_KAFKA_SASL_PASSWORD")
        kafka = KafkaAccess(args.bootstrap, "SASL_SSL", args.username, SecretStr(password), args.ca_file)
    result = asyncio.run(provision(kafka, TOPICS, args.partitions, args.replication_factor, args.prefix))
    for name in result.created:
        print(f"created  {name}")
    for name in result.existing:
        print(f"existing {name}")
    for acl in result.acls:
        print(f"acl      User:{acl.principal} {acl.operation.name} {acl.resource.name} {acl.pattern.name} {acl.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
