"""`jobbro`: run the local stack and talk to it as employers, back-office and integrators do."""

import asyncio
import json
import subprocess
import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer
from aiokafka import AIOKafkaConsumer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from contracts.catalog import EVENT_TYPES, TOPICS
from contracts.envelope import EnvelopeError, decode
from contracts.provision import provision
from demo import logins, scenario, trail
from demo.waiting import DidNotHappen
from jobbro.infra import REPO, local_infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.log import redact
from jobbroctl import dlq_cli, stack
from services.subsidy import devca, signing

app = typer.Typer(no_args_is_help=True, help=__doc__, rich_markup_mode="rich", pretty_exceptions_show_locals=False)
app.add_typer(dlq_cli.app, name="dlq")
keys = typer.Typer(no_args_is_help=True, help="Citizens' data keys: rewrap them when the KEK rotates.")
app.add_typer(keys, name="keys")
console = Console()

PKI = REPO / ".local" / "pki"
Prefix = Annotated[str, typer.Option(help="Topic namespace of the stack (empty: the catalog's own names).")]
StackPrefix = Annotated[
    str | None, typer.Option("--prefix", help="Topic namespace (default: the one the running stack was started with).")
]


@app.command()
def up(
    prefix: Prefix = "",
    replicas: Annotated[
        int, typer.Option(min=1, help="Processes of each service (2nd on its port + 100, 3rd + 200…).")
    ] = 1,
) -> None:
    """Start Kafka and PostgreSQL, create every catalog topic, start the services and stand-ins, wait until ready."""
    layout = stack.local_layout(replicas)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as progress:
        task = progress.add_task("Kafka, PostgreSQL and Keycloak (deploy/local/infra up)…")
        infra = local_infrastructure()
        progress.update(task, description="topics…")
        created = asyncio.run(provision(infra.kafka, prefix=prefix)).created
        stack.prepare()
        stack.record_replicas(layout)
        for service in layout.services:
            progress.update(task, description=f"{service.key}…")
            stack.start(service, infra, prefix)
            asyncio.run(stack.wait_ready(service))
    console.print(f"[green]up[/]: {len(created)} topics created; services:")
    _print_status(infra.kafka)


@app.command()
def down(
    infrastructure: Annotated[bool, typer.Option("--infra", help="Also stop Kafka, PostgreSQL and Keycloak.")] = False,
) -> None:
    """Stop the services this stack started (by pid file), and with --infra the infrastructure too."""
    for service in reversed(stack.running_layout().services):
        console.print(f"{service.key}: {'stopped' if stack.stop(service) else 'was not running'}")
    if infrastructure:
        subprocess.run([str(REPO / "deploy" / "local" / "infra"), "down"], check=True)


@app.command()
def status() -> None:
    """Each service: process, health, and consumer lag per group."""
    _print_status(local_infrastructure().kafka)


def _print_status(kafka: KafkaAccess) -> None:
    table = Table("service", "pid", "ready", "url", "consumer lag")
    for row in asyncio.run(stack.status(kafka, stack.running_layout())):
        lag = ", ".join(f"{group}={n}" for group, n in sorted(row.lag.items())) or "-"
        ready = "[green]ready[/]" if row.ready else f"[red]not ready[/]: {row.reason}"
        table.add_row(row.service.key, str(row.pid or "-"), ready, row.service.url, lag)
    console.print(table)


@app.command()
def tail(
    topic: Annotated[str, typer.Argument(help="A catalog topic, e.g. subsidy.applications.v1 (or its .dlq).")],
    prefix: StackPrefix = None,
    from_beginning: Annotated[bool, typer.Option(help="Start at the oldest record instead of new ones.")] = False,
    limit: Annotated[int, typer.Option(help="Stop after this many records (0: follow forever).")] = 0,
    personal_data: Annotated[bool, typer.Option(help="Show CPR numbers instead of masking them.")] = False,
) -> None:
    """Print a topic's CloudEvents as an integrator sees them: type, key, time, data (one JSON object per line)."""
    known = {t.name for t in TOPICS} | {t.dlq for t in TOPICS}
    if topic not in known:
        raise typer.BadParameter(f"not a catalog topic; one of: {', '.join(sorted(known))}")
    namespace = stack.running_topic_prefix() if prefix is None else prefix
    asyncio.run(_tail(local_infrastructure().kafka, namespace + topic, from_beginning, limit, personal_data))


