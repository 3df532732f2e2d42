"""Chaos: a thousand applications through the whole stack, every service running as three replicas on topics of
twelve partitions, while a random replica of each service is SIGKILLed three times at random moments and the Kafka
broker crashes once; afterwards nothing may be lost, paid twice or told twice, and each key's events are in order.

The blows are random (the seed is in every failure message; JOBBRO_CHAOS_SEED replays one), the invariants are not:
every application ends where it was designed to end, each payment idempotency key was paid exactly once and the
ledger holds the øre computed here from the rule data, each notice went out once per dedup key, every key's events
lie on one partition in the order they happened, and nothing is left unprocessed (consumer lag 0, outboxes empty, no
dead letters). The employers' side retries the way a real client
must: a submission with the same Idempotency-Key and signed body, a confirmation until it is confirmed, a wage
report only after looking whether the first one arrived.
"""

import asyncio
import os
import random
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest

from bench import flow, population
from bench.flow import EXPECTED, Case, Employers, Kind
from bench.milestones import Milestones
from bench.tape import Seen, Tape
from contracts import subsidy
from contracts.activation import ActivationRecorded
from contracts.benefits import BenefitAdjusted, PaymentInstructionIssuedV2
from contracts.catalog import TOPICS
from contracts.notify import NotificationFailed, NotificationSent
from contracts.payments import PaymentFailed, PaymentSettled
from contracts.subsidy import ApplicationSubmitted, ApplicationSubmittedV2
from demo import logins
from jobbro.infra import REPO, Infrastructure
from jobbroctl import stack
from jobbroctl.stack import Layout
from rules import months_later
from services.notify.settings import NotifySettings
from tests.chaos import evidence
from tests.chaos.broker import LocalBroker, NotOurBroker
from tests.chaos.monkey import Monkey

APPLICATIONS = 1000
REPLICAS = 3
"""Processes of each Jobbro service (the stand-ins run once); the catalog gives every topic 12 partitions."""
KILLS_EACH = 3
WAGE_EVERY = 10
"""Every tenth application is a wage subsidy whose employer is paid for last month."""
UNKNOWN_EVERY = 25
"""Every 25th names a citizen the benefit registry lacks: rejected by design."""
CONCURRENCY = 32
LEASE_SECONDS = 15
"""How soon notify sends again a delivery whose sender was killed before recording it (default 60 s)."""
SENDERS = NotifySettings.model_fields["delivery_concurrency"].default
"""Deliveries notify sends at once: at most this many can be in flight when it is killed."""
MAIL_SLACK_SECONDS = 5.0
"""A mail whose sender was killed after handing it over is written by the mail sink a moment after the kill."""
FLOW_SECONDS = 480
SETTLE_SECONDS = 180


async def test_nothing_is_lost_or_done_twice_when_processes_and_the_broker_crash(
    infra: Infrastructure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        broker = LocalBroker.of(infra)
    except NotOurBroker as exc:
        pytest.fail(f"cannot run the chaos test: {exc}", pytrace=False)
    seed = int(os.environ.get("JOBBRO_CHAOS_SEED") or random.randrange(2**32))
    monkeypatch.setenv("NOTIFY_DELIVERY_LEASE_SECONDS", str(LEASE_SECONDS))
    async with stack.beside(infra, tmp_path / "stack", "chaos", replicas=REPLICAS) as (layout, prefix):
        try:
            await _chaos(infra, layout, prefix, broker, seed)
        finally:  # the broker is shared: put it back whatever happened
            await broker.start()


async def _chaos(infra: Infrastructure, layout: Layout, prefix: str, broker: LocalBroker, seed: int) -> None:
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    cases = flow.plan(range(APPLICATIONS), layout.pki, today, wage_every=WAGE_EVERY, unknown_every=UNKNOWN_EVERY)
    benefit_month = months_later(flow.previous_month(today), -1)
    began = time.time()
    async with httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=CONCURRENCY)) as http:
        await _import_citizens(http, layout, cases)
        milestones = Milestones()
        async with (
            Tape(infra.kafka, prefix, milestones.record),
            Employers(
                [replica.url for replica in layout.replicas_of("subsidy")],
                stack.oidc_issuer(),
                concurrency=CONCURRENCY,
                patience=FLOW_SECONDS,
                timeout=30.0,
            ) as employers,
        ):
            monkey = Monkey(layout, infra, prefix, broker, rng, kills_each=KILLS_EACH, spacing=(2.0, 6.0))
            supervisor = asyncio.create_task(monkey.supervise())
            try:
                try:
                    await asyncio.wait_for(
                        asyncio.gather(
                            monkey.run(),
                            _payment_runs(infra, layout, prefix, benefit_month, rng),
                            *(employers.drive(case, milestones, today) for case in cases),
                        ),
                        FLOW_SECONDS,
                    )
                except TimeoutError:
                    pytest.fail(f"the flow took over {FLOW_SECONDS}s (seed {seed}): {_stuck(cases)}", pytrace=False)
                await _settle(infra, layout, prefix, cases, milestones, seed)
            finally:
                supervisor.cancel()
        async with Tape(infra.kafka, prefix) as tape:
            await tape.drain()
            said = f"(seed {seed}; blows: {', '.join(f'{b.process}@{b.at - began:.0f}s' for b in monkey.blows)})"
            _every_application_ended_as_designed(
                await evidence.states(infra, layout), await evidence.wage_reports(infra, layout), cases, said
            )
            await _each_payment_was_made_exactly_once(http, infra, layout, tape, cases, today, said)
            _each_notice_went_out_once(layout, tape, cases, monkey.times("notify"), said)
            _each_placement_took_effect_once(tape, cases, said)
            _each_keys_events_in_order(tape, said)
            await _nothing_is_left_unprocessed(infra, layout, prefix, tape, said)
    took = time.time() - began
    print(
        f"chaos: {APPLICATIONS} applications in {took:.0f}s, calls retried: {dict(employers.retried)}, "
        f"{monkey.restarts} processes restarted by the supervisor {said}"
    )


