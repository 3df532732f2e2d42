"""The trail: every catalog topic of a stack read from the moment the demo starts, and printed per application.

The watcher reads as an integrator would (its own consumer, no group, CloudEvents decoded with the catalog), so
what the demo prints is what crossed the topics, not what a service says about itself. CPR numbers, which two
event types carry, are kept in memory only to tell the demo's citizens apart, and masked in what leaves the demo.
"""

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.console import Console
from rich.table import Table

from contracts.catalog import EVENT_TYPES, PERSONAL_DATA, TOPICS
from contracts.envelope import EnvelopeError, Event, Metadata, decode
from jobbro.infra import REPO
from jobbro.kafka_access import KafkaAccess
from jobbro.log import CPR_MASK

if TYPE_CHECKING:  # the result holds what the watcher saw
    from demo.result import DemoResult, Notice


@dataclass(frozen=True)
class Seen:
    """One event as it crossed a topic."""

    topic: str
    """The catalog name, without the stack's prefix."""
    partition: int
    offset: int
    meta: Metadata
    event: Event

    @property
    def application_id(self) -> str | None:
        found = getattr(self.event, "application_id", None)
        return str(found) if found else None

    def without_cpr(self) -> "Seen":
        """The same event with every CPR number in it masked (the catalog marks which fields hold one)."""
        fields = [name for name, kind in PERSONAL_DATA[self.meta.type].items() if kind == "cpr"]
        masked = self.event.model_copy(update={name: CPR_MASK for name in fields if getattr(self.event, name)})
        return replace(self, event=masked)


class TopicWatcher:
    """Reads every catalog topic of the stack from where each partition ends when it starts, until stopped."""

    def __init__(self, kafka: KafkaAccess, prefix: str) -> None:
        self._prefix = prefix
        self._consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=None, enable_auto_commit=False)
        self._admin = AIOKafkaAdminClient(**kafka.client_kwargs())
        self._seen: list[Seen] = []
        self._pump: asyncio.Task[None] | None = None

    @property
    def seen(self) -> list[Seen]:
        """What was read so far; raises what stopped the reading, if it stopped."""
        if self._pump and self._pump.done():
            self._pump.result()
            raise RuntimeError("the topic watcher stopped")
        return list(self._seen)

    def of_type(self, model: type[Event]) -> list[Seen]:
        """What was read so far of one event type."""
        return [seen for seen in self.seen if isinstance(seen.event, model)]

    async def handled_by(self, group: str, events: Iterable[Seen]) -> bool:
        """Whether consumer group `group` (the stack's prefix names it too) has committed past every one of `events`:
        the kit commits an offset only after the handler's transaction, so the consuming service has recorded them."""
        committed = await self._admin.list_consumer_group_offsets(self._prefix + group)
        for seen in events:
            position = committed.get(TopicPartition(self._prefix + seen.topic, seen.partition))
            if position is None or position.offset <= seen.offset:
                return False
        return True

    async def __aenter__(self) -> "TopicWatcher":
        await self._admin.start()
        await self._consumer.start()
        names = [self._prefix + topic.name for topic in TOPICS]
        described = await self._admin.describe_topics(names)
        missing = [topic["topic"] for topic in described if topic["error_code"]]
        if missing:
            await self.__aexit__()
            raise RuntimeError(f"topics {missing} do not exist: is the stack up, with topic prefix {self._prefix!r}?")
        partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
        self._consumer.assign(partitions)
        for partition, offset in (await self._consumer.end_offsets(partitions)).items():
            self._consumer.seek(partition, offset)  # explicit, so nothing published from now on is missed
        self._pump = asyncio.create_task(self._read(), name="demo-topic-watcher")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._pump:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        await self._admin.close()
        await self._consumer.stop()

    async def _read(self) -> None:
        """Decode every record as it comes, until cancelled."""
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    try:
                        meta, event = decode(record.headers, record.value, EVENT_TYPES)
                    except EnvelopeError:
                        continue  # not ours to judge: the services dead-letter what they cannot read
                    topic = record.topic.removeprefix(self._prefix)
                    self._seen.append(Seen(topic, record.partition, record.offset, meta, event))


def print_report(console: Console, result: "DemoResult") -> None:
    """The trail per application, the citizen payments, where notices went, the webhooks, the totals."""
    for outcome in result.applications:
        console.rule(f"[bold]{outcome.label}[/]: {outcome.state}")
        console.print(f"application {outcome.application_id}; citizen {outcome.citizen_ref}: {outcome.citizen}")
        for reason in outcome.reasons:
            console.print(f"  [yellow]{reason}[/]")
        console.print(_events_table(result.trail_of(outcome.application_id)))
    console.rule(f"[bold]Payment run {result.month}[/]: citizens' benefit payments")
    console.print(_events_table(result.citizen_payments, result.payees))
    console.rule("[bold]Where the notices went[/]")
    console.print(
        f"mails as the mail sink kept them in {_shown(result.mail)}, Digital Post letters as the stand-in "
        f"wrote them in {_shown(result.digital_post)}"
    )
    console.print(_notices_table(result.notices))
    console.rule("[bold]Webhooks[/]")
    console.print(
        f"{len(result.webhooks)} deliveries to {result.webhook_url} with a valid HMAC signature, "
        f"{result.webhooks_refused} refused; log: {_shown(result.webhook_log)}"
    )
    kinds = Counter(short(delivery.type) for delivery in result.webhooks)
    console.print(", ".join(f"{kind} × {n}" for kind, n in sorted(kinds.items())))
    console.rule(f"[bold]Reconciliation {result.month}[/] (benefits ledger, every payment of the month)")
    console.print(_totals_table(result.reconciliation))
    console.print(f"benefits CLI: {result.payment_run}")
    counts = ", ".join(
        f"{short(kind)} × {n}" for kind, n in sorted(result.event_counts.items(), key=lambda item: short(item[0]))
    )
    console.print(f"{len(result.events)} events on the topics: {counts}")
    timings = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in result.timings.items())
    console.print(f"took {sum(result.timings.values()):.1f}s: {timings}")


