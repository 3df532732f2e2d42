"""End to end: the demo's scenario on the whole stack as separate processes, on real Kafka and PostgreSQL, checked
through the services' APIs and by reading the topics of its own namespace (so every event read is this run's)."""

import asyncio
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import asyncpg
import httpx
import yaml
from aiokafka import ConsumerRecord
from rich.console import Console

from contracts.benefits import PAYEE_KEYS, BenefitAdjusted, PaymentInstructionIssuedV2
from contracts.catalog import TOPICS
from contracts.notify import WEBHOOK_DEAD_LETTERS, NotificationFailed, NotificationSent
from contracts.payments import PaymentSettled
from contracts.subsidy import ApplicationSubmitted, ApplicationSubmittedV2
from demo import logins, scenario, trail
from demo.result import DemoResult
from demo.scenario import INTERNSHIP, JUDGEMENT, RATIO_BROKEN, WAGE_SUBSIDY
from jobbro.infra import Infrastructure
from jobbro.log import mask_cpr
from jobbro.testing import encodings, read_events, read_namespace, tables_holding
from jobbroctl import stack
from jobbroctl.stack import Layout
from tests.prometheus import ALERTS, metric_names, scraping


async def test_the_demo_scenario_runs_through_every_service(
    running_stack: Layout, infra: Infrastructure, topic_prefix: str, tmp_path: Path
) -> None:
    result = await scenario.run(running_stack, infra, topic_prefix)

    await _applications_ended_where_the_scenario_says(running_stack, result)
    await _plans_hold_the_placements(running_stack, result)
    await _benefits_were_adjusted(infra, topic_prefix, result)
    await _payments_were_issued_and_settled(infra, topic_prefix, result)
    await _the_decision_and_the_payment_explain_themselves(running_stack, infra, topic_prefix, result)
    await _people_and_integrators_were_told(infra, topic_prefix, running_stack, result)
    assert {seen.meta.source for seen in result.events} == {
        "/jobbro/subsidy",
        "/jobbro/benefits",
        "/jobbro/activation",
        "/jobbro/notify",
        "/jobbro/backoffice",
    }
    _the_report_shows_it_without_cpr_numbers(result)
    await _prometheus_scrapes_every_process_and_evaluates_every_alert(running_stack, tmp_path / "prometheus")
    await _every_access_was_audited(running_stack, infra, topic_prefix, result)
    records = await read_namespace(infra.kafka, topic_prefix)
    _cpr_numbers_travel_on_no_topic(records, topic_prefix, result)
    await _an_erased_citizen_is_in_no_database_and_the_month_still_reconciles(
        running_stack, infra, topic_prefix, records, result
    )


async def _applications_ended_where_the_scenario_says(layout: Layout, result: DemoResult) -> None:
    expected = {
        INTERNSHIP: ("confirmed", "automatic"),
        WAGE_SUBSIDY: ("ended", "caseworker"),  # it started before the decision: a caseworker's exception
        RATIO_BROKEN: ("rejected", "automatic"),
        JUDGEMENT: ("confirmed", "caseworker"),
    }
    async with httpx.AsyncClient(base_url=layout.service("subsidy").url) as client:
        headers = await _caseworker(client)
        for key, (state, decided_by) in expected.items():
            outcome = result.outcome(key)
            view = (await client.get(f"/v1/applications/{outcome.application_id}", headers=headers)).json()
            assert (view["state"], view["decision"]["decided_by"]) == (state, decided_by), key
            assert outcome.state == state
    [broken] = result.outcome(RATIO_BROKEN).reasons
    assert broken.startswith("ratio: ") and broken.endswith(
        "may host 1 supported persons; with this placement it would host 2"
    )
    [judgement] = result.outcome(JUDGEMENT).reasons
    assert judgement.startswith("ratio: ") and "the applicant overrode it" in judgement