def _stuck(cases: list[Case]) -> dict[str, int]:
    """Where the employers' side stopped, per stage."""
    return dict(
        Counter(
            "not submitted"
            if case.application_id is None
            else "not decided"
            if case.decision is None
            else "not confirmed"
            if case.decision == "approved" and not case.confirmed
            else "wages not reported"
            if case.kind is Kind.WAGE_SUBSIDY and not case.reported
            else "done"
            for case in cases
        )
    )


async def _import_citizens(http: httpx.AsyncClient, layout: Layout, cases: list[Case]) -> None:
    rows = [case.citizen.row(population.MUNICIPALITY) for case in cases if case.registered]
    operator = await logins.Logins(http, stack.oidc_issuer()).headers(logins.OPERATOR)
    response = await http.post(
        layout.service("benefits").url + "/v1/admin/citizens/import", json=rows, headers=operator
    )
    response.raise_for_status()


async def _payment_runs(infra: Infrastructure, layout: Layout, prefix: str, month: date, rng: random.Random) -> None:
    """The month's citizen payments, run during the chaos and once more later (which must issue nothing new)."""
    for pause in (rng.uniform(0, 10), rng.uniform(5, 20)):
        await asyncio.sleep(pause)
        done = await asyncio.to_thread(
            stack.run_command, layout.service("benefits"), infra, prefix, "payment-run", "--month", f"{month:%Y-%m}"
        )
        assert done.returncode == 0, done.stderr[-2000:]


async def _settle(
    infra: Infrastructure, layout: Layout, prefix: str, cases: list[Case], milestones: Milestones, seed: int
) -> None:
    """Until every application reached its milestones and the stack is quiet twice in a row: no consumer lag, no
    outbox rows, no notice waiting (twice, so a step between two of the reads cannot slip through)."""
    for service in layout.services:
        stack.start(service, infra, prefix)  # no-op unless the last blow's victim is still down
    await asyncio.gather(*(stack.wait_ready(service) for service in layout.services))
    deadline = time.monotonic() + SETTLE_SECONDS
    quiet = 0
    while quiet < 2:
        waiting = await _still_waiting(infra, layout, prefix, cases, milestones)
        quiet = quiet + 1 if not any(waiting.values()) else 0
        if time.monotonic() > deadline:
            pytest.fail(f"the stack did not settle within {SETTLE_SECONDS}s (seed {seed}): {waiting}", pytrace=False)
        await asyncio.sleep(1.0)


async def _still_waiting(
    infra: Infrastructure, layout: Layout, prefix: str, cases: list[Case], milestones: Milestones
) -> dict[str, int]:
    lag = await stack.consumer_lag(infra.kafka, tuple(f"{prefix}{s.principal}." for s in layout.services))
    return {
        "applications short of a milestone": sum(
            bool(milestones.missing(case.application_id, EXPECTED[case.kind]))
            for case in cases  # type: ignore[arg-type]
        ),
        "outbox rows": sum((await evidence.unrelayed(infra, layout)).values()),
        "pending deliveries": await evidence.pending_deliveries(infra, layout),
        "consumer lag": sum(lag.values()),
    }