async def _tail(kafka: KafkaAccess, topic: str, from_beginning: bool, limit: int, personal_data: bool) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.client_kwargs(),
        group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    shown = 0
    try:
        async for record in consumer:
            line = _describe(record.headers, record.value, record.key)
            typer.echo(json.dumps(line if personal_data else redact(line), ensure_ascii=False))
            shown += 1
            if limit and shown >= limit:
                return
    finally:
        await consumer.stop()


def _describe(headers: list[tuple[str, bytes]], value: bytes | None, key: bytes | None) -> dict[str, object]:
    try:
        meta, event = decode(headers, value, EVENT_TYPES)
    except EnvelopeError as exc:
        return {"key": key and key.decode(errors="replace"), "undecodable": str(exc)}
    return {
        "type": meta.type,
        "key": meta.subject,
        "time": meta.time.isoformat(),
        "source": meta.source,
        "id": str(meta.id),
        "correlationid": str(meta.correlation_id),
        "data": event.model_dump(mode="json"),
    }


@app.command()
def demo(prefix: StackPrefix = None) -> None:
    """Run the scenario on the running stack (`up` first): four applications, placements, payments, notices."""
    infra = local_infrastructure()
    prefix = stack.running_topic_prefix() if prefix is None else prefix
    with console.status("demo…") as progress:
        try:
            result = asyncio.run(
                scenario.run(stack.DEFAULT, infra, prefix, progress=lambda step: progress.update(f"demo: {step}…"))
            )
        except (DidNotHappen, scenario.DemoFailed) as failure:
            console.print(f"[red]demo failed[/]: {failure}")
            raise typer.Exit(1) from None
    trail.print_report(console, result)


@app.command()
def bench(
    applications: Annotated[int, typer.Option(help="Applications through the flow (0: payment runs only).")] = 2000,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at most.")] = 64,
    rate: Annotated[
        float | None, typer.Option(help="Open loop: submit this many applications a second (default: at once).")
    ] = None,
    wage_every: Annotated[int, typer.Option(help="Every n-th application is a wage subsidy that gets paid.")] = 5,
    payment_runs: Annotated[
        str, typer.Option(help="Generated registry sizes for the payment run, comma-separated.")
    ] = "10000,100000,1000000",
    quick: Annotated[bool, typer.Option(help="A smoke run: 100 applications, payment runs of 1,000, 5,000.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds the flow may take before the run fails.")] = 1800.0,
    hop: Annotated[bool, typer.Option(help="Only the kit's hop against raw aiokafka consume → produce.")] = False,
    hop_records: Annotated[int, typer.Option(help="Records passed through in each pass of --hop.")] = 20000,
    profile: Annotated[
        bool, typer.Option(help="py-spy samples each service during the flow (with --hop: the kit's pass).")
    ] = False,
    half: Annotated[
        bool, typer.Option(help="After the saturated flow, the same flow in an open loop at half its rate.")
    ] = False,
    idle: Annotated[bool, typer.Option(help="Only an idle stack's CPU, then one event's latency.")] = False,
    idle_seconds: Annotated[float, typer.Option(help="How long --idle samples the idle stack.")] = 60.0,
    replicas: Annotated[
        int | None,
        typer.Option(help="Instead: the flow with this many replicas of each service beside one, and a rebalance."),
    ] = None,
) -> None:
    """Measure: the flow on a stack of its own against the raw Kafka ceiling, and the payment run at scale (or, with
    `--replicas`, the flow scaled out)."""
    # imported here: the image (deploy/Dockerfile) has no bench package, and its other commands must still run
    from bench import report as bench_report
    from bench import run as bench_run

    if hop:
        _bench_hop(hop_records, profile)
        return
    if idle:
        from bench import idle as bench_idle

        command = " ".join(["jobbro bench", *sys.argv[2:]])
        _, path = asyncio.run(bench_idle.run(local_infrastructure(), seconds=idle_seconds, command=command))
        console.print(path.with_suffix(".md").read_text())
        return

    if quick:
        applications, payment_runs = min(applications, 100), "1000,5000"
    options = bench_run.Options(
        applications=applications,
        concurrency=concurrency,
        rate=rate,
        wage_every=wage_every,
        payment_sizes=tuple(int(size) for size in payment_runs.split(",") if size.strip()),
        timeout=timeout,
        command=" ".join(["jobbro bench", *sys.argv[2:]]),
        half=half,
        profile=profile,
    )
    infra = local_infrastructure()
    if replicas:
        from bench import replicas as bench_replicas

        with bench_run.progress_bars() as bars:
            scaled, path = asyncio.run(bench_replicas.run(options, infra, bars, replicas))
        path.with_suffix(".md").write_text(bench_replicas.markdown(scaled))
        console.print(bench_replicas.markdown(scaled))
        console.print(f"results: {path} (Markdown beside it, for docs/benchmarks.md)")
        return
    with bench_run.progress_bars() as bars:
        results, path = asyncio.run(bench_run.run(options, infra, bars))
    for table in bench_report.tables(results):
        console.print(table)
    path.with_suffix(".md").write_text(bench_report.markdown(results))
    console.print(f"results: {path} (Markdown beside it, for docs/benchmarks.md)")


