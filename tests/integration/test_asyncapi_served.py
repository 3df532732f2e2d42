"""Each producing service serves the AsyncAPI document of the topics it produces, as JSON and as a page rendered
on the server: built as it runs (without starting it) and asked over HTTP, without a token."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from contracts.asyncapi import SECURITY
from contracts.catalog import TOPICS
from services.activation.app import create_app as activation_app
from services.activation.settings import ActivationSettings
from services.benefits.app import create_app as benefits_app
from services.benefits.settings import BenefitsSettings
from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from services.subsidy.app import create_app as subsidy_app
from services.subsidy.settings import SubsidySettings


def _subsidy(directory: Path) -> FastAPI:
    anchors = directory / "anchors.pem"
    anchors.write_text("")
    return subsidy_app(SubsidySettings(trust_anchors=anchors))


PRODUCERS: dict[str, Callable[[Path], FastAPI]] = {
    "subsidy": _subsidy,
    "benefits": lambda _directory: benefits_app(BenefitsSettings()),
    "activation": lambda _directory: activation_app(ActivationSettings()),
    "notify": lambda directory: notify_app(NotifySettings(digital_post_dir=directory / "post")),
}


def test_every_producing_service_is_listed() -> None:
    assert {topic.owner for topic in TOPICS} - {"payment-back-office"} == PRODUCERS.keys()


@pytest.mark.parametrize("service", sorted(PRODUCERS))
async def test_serves_the_document_of_the_topics_it_produces_as_json_and_html(service: str, tmp_path: Path) -> None:
    produced = [topic.name for topic in TOPICS if topic.owner == service]
    app = PRODUCERS[service](tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{service}") as client:
        document = await client.get("/asyncapi.json")
        page = await client.get("/asyncapi")

    assert document.status_code == 200 and document.headers["content-type"] == "application/json"
    doc = document.json()
    assert doc["asyncapi"] == "3.0.0" and list(doc["channels"]) == produced
    assert {op["action"] for name, op in doc["operations"].items() if name.startswith(f"{service}.sends.")} == {"send"}
    for server in doc["servers"].values():
        assert server["protocol"] == "kafka-secure"
        assert server["security"] == [{"$ref": f"#/components/securitySchemes/{SECURITY}"}]
    assert doc["components"]["securitySchemes"][SECURITY]["type"] == "scramSha512"

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    html = page.text
    assert "<script" not in html and not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert re.findall(r"<section id=\"([^\"]+)\"", html) == produced
    for message in (m for topic in TOPICS if topic.owner == service for m in topic.events):
        assert f"<code>{message.type}</code>" in html
    for header in (
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_subject",
        "ce_time",
        "ce_correlationid",
        "ce_causationid",
        "ce_traceparent",
    ):
        assert f"<td>{header}</td>" in html
    assert "kafka-0.kafka.jobbro.svc:9092" in html and "scramSha512" in html
