"""`jobbro dlq`: the operator's view of dead letters — list, show, replay after a fix, park with a reason.

See `jobbro.dead_letters` for how resolution is kept, and docs/operations.md for when to replay and when to park.
"""

import asyncio
import getpass
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts.catalog import TOPICS
from jobbro import dead_letters
from jobbro import log as logs
from jobbro.infra import local_infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbroctl import stack

app = typer.Typer(no_args_is_help=True, help=__doc__, rich_markup_mode="rich")
console = Console()

Topic = Annotated[str, typer.Argument(help="A dead-letter topic of the catalog, e.g. subsidy.applications.v1.dlq.")]
Prefix = Annotated[
    str | None, typer.Option("--prefix", help="Topic namespace (default: the one the running stack was started with).")
]
Partition = Annotated[int, typer.Option(help="The dead-letter topic's partition.")]
Through = Annotated[int, typer.Option(help="Resolve the open dead letters of the partition up to this offset.")]
Actor = Annotated[str, typer.Option(help="Who resolves (recorded with the resolution).")]
OPERATOR = getpass.getuser()


def _kafka() -> KafkaAccess:
    return local_infrastructure().kafka


def _topic(topic: str, prefix: str | None) -> str:
    known = {t.dlq for t in TOPICS}
    if topic not in known:
        raise typer.BadParameter(f"not a dead-letter topic of the catalog; one of: {', '.join(sorted(known))}")
    return (stack.running_topic_prefix() if prefix is None else prefix) + topic


@app.command("list")
def list_(
    topic: Annotated[str | None, typer.Argument(help="One dead-letter topic (default: every catalog topic's).")] = None,
    prefix: Prefix = None,
    all_: Annotated[bool, typer.Option("--all", help="Also the dead letters already replayed or parked.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
) -> None:
    """The open dead letters: where each came from, its event type, why it failed and when."""
    rows = [
        {
            "topic": name,
            "partition": letter.partition,
            "offset": letter.offset,
            "state": "resolved" if letter.resolved else "open",
            "event_type": letter.header("ce_type"),
            "consumer_group": letter.failure.get("consumer_group", ""),
            "error": f"{letter.failure.get('error_class', '')}: {letter.failure.get('error_message', '')}",
            "failed_at": letter.failure.get("failed_at", ""),
        }
        for name in ([topic] if topic else sorted(t.dlq for t in TOPICS))
        for letter in asyncio.run(dead_letters.read(_kafka(), _topic(name, prefix), include_resolved=all_))
    ]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("topic", "position", "state", "event type", "consumer group", "error", "failed at")
    for row in rows:
        position = f"{row['partition']}:{row['offset']}"
        table.add_row(str(row["topic"]), position, *(str(row[name])[:80] for name in list(row)[4:]))
    console.print(table if rows else "no dead letters")


@app.command()
def show(
    topic: Topic,
    partition: Partition,
    offset: Annotated[int, typer.Option(help="The dead letter's offset.")],
    prefix: Prefix = None,
    personal_data: Annotated[bool, typer.Option(help="Show CPR numbers instead of masking them.")] = False,
) -> None:
    """One dead letter whole: its failure (with the trace), headers, key and data, as JSON."""
    letters = asyncio.run(dead_letters.read(_kafka(), _topic(topic, prefix), include_resolved=True))
    letter = next((x for x in letters if (x.partition, x.offset) == (partition, offset)), None)
    if letter is None:
        raise typer.BadParameter(f"no dead letter at {partition}:{offset} of {topic}")
    shown = {
        "position": letter.position,
        "resolved": letter.resolved,
        "original_topic": letter.original_topic,
        "failure": letter.failure,
        "headers": {name: raw.decode(errors="replace") for name, raw in letter.original_headers},
        "key": letter.key and letter.key.decode(errors="replace"),
        "data": _json_or_text(letter.value),
    }
    typer.echo(json.dumps(shown if personal_data else logs.redact(shown), ensure_ascii=False, indent=2))


@app.command()
def replay(
    topic: Topic,
    partition: Partition,
    through: Through,
    prefix: Prefix = None,
    reason: Annotated[str, typer.Option(help="What was fixed (recorded with the resolution).")] = "",
    actor: Actor = OPERATOR,
) -> None:
    """After a fix: send the partition's open dead letters up to --through back to their topic, in order."""
    _resolve(topic, partition, through, prefix, "replayed", actor, reason)


@app.command()
def park(
    topic: Topic,
    partition: Partition,
    through: Through,
    reason: Annotated[str, typer.Option(help="Why these must never be handled (required, recorded).")],
    prefix: Prefix = None,
    actor: Actor = OPERATOR,
) -> None:
    """Set the partition's open dead letters up to --through aside for good, with a reason."""
    _resolve(topic, partition, through, prefix, "parked", actor, reason)


@app.command()
def resolutions(topic: Topic, prefix: Prefix = None) -> None:
    """How each partition of a dead-letter topic was last resolved: up to which offset, how, by whom, why."""
    table = Table("partition", "through offset", "action", "by", "reason", "at")
    for r in asyncio.run(dead_letters.resolutions(_kafka(), _topic(topic, prefix))):
        table.add_row(str(r.partition), str(r.through), r.action, r.actor, r.reason, r.at)
    console.print(table)


def _resolve(
    topic: str, partition: int, through: int, prefix: str | None, action: dead_letters.Action, actor: str, reason: str
) -> None:
    try:
        done = asyncio.run(
            dead_letters.resolve(
                _kafka(), _topic(topic, prefix), partition, through, action=action, actor=actor, reason=reason
            )
        )
    except (LookupError, ValueError) as refused:
        console.print(f"[red]refused[/]: {refused}")
        raise typer.Exit(1) from None
    console.print(
        f"{action}: {len(done)} dead letter(s) of {topic} partition {partition}, offsets "
        f"{done[0].offset}–{done[-1].offset}"
    )


def _json_or_text(value: bytes | None) -> object:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value.decode(errors="replace")