async def _plans_hold_the_placements(layout: Layout, result: DemoResult) -> None:
    today = datetime.now(UTC).date()
    async with httpx.AsyncClient(base_url=layout.service("activation").url) as client:
        headers = await _caseworker(client)
        plans = {
            key: (await client.get(f"/v1/citizens/{result.outcome(key).citizen_ref}/plan", headers=headers)).json()[
                "entries"
            ]
            for key in (INTERNSHIP, WAGE_SUBSIDY, JUDGEMENT)
        }
        rejected = await client.get(f"/v1/citizens/{result.outcome(RATIO_BROKEN).citizen_ref}/plan", headers=headers)
    for key, days in ((INTERNSHIP, 13), (JUDGEMENT, 27)):  # two weeks; the second extended to four
        [entry] = plans[key]
        start = datetime.fromisoformat(entry["period"]["start"]).date()
        assert (entry["status"], entry["period"]["end"]) == ("recorded", str(start + timedelta(days=days))), key
    [wage_subsidy] = plans[WAGE_SUBSIDY]
    assert (wage_subsidy["status"], wage_subsidy["outcome"], wage_subsidy["last_day"]) == (
        "ended",
        "ended_early",
        str(today),
    )
    assert rejected.status_code == 404 or rejected.json()["entries"] == []  # 404 until activation has its assessment
    assert result.plans[INTERNSHIP] == plans[INTERNSHIP]


async def _benefits_were_adjusted(infra: Infrastructure, prefix: str, result: DemoResult) -> None:
    events = await read_events(infra.kafka, prefix + "benefits.adjustments.v1", expect=5)
    changes: dict[str, list[str]] = {}
    for _, event in events:
        assert isinstance(event, BenefitAdjusted)
        changes.setdefault(str(event.application_id), []).append(event.change.value)
    assert changes == {
        str(result.outcome(INTERNSHIP).application_id): ["continued"],
        str(result.outcome(WAGE_SUBSIDY).application_id): ["top_up_granted", "resumed"],
        str(result.outcome(JUDGEMENT).application_id): ["continued", "continued"],
    }


async def _payments_were_issued_and_settled(infra: Infrastructure, prefix: str, result: DemoResult) -> None:
    issued = [e for _, e in await read_events(infra.kafka, prefix + "benefits.payment-instructions.v1", expect=6)]
    settled = [e for _, e in await read_events(infra.kafka, prefix + "payments.settlements.v1", expect=6)]
    assert all(isinstance(event, PaymentInstructionIssuedV2) for event in issued)
    assert Counter(event.purpose.value for event in issued) == {"benefit": 4, "benefit_top_up": 1, "wage_subsidy": 1}
    [subsidy] = [event for event in issued if event.purpose.value == "wage_subsidy"]
    assert (subsidy.application_id, subsidy.payee_cvr) == (result.outcome(WAGE_SUBSIDY).application_id, "87654321")
    assert all(isinstance(event, PaymentSettled) for event in settled)
    assert {(e.instruction_id, e.amount_ore) for e in settled} == {(e.instruction_id, e.amount_ore) for e in issued}
    total = result.reconciliation["total"]
    assert total["instructions"] == 6 and total["outstanding_ore"] == 0 and total["failed_ore"] == 0
    assert total["issued_ore"] == total["settled_ore"] == sum(event.amount_ore for event in issued)