def short(event_type: str) -> str:
    """`dk.jobbro.subsidy.application-approved.v1` → `application-approved`."""
    return event_type.rsplit(".", 2)[-2]


def _events_table(events: Iterable[Seen], payees: Mapping[UUID, str] = MappingProxyType({})) -> Table:
    """One line per event; payments to a citizen name who (`payees`, by instruction id)."""
    table = Table("when (UTC)", "service", "event", "detail", box=None, pad_edge=False)
    for seen in events:
        payee = payees.get(getattr(seen.event, "instruction_id", None))
        detail = f"{describe(seen.event)} ({payee})" if payee else describe(seen.event)
        table.add_row(seen.meta.time.strftime("%H:%M:%S.%f")[:-3], seen.meta.source, short(seen.meta.type), detail)
    return table


def describe(event: Event) -> str:
    """A few words on what an event says; never a CPR number."""
    words = _WORDS.get(short(event.type))
    return words(event.model_dump(mode="json")) if words else ""


_WORDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "application-submitted": lambda d: f"{d['scheme']} {_period(d['period'])}",
    "citizen-assessed": lambda d: f"{d['target_group']}, eligible: {d['eligible']}",
    "activation-checked": lambda d: f"{len(d['conflicts'])} conflict(s) in the plan",
    "representative-approval-requested": lambda d: f"answer by {d['respond_by']}",
    "application-approved": lambda d: _DECIDERS[d["decided_by"]],
    "application-rejected": lambda d: (
        f"{_DECIDERS[d['decided_by']]}: {', '.join(r['rule'] for r in d['failed_rules'])}"
    ),
    "application-referred": lambda d: ", ".join(rule["rule"] for rule in d["reasons"]),
    "placement-confirmed": lambda d: _period(d["period"]),
    "activation-recorded": lambda d: f"plan entry {_period(d['period'])}",
    "activation-ended": lambda d: f"{d['outcome']}, last day {d['last_day']}",
    "benefit-adjusted": lambda d: f"{d['benefit']} {d['change']} {_period(d['period'])}",
    "placement-extended": lambda d: f"{d['previous_end']} → {d['new_end']}",
    "placement-ended": lambda d: f"{d['kind']} ({d['reason']}), last day {d['last_day']}",
    "wage-report-submitted": lambda d: f"{_period(d['month'])}: {d['paid_hours']} h",
    "payment-instruction-issued": lambda d: f"{d['purpose']} {_dkk(d['amount_ore'])} to {d['payee_kind']}",
    "payment-settled": lambda d: f"{_dkk(d['amount_ore'])}, {d['bank_reference']}",
    "payment-failed": lambda d: f"{d['code']}: {d['reason']}",
    "notification-sent": lambda d: f"{_template(d)} to {d['recipient_role']} by {d['channel']}",
    "notification-failed": lambda d: f"{_template(d)}: {d['reason']}",
}
"""Per event (short type), its few words."""
_DECIDERS = {"automatic": "by the rules", "caseworker": "by a caseworker"}


def _notices_table(notices: Iterable["Notice"]) -> Table:
    """One line per notice: about which application, to whom, how, and the file it is in."""
    table = Table("application", "to", "by", "template", "where", box=None, pad_edge=False)
    for notice in notices:
        table.add_row(notice.key, notice.role, notice.channel, notice.template, _shown(notice.where))
    return table


def _totals_table(reconciliation: dict[str, Any]) -> Table:
    """The ledger's reconciliation per purpose and in total, in kroner."""
    columns = ("instructions", "issued_ore", "settled_ore", "failed_ore", "outstanding_ore")
    table = Table("purpose", *(column.removesuffix("_ore") for column in columns), box=None, pad_edge=False)
    for row in [*reconciliation["purposes"], {"purpose": "[bold]total[/]", **reconciliation["total"]}]:
        table.add_row(row["purpose"], *(str(row[c]) if c == "instructions" else _dkk(row[c]) for c in columns))
    return table


def _template(notification: dict[str, Any]) -> str:
    """A notice's template, or for a webhook the event it forwarded."""
    template = notification["template"]
    return short(template) if template.startswith("dk.jobbro.") else template


def _period(period: dict[str, Any]) -> str:
    return f"{period['start']} – {period.get('end') or '…'}"


def _dkk(ore: int) -> str:
    return f"{ore / 100:,.2f} DKK"


def _shown(where: Path | str) -> str:
    """A path relative to the repository where it lies inside it."""
    path = Path(where)
    return str(path.relative_to(REPO)) if path.is_absolute() and path.is_relative_to(REPO) else str(where)