def _every_application_ended_as_designed(
    states: dict[str, str], reports: dict[str, int], cases: list[Case], said: str
) -> None:
    """Approved and confirmed, or rejected, as designed; one application per submission, one report per job."""
    designed = {case.application_id: "rejected" if case.kind is Kind.UNKNOWN_CITIZEN else "confirmed" for case in cases}
    assert len(states) == APPLICATIONS, f"{len(states)} applications exist for {APPLICATIONS} submitted {said}"
    wrong = {
        application: (states.get(application), state)
        for application, state in designed.items()
        if states.get(application) != state
    }
    assert not wrong, f"{len(wrong)} applications not where designed, (is, should): {list(wrong.items())[:5]} {said}"
    wages = Counter({case.application_id: 1 for case in cases if case.kind is Kind.WAGE_SUBSIDY})
    assert Counter(reports) == wages, f"wage reports per application differ from one each {said}"


async def _each_payment_was_made_exactly_once(
    http: httpx.AsyncClient,
    infra: Infrastructure,
    layout: Layout,
    tape: Tape,
    cases: list[Case],
    today: date,
    said: str,
) -> None:
    """Issued once per key, settled once per key, paid once per key by the back-office, and the ledger's totals are
    what the rule data and the citizens' rates say."""
    wage_month, benefit_month = flow.previous_month(today), months_later(flow.previous_month(today), -1)
    instructions = _once_per(tape.of_type(PaymentInstructionIssuedV2.type), "idempotency_key", "instructions", said)
    settlements = _once_per(tape.of_type(PaymentSettled.type), "idempotency_key", "settlements", said)
    assert not tape.of_type(PaymentFailed.type), f"the back-office refused payments {said}"
    assert settlements.keys() == instructions.keys(), f"instructions and settlements differ {said}"
    paid = await evidence.backoffice_payments(infra, layout)
    assert Counter(row["idempotency_key"] for row in paid) == Counter(instructions.keys()), f"back-office ledger {said}"
    assert {row["outcome"] for row in paid} == {"settled"}, said

    wages = [case for case in cases if case.kind is Kind.WAGE_SUBSIDY]
    registered = [case for case in cases if case.registered]
    per_wage = _subsidy_ore(wage_month, Decimal(flow.PAID_HOURS))
    expected = {
        f"{wage_month:%Y-%m}": (len(wages), len(wages) * per_wage),
        f"{benefit_month:%Y-%m}": (len(registered), sum(case.citizen.monthly_rate_ore for case in registered)),
    }
    auditor = await logins.Logins(http, stack.oidc_issuer()).headers(logins.AUDITOR)
    for month, (count, ore) in expected.items():
        total = (await evidence.reconciliation(http, layout, month, auditor))["total"]
        assert (total["instructions"], total["issued_ore"], total["settled_ore"]) == (count, ore, ore), (
            f"ledger {month}: {total}, expected {count} instructions of {ore} øre in all, all settled {said}"
        )
        assert total["outstanding_ore"] == total["failed_ore"] == 0, f"ledger {month}: {total} {said}"
    assert sum(row["amount_ore"] for row in paid) == sum(ore for _, ore in expected.values()), said
    wage_keys = {f"wage_subsidy:{case.application_id}:{wage_month:%Y-%m}" for case in wages}
    assert wage_keys <= instructions.keys(), f"wage subsidies not issued: {list(wage_keys - instructions.keys())[:5]}"


def _each_notice_went_out_once(
    layout: Layout, tape: Tape, cases: list[Case], notify_kills: list[float], said: str
) -> None:
    """One NotificationSent per dedup key, the designed notices per application, and one mail per Message-ID but
    where a notify crash explains a repeat (sent, then killed before recording it: sent again, same Message-ID)."""
    assert not tape.of_type(NotificationFailed.type), f"notices failed {said}"
    sent = _once_per(tape.of_type(NotificationSent.type), "dedup_key", "notices", said)
    per_application = Counter(seen.data["application_id"] for seen in sent.values())
    wrong = {
        c.n: per_application[c.application_id]
        for c in cases
        if per_application[c.application_id] != EXPECTED[c.kind]["all notices"]
    }
    assert not wrong, f"applications with another number of notices than designed: {list(wrong.items())[:5]} {said}"

    mails = evidence.mails(layout.mail)
    mailed = {seen.data["dedup_key"] for seen in sent.values() if seen.data["channel"] == "email"}
    delivered = {delivery for copies in mails.values() for _, delivery in copies}
    assert delivered == mailed, f"mails without a NotificationSent, or the reverse {said}"
    repeated = {message_id: sorted(copies) for message_id, copies in mails.items() if len(copies) > 1}
    unexplained = [
        message_id
        for message_id, copies in repeated.items()
        if not any(copies[0][0] - MAIL_SLACK_SECONDS <= kill <= copies[-1][0] for kill in notify_kills)
    ]
    assert not unexplained, f"mails sent more than once without a notify crash between: {unexplained[:5]} {said}"
    assert len(repeated) <= SENDERS * len(notify_kills), f"{len(repeated)} mails repeated {said}"
    letters = {path.stem for path in layout.digital_post.glob("*.json")}
    posted = {seen.data["dedup_key"].replace(":", ".") for seen in sent.values() if seen.data["channel"] != "email"}
    assert posted <= letters, f"Digital Post letters missing: {list(posted - letters)[:5]} {said}"