def _bench_hop(records: int, profile: bool) -> None:
    from bench import hop

    command = " ".join(["jobbro bench", *sys.argv[2:]])
    results, path = asyncio.run(
        hop.run(local_infrastructure(), records=records, record_bytes=886, command=command, profile=profile)
    )
    console.print(path.with_suffix(".md").read_text())
    console.print(f"results: {path} (Markdown beside it, for docs/benchmarks.md)")


@app.command()
def certs(
    out: Annotated[Path, typer.Option(help="Folder for the CA, CRL and employer keys and certificates.")] = PKI,
) -> None:
    """Make a DEVELOPMENT CA and employer certificates (one revoked, with its CRL) for signing applications."""
    raise typer.Exit(devca.main(["make", "--out", str(out)]))


@app.command()
def sign(
    document: Annotated[Path, typer.Argument(help="The application, JSON.")],
    key: Annotated[Path, typer.Option(help="The signer's private key, PEM.")],
    chain: Annotated[Path, typer.Option(help="The signer's certificate first, then its issuers, PEM.")],
    out: Annotated[Path, typer.Option(help="Where to write the JWS.")],
) -> None:
    """Sign an application file: a JWS over its RFC 8785 canonical JSON with the certificate chain in x5c."""
    raise typer.Exit(
        devca.main(["sign", "--key", str(key), "--chain", str(chain), "--document", str(document), "--out", str(out)])
    )


@app.command("import-citizens")
def import_citizens(
    file: Annotated[Path, typer.Argument(help="Citizens as CSV (.csv) or JSON (.json), one per row.", exists=True)],
    url: Annotated[str | None, typer.Option(help="The benefits service (default: the local stack's).")] = None,
) -> None:
    """Import citizens into the benefit registry as the development operator: every row, or none (each bad row
    named)."""
    media_type = "text/csv" if file.suffix.lower() == ".csv" else "application/json"
    endpoint = (url or stack.service("benefits").url) + "/v1/admin/citizens/import"
    token = logins.token_sync(stack.oidc_issuer(), logins.OPERATOR)
    headers = {"content-type": media_type, "authorization": f"Bearer {token}"}
    response = httpx.post(endpoint, content=file.read_bytes(), headers=headers, timeout=60)
    _print_response(response)


@app.command("payment-run")
def payment_run(month: Annotated[str, typer.Option(help="The month to pay, YYYY-MM.")]) -> None:
    """Issue every citizen's benefit payment instructions for a month (re-running a month issues nothing new)."""
    infra = local_infrastructure()
    with console.status(f"payment run {month}…"):
        done = stack.run_command(
            stack.service("benefits"), infra, stack.running_topic_prefix(), "payment-run", "--month", month
        )
    console.print(done.stdout.strip() or redact(done.stderr.strip()[-2000:]))
    raise typer.Exit(done.returncode)