async def _the_decision_and_the_payment_explain_themselves(
    layout: Layout, infra: Infrastructure, prefix: str, result: DemoResult
) -> None:
    """The auditor reads, through the APIs, how the wage subsidy's decision came about (every rule with its version,
    law and facts, each fact's source and event, the caseworker's justified start exception) and how its payment was
    worked out (rate, hours, rule versions, the arithmetic), as on the instruction's event."""
    application_id = result.outcome(WAGE_SUBSIDY).application_id
    issued = [e for _, e in await read_events(infra.kafka, prefix + "benefits.payment-instructions.v1", expect=6)]
    [payment] = [e for e in issued if isinstance(e, PaymentInstructionIssuedV2) and e.purpose.value == "wage_subsidy"]
    async with httpx.AsyncClient() as http:
        headers = await logins.Logins(http, stack.oidc_issuer()).headers(logins.AUDITOR)
        subsidy, benefits = layout.service("subsidy").url, layout.service("benefits").url
        derivation = await http.get(f"{subsidy}/v1/applications/{application_id}/derivation", headers=headers)
        instruction = await http.get(
            f"{benefits}/v1/ledger/payment-instructions/{payment.instruction_id}", headers=headers
        )
    assert derivation.status_code == 200, derivation.text
    assert instruction.status_code == 200, instruction.text
    explained = derivation.json()
    rules = {rule["rule"]: rule for rule in explained["rules"]}
    assert (explained["verdict"], explained["decided_by"]) == ("approved", "caseworker")
    assert {"ratio", "start_after_decision", "caseworker_decision"} <= set(rules)
    assert all(rule["rule_set_version"] for rule in explained["rules"])
    assert rules["ratio"]["legal_reference"] and "employer" in {fact["source"] for fact in rules["ratio"]["facts"]}
    [exception] = [fact for fact in rules["caseworker_decision"]["facts"] if fact["name"] == "start_exception"]
    assert exception["source"] == "caseworker" and exception["justification"]
    answers = [
        fact for rule in explained["rules"] for fact in rule["facts"] if fact["source"] in ("benefits", "activation")
    ]
    assert answers and all(fact["event_id"] for fact in answers), "each answer's fact names the event it came in"
    calculation = instruction.json()["calculation"]
    assert payment.calculation is not None and calculation == payment.calculation.model_dump(mode="json")
    arithmetic = calculation["payable_ore"] - calculation["paid_before_ore"] - calculation["offset_ore"]
    assert arithmetic == instruction.json()["amount_ore"] == payment.amount_ore
    assert any(version.startswith("subsidy-rates-") for version in calculation["rule_set_versions"])


async def _people_and_integrators_were_told(
    infra: Infrastructure, prefix: str, layout: Layout, result: DemoResult
) -> None:
    expected = sum(
        sum(counts.values()) for counts in (*scenario.EXPECTED_NOTICES.values(), *scenario.EXPECTED_WEBHOOKS.values())
    )
    events = [e for _, e in await read_events(infra.kafka, prefix + "notify.notifications.v1", expect=expected)]
    assert not [event for event in events if isinstance(event, NotificationFailed)]
    sent = [event for event in events if isinstance(event, NotificationSent)]
    for key, counts in scenario.EXPECTED_NOTICES.items():
        application_id = result.outcome(key).application_id
        told = [e for e in sent if e.application_id == application_id and e.channel.value != "webhook"]
        assert Counter(e.template for e in told) == counts, key
    for notice in result.notices:
        if notice.channel == "email":
            mail = message_from_bytes(Path(notice.where).read_bytes(), policy=policy.default)
            assert mail["Jobbro-Delivery-Id"] and mail["To"]
        else:
            assert notice.where.startswith(str(layout.digital_post)) and Path(notice.where).read_text()
    assert len(result.notices) == sum(sum(counts.values()) for counts in scenario.EXPECTED_NOTICES.values())
    webhooks: dict[str, Counter[str]] = {}
    for delivery in result.webhooks:
        webhooks.setdefault(delivery.application_id or "", Counter())[delivery.type.rsplit(".", 2)[-2]] += 1
    assert webhooks == {
        str(result.outcome(key).application_id): counts for key, counts in scenario.EXPECTED_WEBHOOKS.items()
    }
    assert result.webhooks_refused == 0
    forwarded = [e for e in sent if e.channel.value == "webhook"]
    assert len(forwarded) == len(result.webhooks)
    assert len(result.webhook_log.read_text().splitlines()) == len(result.webhooks)


