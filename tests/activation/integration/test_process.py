"""`python -m services.activation` runs the service: migrated, consuming, and answering over HTTP (health to anyone,
the rest only to a caller with a token its identity provider issued)."""

from pathlib import Path

import httpx

from jobbro.kafka_access import KafkaAccess
from tests.example.process import Process


async def test_the_service_starts_as_a_process_and_reports_ready(
    database: str, kafka: KafkaAccess, topic_prefix: str, tmp_path: Path
) -> None:
    env = {
        "ACTIVATION_PG_DSN": database,
        **kafka.environment("ACTIVATION_"),
        "ACTIVATION_TOPIC_PREFIX": topic_prefix,
        "ACTIVATION_LOG_JSON": "true",
    }
    process = Process("services.activation", env, tmp_path / "activation.log")
    process.env["ACTIVATION_HTTP_PORT"] = str(process.port)
    process.start()
    try:
        await process.wait_ready()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}") as http:
            statistics = await http.get("/v1/statistics", params={"from": "2026-01-01", "to": "2026-03-31"})
        assert (statistics.status_code, statistics.headers["www-authenticate"]) == (401, "Bearer")
        assert statistics.json()["code"] == "unauthenticated"
    finally:
        process.terminate()
    assert '"event": "service_stopped"' in process.log()