class KeyedService(StrEnum):
    """The services that keep citizens' data keys."""

    SUBSIDY = "subsidy"
    BENEFITS = "benefits"


@keys.command("rewrap")
def rewrap_keys(
    service: Annotated[KeyedService, typer.Option(help="The service whose data keys to rewrap.")],
) -> None:
    """Rewrap every data key of a service under the newest KEK of its `*_DATA_KEY_KEKS` (list the new one first,
    rewrap, then remove the old one: docs/operations.md)."""
    infra = local_infrastructure()
    with console.status(f"rewrapping {service}'s data keys…"):
        done = stack.run_command(stack.service(service.value), infra, stack.running_topic_prefix(), "rewrap-keys")
    console.print(done.stdout.strip() or redact(done.stderr.strip()[-2000:]))
    raise typer.Exit(done.returncode)


@app.command()
def erase(
    reason: Annotated[str, typer.Option(help="Why, with its basis (e.g. GDPR art. 17 and the case number); kept.")],
    subsidy: Annotated[str | None, typer.Option(help="The subsidy service (default: the local stack's).")] = None,
    benefits: Annotated[str | None, typer.Option(help="The benefits service (default: the local stack's).")] = None,
) -> None:
    """Erase a citizen's personal data as the development operator: subsidy's signed documents naming them, then
    benefits' registry entry (each service destroys the citizen's data key). The CPR number is asked for, never
    taken from the command line."""
    cpr = typer.prompt("CPR number", hide_input=True)
    token = logins.token_sync(stack.oidc_issuer(), logins.OPERATOR)
    for endpoint in (
        (subsidy or stack.service("subsidy").url) + "/v1/erasures",
        (benefits or stack.service("benefits").url) + "/v1/admin/erasures",
    ):
        response = httpx.post(
            endpoint, json={"cpr": cpr, "reason": reason}, headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        _print_response(response)


@app.command()
def submit(
    application: Annotated[Path, typer.Argument(help="The application form, JSON (see /docs of subsidy).")],
    cvr: Annotated[str, typer.Option(help="The employer submitting (its bearer token names this CVR).")],
    signature: Annotated[
        Path | None, typer.Option(help="A JWS from `jobbro sign`; without it the form is signed now.")
    ] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Repeat a submission safely (default: new).")] = None,
    url: Annotated[str | None, typer.Option(help="The subsidy service (default: the local stack's).")] = None,
    pki: Annotated[Path, typer.Option(help="Where the employer's development key and certificate are.")] = PKI,
) -> None:
    """Submit an application as the employer, signed with its development certificate.

    A repeat with the same --idempotency-key must send the same request: pass the same --signature (a new
    signature carries a new signing time, and the service refuses a key reused with a different request).
    """
    form = json.loads(application.read_text())
    jws = signature.read_text().strip() if signature else _sign(form, pki / f"employer-{cvr}.key.pem", pki)
    if cvr not in logins.EMPLOYERS:
        raise typer.BadParameter(f"no development login signs for CVR {cvr}: one of {', '.join(logins.EMPLOYERS)}")
    token = logins.token_sync(stack.oidc_issuer(), logins.EMPLOYERS[cvr])
    response = httpx.post(
        (url or stack.service("subsidy").url) + "/v1/applications",
        json={"application": form, "signature": jws},
        headers={"authorization": f"Bearer {token}", "idempotency-key": idempotency_key or str(uuid.uuid4())},
        timeout=30,
    )
    _print_response(response)


def _sign(form: dict[str, object], key_file: Path, pki: Path) -> str:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    chain = x509.load_pem_x509_certificates((pki / key_file.name.replace(".key.pem", ".pem")).read_bytes())
    return signing.sign(form, key, chain)  # type: ignore[arg-type]


def _print_response(response: httpx.Response) -> None:
    console.print_json(response.text) if response.text else console.print(str(response.status_code))
    if response.is_error:
        raise typer.Exit(1)


def main() -> None:
    app()
