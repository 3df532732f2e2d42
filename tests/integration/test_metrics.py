"""`/metrics` and `/health/ready` of a kit runtime on real Kafka and PostgreSQL: what an operator's Prometheus and
`jobbro status` read."""

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from contracts.envelope import encode
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime, create_http_app
from jobbro.settings import ServiceSettings
from jobbro.testing import create_topics, produce, running, unique
from tests.example.events import ExampleTopics
from tests.example.service import UNADDABLE, build


def _runtime(database: str, kafka: KafkaAccess, topics: ExampleTopics, **settings: object) -> Runtime:
    config = ServiceSettings(service="example", pg_dsn=database, **kafka.settings(), **settings)  # type: ignore[arg-type]
    return build(config, topics, unique("g"), None)


async def _samples(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _one(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    found = [value for (n, ls), value in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


async def test_metrics_show_consumed_events_dead_letters_outbox_lag_readiness_and_requests(
    database: str, kafka: KafkaAccess
) -> None:
    topics = ExampleTopics(commands=unique("commands"), changes=unique("changes"))
    await create_topics(kafka, topics.commands, topics.commands + ".dlq", topics.changes)
    add, _ = topics.bind()
    runtime = _runtime(database, kafka, topics, retry_base_seconds=0.01)
    async with running(runtime):
        app = create_http_app(runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://example") as client:
            await produce(kafka, *(encode(add(counter=c, amount=1), source="/test")[1] for c in ("a", UNADDABLE, "b")))
            for _ in range(300):
                samples = await _samples(client)
                dead = [v for (n, _ls), v in samples.items() if n == "jobbro_dead_letters_total"]
                if dead == [1.0] and not await runtime.pool.fetchval("SELECT count(*) FROM outbox"):
                    break
                await asyncio.sleep(0.1)
            assert (await client.get("/no-such-page")).status_code == 404
            samples = await _samples(client)

    group = runtime.consumers[0].group
    assert _one(samples, "jobbro_dead_letters_total", topic=topics.commands, group=group) == 1
    assert _one(samples, "jobbro_outbox_depth") == 0 and _one(samples, "jobbro_outbox_oldest_age_seconds") == 0
    assert _one(samples, "jobbro_outbox_rejected") == 0
    assert (
        _one(samples, "jobbro_ready", dependency="postgres") == 1
        and _one(samples, "jobbro_ready", dependency="kafka") == 1
    )
    lags = [v for (n, ls), v in samples.items() if n == "jobbro_consumer_lag" and ("group", group) in ls]
    assert lags and all(lag == 0 for lag in lags), "every assigned partition read to its end"
    received = [v for (n, ls), v in samples.items() if n == "jobbro_received_messages_total"]
    assert sum(received) >= 1, "FastStream's consumer metrics, in the same registry"
    assert _one(samples, "jobbro_http_requests_total", method="GET", status="404") == 1


async def test_readiness_names_the_dependency_how_long_and_why(database: str, kafka: KafkaAccess) -> None:
    topics = ExampleTopics(commands=unique("commands"), changes=unique("changes"))
    await create_topics(kafka, topics.commands, topics.commands + ".dlq", topics.changes)
    runtime = _runtime(database, kafka, topics, pg_pool_size=3, readiness_timeout_seconds=0.5)
    async with running(runtime):
        app = create_http_app(runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://example") as client:
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["postgres"]["ok"] is True

            held = []  # every connection busy (the relay holds one too): the readiness check's wait is bounded
            try:
                while True:
                    held.append(await runtime.pool.acquire(timeout=0.5))
            except TimeoutError:
                pass
            try:
                unready = await client.get("/health/ready")
            finally:
                for conn in held:
                    await runtime.pool.release(conn)

    assert unready.status_code == 503
    body = unready.json()
    assert body["status"] == "unready" and body["checks"]["kafka"]["ok"] is True
    postgres = body["checks"]["postgres"]
    assert postgres["ok"] is False and postgres["seconds"] >= 0.5
    assert postgres["reason"] == "no answer within 0.5 s (3 of 3 pool connections in use)"


async def test_each_replica_reports_the_lag_of_the_partitions_it_holds_and_none_it_gave_up(
    database: str, kafka: KafkaAccess
) -> None:
    topics = ExampleTopics(commands=unique("commands"), changes=unique("changes"))
    await create_topics(kafka, topics.commands, topics.commands + ".dlq", topics.changes, partitions=4)
    group = unique("g")
    replicas = [
        build(ServiceSettings(service="example", pg_dsn=database, **kafka.settings()), topics, group, None)  # type: ignore[arg-type]
        for _ in range(2)
    ]

    async def held(replica: Runtime) -> set[str]:
        app = create_http_app(replica)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://example") as client:
            samples = await _samples(client)
        return {dict(ls)["partition"] for (n, ls), _ in samples.items() if n == "jobbro_consumer_lag"}

    async with running(replicas[0]) as first:
        for _ in range(300):
            if len(await held(first)) == 4:
                break
            await asyncio.sleep(0.1)
        async with running(replicas[1]) as second:
            for _ in range(300):
                partitions = [await held(first), await held(second)]
                if all(partitions) and len(partitions[0] | partitions[1]) == 4:
                    break
                await asyncio.sleep(0.1)

    assert partitions[0] and partitions[1] and not partitions[0] & partitions[1]
    assert partitions[0] | partitions[1] == {"0", "1", "2", "3"}