def _each_placement_took_effect_once(tape: Tape, cases: list[Case], said: str) -> None:
    """Every confirmed placement: one plan record, one benefit adjustment (never a second event for one)."""
    confirmed = Counter(case.application_id for case in cases if case.kind is not Kind.UNKNOWN_CITIZEN)
    for event in (ActivationRecorded, BenefitAdjusted):
        effects = Counter(seen.application_id for seen in _distinct(tape.of_type(event.type)))
        assert effects == confirmed, f"{event.__name__} per application differs from once each {said}"


def _each_keys_events_in_order(tape: Tape, said: str) -> None:
    """Per topic and key: one partition, and the events (a relay's repeat aside) in the order they happened.

    A service writes a key's events under that aggregate's row lock, so their `ce_time` follows commit order; the
    relays of a service's replicas publish one at a time in outbox order, so a topic must show them in that order.
    """
    by_key: dict[tuple[str, str], list[Seen]] = defaultdict(list)
    for seen in sorted(tape.seen, key=lambda seen: (seen.topic, seen.partition, seen.offset)):
        if not seen.topic.endswith(".dlq"):
            by_key[seen.topic, seen.key].append(seen)
    spread = {key: {seen.partition for seen in records} for key, records in by_key.items()}
    assert not [key for key, partitions in spread.items() if len(partitions) > 1], f"keys on two partitions {said}"
    assert len({(seen.topic, seen.partition) for seen in tape.seen}) > len(TOPICS), f"one partition per topic {said}"
    disordered = {}
    for (topic, key), records in by_key.items():
        times = [seen.headers["ce_time"] for seen in _distinct(records)]
        if times != sorted(times, key=datetime.fromisoformat):
            disordered[topic, key] = [seen.type for seen in _distinct(records)]
    assert not disordered, f"{len(disordered)} keys' events out of order: {list(disordered.items())[:3]} {said}"
    submissions = (ApplicationSubmitted.type, ApplicationSubmittedV2.type)
    first = {key: records[0].type for (topic, key), records in by_key.items() if topic == subsidy.TOPIC}
    assert not [key for key, kind in first.items() if kind not in submissions], f"a first event not a submission {said}"


async def _nothing_is_left_unprocessed(
    infra: Infrastructure, layout: Layout, prefix: str, tape: Tape, said: str
) -> None:
    lag = await stack.consumer_lag(infra.kafka, tuple(f"{prefix}{s.principal}." for s in layout.services))
    assert lag and not any(lag.values()), f"consumer lag: {lag} {said}"
    assert not any((await evidence.unrelayed(infra, layout)).values()), f"outbox rows left {said}"
    dead = [
        (seen.topic, seen.headers.get("dlq_error_class"), seen.headers.get("dlq_error_message"))
        for seen in tape.seen
        if seen.topic.endswith(".dlq")
    ]
    assert not dead, f"dead letters: {dead[:5]} {said}"


def _once_per(events: list[Seen], field: str, what: str, said: str) -> dict[str, Seen]:
    """The events by `field`, failing if any value has two different events (a relay's repeat of one is allowed)."""
    by_value: dict[str, set[str]] = defaultdict(set)
    first: dict[str, Seen] = {}
    for seen in events:
        by_value[seen.data[field]].add(seen.id)
        first.setdefault(seen.data[field], seen)
    twice = {value: len(ids) for value, ids in by_value.items() if len(ids) > 1}
    assert not twice, f"{what} made more than once for {len(twice)} {field}s: {list(twice)[:5]} {said}"
    return first


def _distinct(events: Iterable[Seen]) -> list[Seen]:
    """One record per event id: a relay killed after sending and before deleting its rows sends them again."""
    return list({seen.id: seen for seen in events}.values())


def _subsidy_ore(month: date, hours: Decimal) -> int:
    """A private employer's subsidy for `hours` in `month`, from the rate in the rule data (read here, not through
    the services), rounded half up to whole øre."""
    versions = [tomllib.loads(path.read_text()) for path in (REPO / "rules" / "subsidy_rates").glob("[0-9]*.toml")]
    in_force = [v for v in versions if v["valid_from"] <= month <= v.get("valid_to", date.max)]
    assert in_force, f"no subsidy rate in the rule data for {month}"
    rate = Decimal(str(max(in_force, key=lambda v: v["valid_from"])["hourly_rates"]["private"]))
    return int((rate * hours * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