SCENARIO_ACCESSES = {
    "subsidy": {
        "POST /v1/applications",
        "GET /v1/applications/{application_id}",
        "POST /v1/applications/{application_id}/caseworker-decision",
        "POST /v1/applications/{application_id}/confirmation",
        "POST /v1/applications/{application_id}/extension",
        "POST /v1/applications/{application_id}/end",
        "POST /v1/applications/{application_id}/wage-reports",
        "GET /v1/representative-approval",
        "POST /v1/representative-approval",
    },
    "benefits": {"POST /v1/admin/citizens/import"},
    "activation": {"GET /v1/citizens/{citizen_ref}/plan"},
    "notify": {"POST /v1/webhooks/subscriptions"},
}
"""Every API route of the scenario that reads or changes personal data, by service (the representative's link, read
by the portal's page and answered, with the link as the actor). Not listed: the reconciliation (sums only), the
subscription's cancellation at the end (after the audit is read), and the erasures (checked with them, below)."""


async def _every_access_was_audited(layout: Layout, infra: Infrastructure, prefix: str, result: DemoResult) -> None:
    """Every read and change of personal data the scenario made through an API is in the service's access audit
    (the caseworker's decision and the plan reads in detail), as JSON and as CEF lines."""
    judgement = result.outcome(JUDGEMENT)
    async with httpx.AsyncClient(base_url=layout.service("subsidy").url) as subsidy:
        auditor = await logins.Logins(subsidy, stack.oidc_issuer()).headers(logins.AUDITOR)
        about = await subsidy.get("/v1/audit/access", params={"citizen_ref": judgement.citizen_ref}, headers=auditor)
        cef = (await subsidy.get("/v1/audit/access", params={"format": "cef"}, headers=auditor)).text
    async with httpx.AsyncClient(base_url=layout.service("activation").url) as activation:
        plans = await activation.get("/v1/audit/access", params={"citizen_ref": judgement.citizen_ref}, headers=auditor)
    decided = [a for a in about.json()["accesses"] if a["route"].endswith("/caseworker-decision")]
    assert [(a["object_ref"], a["municipality"], a["outcome"]) for a in decided] == [
        (str(judgement.application_id), "751", "granted")
    ] * 2  # the application, then its extension
    assert f"duid={judgement.application_id}" in cef and "access.change" in cef and mask_cpr(cef) == cef
    assert any(a["route"] == "GET /v1/citizens/{citizen_ref}/plan" for a in plans.json()["accesses"])
    for name, routes in SCENARIO_ACCESSES.items():
        async with httpx.AsyncClient(base_url=layout.service(name).url) as http:
            recorded = (await http.get("/v1/audit/access", headers=auditor)).json()["accesses"]
        granted = {a["route"] for a in recorded if a["outcome"] == "granted"}
        assert routes <= granted, (name, routes - granted)
    audited = await read_events(infra.kafka, prefix + "subsidy.access-audit.v1", expect=len(cef.splitlines()))
    assert {str(event.access_id) for _, event in audited} >= {a["access_id"] for a in decided}


async def _caseworker(http: httpx.AsyncClient) -> dict[str, str]:
    """A real Keycloak token of the development caseworker of the scenario's municipality."""
    assert scenario.MUNICIPALITY == "751"  # caseworker-751 of the development realm
    return await logins.Logins(http, stack.oidc_issuer()).headers(logins.CASEWORKER)


def _the_report_shows_it_without_cpr_numbers(result: DemoResult) -> None:
    submitted = [s.event for s in result.events if isinstance(s.event, ApplicationSubmittedV2)]
    paid = [s.event for s in result.events if isinstance(s.event, PaymentInstructionIssuedV2) and s.event.payee_ref]
    assert len(submitted) == 4 and not [s for s in result.events if isinstance(s.event, ApplicationSubmitted)]
    assert len(paid) == 5 and {e.payee_ref for e in paid} == set(result.cpr_by_payee)
    assert len(result.payees) == 5
    out = io.StringIO()
    trail.print_report(Console(file=out, width=200), result)
    report = out.getvalue()
    assert all(outcome.label in report for outcome in result.applications)
    assert "Reconciliation" in report and "with a valid HMAC signature, 0 refused" in report


