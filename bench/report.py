"""Figures from a run: percentiles, the tables printed at the end, the Markdown pasted into docs/benchmarks.md, and
the comparison with the targets (goals to report against, never assertions)."""

import math
from collections.abc import Iterable
from typing import Any

from rich.table import Table

TARGETS = {
    "applications_per_second": 500,
    "p99_seconds": 1.0,
    "event_layer_ratio": 0.30,
    "million_citizen_payment_run_seconds": 60,
}
_MIB = 2**20


def percentiles(values: Iterable[float]) -> dict[str, float]:
    """Count, p50, p95, p99 and max (nearest rank), in seconds."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def rank(p: float) -> float:
        return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]

    return {"count": len(ordered), "p50": rank(50), "p95": rank(95), "p99": rank(99), "max": ordered[-1]}


def tables(results: dict[str, Any]) -> list[Table]:
    """What the terminal shows at the end of a run."""
    shown = []
    flow = results.get("flow")
    if flow:
        latency = Table("milestone (from submission)", "n", "p50", "p95", "p99", "max", title=_headline(results))
        for milestone, row in flow["latency"].items():
            latency.add_row(milestone, str(row["count"]), *(_seconds(row.get(p)) for p in ("p50", "p95", "p99", "max")))
        shown.append(latency)
        processes = Table("process", "CPU s", "CPU % of run", "peak RSS MiB", title="Processes during the flow")
        for name, row in flow["processes"].items():
            share = row["cpu_seconds"] / flow["seconds"] * 100
            processes.add_row(name, f"{row['cpu_seconds']:.1f}", f"{share:.0f}", f"{row['peak_rss_mib']:.0f}")
        shown.append(processes)
    half = results.get("half")
    if half:
        latency = Table("milestone (from submission)", "n", "p50", "p95", "p99", "max", title=_half_headline(half))
        for milestone, row in half["latency"].items():
            latency.add_row(milestone, str(row["count"]), *(_seconds(row.get(p)) for p in ("p50", "p95", "p99", "max")))
        shown.append(latency)
    runs = results.get("payment_runs")
    if runs:
        payments = Table(
            "citizens",
            "seconds",
            "COPY floor s",
            "× floor",
            "CPU × floor",
            "peak RSS MiB",
            "RSS at 10 % MiB",
            title="Payment run against a COPY of what it reads and writes",
        )
        for run in runs:
            payments.add_row(
                f"{run['citizens']:,}",
                f"{run['seconds']:.1f}",
                f"{run['floor_seconds']:.2f}",
                f"{run['ratio']:.1f}",
                f"{run['cpu_ratio']:.1f}",
                f"{run['peak_rss'] / _MIB:.0f}",
                f"{run['rss_at_tenth'] / _MIB:.0f}",
            )
        shown.append(payments)
    return shown


def markdown(results: dict[str, Any]) -> str:
    """The run as Markdown tables, for docs/benchmarks.md."""
    machine = results["machine"]
    lines = [
        f"Run {results['started']} (`{results['command']}`): {machine['nproc']} cores ({machine['cpu_model']}), "
        f"{machine['memory_gib']} GiB, Linux {machine['kernel']}, Python {machine['python']}, "
        f"Kafka {machine['kafka']}, PostgreSQL {machine['postgresql']}.",
        "",
    ]
    flow = results.get("flow")
    if flow:
        lines += [_headline(results), "", *_flow_markdown(flow)]
        half = results.get("half")
        if half:
            lines += ["", _half_headline(half), "", *_flow_markdown(half)]
        for name, profile in flow.get("profiles", {}).items():
            where = f"Where {name}'s busy samples went (py-spy, innermost project function; `{profile['file']}`):"
            lines += ["", where, ""]
            lines += [f"- {share:.0%} `{frame}`" for frame, share in profile["top"][:8]]
    runs = results.get("payment_runs")
    if runs:
        lines += [
            "",
            "| citizens | payment run s | COPY floor s (read + written) | run ÷ floor | CPU s run (command + "
            "PostgreSQL) | CPU s floor | CPU ÷ floor | peak RSS MiB | RSS at 10 % MiB | instr. |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in runs:
            floor = run["floor"]
            lines.append(
                f"| {run['citizens']:,} | {run['seconds']:.1f} | {run['floor_seconds']:.2f} "
                f"({floor['read_seconds']:.2f} + {floor['written_seconds']:.2f}) | **{run['ratio']:.1f}** | "
                f"{run['cpu_seconds'] + run['postgres_cpu_seconds']:.1f} ({run['cpu_seconds']:.1f} + "
                f"{run['postgres_cpu_seconds']:.1f}) | {floor['cpu_seconds']:.2f} | **{run['cpu_ratio']:.1f}** | "
                f"{run['peak_rss'] / _MIB:.0f} | {run['rss_at_tenth'] / _MIB:.0f} | {run['instructions']:,} |"
            )
    return "\n".join(lines) + "\n"


def _flow_markdown(flow: dict[str, Any]) -> list[str]:
    """One flow's latency and process tables, and its lag line."""
    lines = ["| milestone (from submission) | n | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|"]
    for milestone, row in flow["latency"].items():
        cells = " | ".join(_seconds(row.get(p)) for p in ("p50", "p95", "p99", "max"))
        lines.append(f"| {milestone} | {row['count']} | {cells} |")
    lines += ["", "| process | CPU s | CPU % of the run | CPU ms per application | peak RSS MiB |"]
    lines.append("|---|---|---|---|---|")
    for name, row in flow["processes"].items():
        share = row["cpu_seconds"] / flow["seconds"] * 100
        per = row["cpu_seconds"] / flow["applications"] * 1000
        lines.append(f"| {name} | {row['cpu_seconds']:.1f} | {share:.0f} | {per:.1f} | {row['peak_rss_mib']:.0f} |")
    total = sum(row["cpu_seconds"] for row in flow["processes"].values()) / flow["applications"] * 1000
    lines.append(f"| all | | | **{total:.1f}** | |")
    lag = ", ".join(f"{service} {n}" for service, n in flow["consumer_lag"].items())
    retried = ", ".join(f"{n} after {cause}" for cause, n in flow.get("retried", {}).items()) or "none"
    lines.append("")
    lines.append(f"Consumer lag per service when the last application completed: {lag}. Calls repeated: {retried}.")
    return lines


def _half_headline(half: dict[str, Any]) -> str:
    slowest = max(half["latency"].items(), key=lambda item: item[1].get("p99", 0.0))
    return (
        f"At half the saturated rate ({half['rate']:.1f}/s, open loop, a fresh stack): {half['applications']} "
        f"applications in {half['seconds']:.1f} s; slowest p99: {slowest[0]} {_seconds(slowest[1].get('p99'))}"
    )


def _headline(results: dict[str, Any]) -> str:
    flow, ceiling = results["flow"], results["ceiling"]
    events = flow["events"]
    return (
        f"{flow['applications']} applications ({flow['wage_subsidies']} wage subsidies) in {flow['seconds']:.1f} s: "
        f"**{flow['applications_per_second']:.1f} applications/s** end to end "
        f"(submitted at {flow['submitted_per_second']:.1f}/s); {events['records']} events of {events['bytes_avg']:.0f} "
        f"bytes on average, {events['per_second']:.0f}/s; raw ceiling {ceiling['per_second']:.0f}/s "
        f"→ event layer at **{results['event_layer_ratio']:.1%}** of the ceiling"
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