async def _prometheus_scrapes_every_process_and_evaluates_every_alert(layout: Layout, directory: Path) -> None:
    """A real Prometheus scrapes the stack's processes; every metric the alert rules read has values, and every rule
    evaluates without error."""
    targets = [f"127.0.0.1:{service.port}" for service in layout.services if service.has_database]
    async with scraping(targets, directory) as prometheus:
        await prometheus.until('up{job="jobbro"} == 1', len(targets))
        for name in sorted(metric_names() - {"up"}):
            assert await prometheus.until(name, 1), name
        assert await prometheus.until('jobbro_deliveries{channel="email", status="sent"} > 0', 1)
        assert await prometheus.until('jobbro_ready{dependency="postgres"} == 1', len(targets))
        for _ in range(60):
            rules = await prometheus.rules()
            if all(rule["health"] != "unknown" for rule in rules):
                break
            await asyncio.sleep(0.5)
    assert len(rules) == len(yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"])
    assert [rule["name"] for rule in rules if rule["health"] != "ok"] == []


def _cpr_numbers_travel_on_no_topic(records: list[ConsumerRecord], prefix: str, result: DemoResult) -> None:
    """Every topic read raw, as any reader could: no CPR number of the demo's citizens, nor any a field named for one
    holds, occurs in any record, header or key; a citizen payee's travels sealed under their payee key (v2)."""
    cprs = {cpr for record in records for cpr in _cpr_fields(json.loads(record.value or b"null"))}
    cprs |= set(result.cpr_by_payee.values())
    carriers = [record for record in records if any(form in _raw(record) for cpr in cprs for form in _forms(cpr))]
    to_citizens = [
        json.loads(record.value)
        for record in records
        if _type(record) == PaymentInstructionIssuedV2.type and json.loads(record.value)["payee_kind"] == "citizen"
    ]
    written = {topic.name for topic in TOPICS if topic.name != WEBHOOK_DEAD_LETTERS}
    assert {record.topic.removeprefix(prefix) for record in records} >= written and len(to_citizens) == 5
    assert {instruction["payee_ref"] for instruction in to_citizens} == set(result.cpr_by_payee)
    assert [(record.topic, _type(record)) for record in carriers] == []


def _cpr_fields(node: object) -> Iterator[str]:
    """The values of every field whose name says it holds a CPR number, however deep."""
    if isinstance(node, dict):
        for name, value in node.items():
            if "cpr" in name.lower() and not name.endswith("_sealed") and isinstance(value, str):
                yield value
            yield from _cpr_fields(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cpr_fields(value)


def _raw(record: ConsumerRecord) -> bytes:
    return b"\0".join([record.key or b"", record.value or b"", *(value for _, value in record.headers)])


def _type(record: ConsumerRecord) -> str:
    return dict(record.headers).get("ce_type", b"").decode()


async def _an_erased_citizen_is_in_no_database_and_the_month_still_reconciles(
    layout: Layout, infra: Infrastructure, topic_prefix: str, records: list[ConsumerRecord], result: DemoResult
) -> None:
    """A paid citizen erased through subsidy's and benefits' APIs: both destroy the citizen's data key, notify deletes
    their letters, and the CPR number (searched as raw bytes, with or without its dash, as hex and base64) is in no
    row of any Jobbro database, no log, mail, letter or other file of the stack, and on no topic; benefits tombstones
    their payee key on the compacted key topic and the back-office forgets its copy, so the CPR number sealed on their
    payment instructions opens no more (docs/privacy.md). The month's reconciliation is what it was."""
    instructions = [json.loads(r.value) for r in records if _type(r) == PaymentInstructionIssuedV2.type]
    applicants = {outcome.citizen_ref for outcome in result.applications}
    paid = {instruction["payee_ref"] for instruction in instructions if instruction["payee_ref"]}
    cpr = min(result.cpr_by_payee[ref] for ref in paid & applicants)  # one whose application was decided
    erasure = {"cpr": cpr, "reason": "Borgerens anmodning om sletning, GDPR art. 17, sag 2026-0099"}
    async with httpx.AsyncClient() as http:
        headers = await logins.Logins(http, stack.oidc_issuer()).headers(logins.OPERATOR)
        erased = [
            await http.post(layout.service("subsidy").url + "/v1/erasures", json=erasure, headers=headers),
            await http.post(layout.service("benefits").url + "/v1/admin/erasures", json=erasure, headers=headers),
        ]
        month = await http.get(
            layout.service("benefits").url + f"/v1/ledger/reconciliation/{result.month}", headers=headers
        )
    assert [response.status_code for response in erased] == [201, 201]
    [ref] = {response.json()["citizen_ref"] for response in erased}
    assert ref in {outcome.citizen_ref for outcome in result.applications}
    async with httpx.AsyncClient() as http:
        auditor = await logins.Logins(http, stack.oidc_issuer()).headers(logins.AUDITOR)
        for name, route in (("subsidy", "POST /v1/erasures"), ("benefits", "POST /v1/admin/erasures")):
            about = await http.get(
                layout.service(name).url + "/v1/audit/access", params={"citizen_ref": ref}, headers=auditor
            )
            erasures = [a for a in about.json()["accesses"] if a["route"] == route]
            assert [(a["action"], a["object_ref"], a["outcome"]) for a in erasures] == [("change", ref, "granted")]
    assert month.json()["total"] == result.reconciliation["total"]
    for service in layout.services:
        if not service.has_database or service.name == "backoffice":
            continue
        conn = await asyncpg.connect(infra.database_dsn(layout.database_prefix + service.name))
        try:
            assert await tables_holding(conn, cpr) == [], service.name
            if service.name in ("subsidy", "benefits"):
                assert await conn.fetchval("SELECT count(*) FROM citizen_keys WHERE citizen_ref = $1", ref) == 0
        finally:
            await conn.close()
    await _letters_gone(layout.digital_post, ref)
    assert _files_holding(layout, cpr) == []
    for _ in range(100):  # the tombstone reaches the back-office a moment later
        backoffice = await asyncpg.connect(infra.database_dsn(layout.database_prefix + "backoffice"))
        try:
            gone = await backoffice.fetchval("SELECT wrapped_key IS NULL FROM payee_keys WHERE citizen_ref = $1", ref)
        finally:
            await backoffice.close()
        if gone:
            break
        await asyncio.sleep(0.2)
    assert gone
    after = await read_namespace(infra.kafka, topic_prefix)
    assert [record.topic for record in after if any(form in _raw(record) for form in _forms(cpr))] == []
    tombstones = [r.key for r in after if r.topic == topic_prefix + PAYEE_KEYS and r.value is None]
    assert tombstones == [ref.encode()]


def _forms(cpr: str) -> list[bytes]:
    """The CPR number as bytes in every form a file or record could hold it."""
    return [form.encode() for form in {*encodings(cpr), *encodings(f"{cpr[:6]}-{cpr[6:]}")}]


def _files_holding(layout: Layout, cpr: str) -> list[str]:
    """The stack's files (logs, mails, letters, run files) holding the CPR number; the back-office stand-in's log is
    not Jobbro's, and Jobbro's processes never write the number there either way."""
    forms = _forms(cpr)
    files = [p for folder in (layout.logs, layout.mail, layout.digital_post, layout.run) for p in folder.rglob("*")]
    return [
        str(path)
        for path in files
        if path.is_file() and not path.name.startswith("backoffice") and any(f in path.read_bytes() for f in forms)
    ]


async def _letters_gone(directory: Path, citizen_ref: str) -> None:
    """Wait until notify has read the erasure: no letter in the drop is addressed to the citizen any more."""
    for _ in range(300):
        if not [p for p in directory.glob("*.json") if citizen_ref in p.read_text()]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("letters to the erased citizen are still in the Digital Post drop")
