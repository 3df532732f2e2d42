"""`jobbro bench --idle`: what an idle stack costs, and how soon it answers when traffic resumes.

A fresh stack (`jobbroctl.stack.beside`) is started and left alone; each of its processes' CPU is sampled with
psutil over the idle window, then one application is submitted and timed to its decision on the topic: the first
event after the quiet spell, which a polling loop with long sleeps would delay.
"""

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import machine
from bench.flow import Employers, plan
from bench.milestones import Milestones
from bench.processes import Sampler
from bench.run import RESULTS, WORK, _import, progress_bars
from bench.tape import Tape
from jobbro.infra import Infrastructure
from jobbroctl import stack

_SETTLE_SECONDS = 10.0
"""After the stack is ready: start-up work (migrations, first group joins) is over before the window opens."""


async def run(infra: Infrastructure, *, seconds: float, command: str) -> tuple[dict[str, Any], Path]:
    """Measure; write `bench/results/<time>-idle.json` and `.md` beside it."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    stamp = started.replace(":", "")
    results: dict[str, Any] = {"started": started, "command": command, "machine": await machine.describe(infra)}
    with progress_bars() as bars:
        task = bars.add_task("stack: start, idle, one application", total=None)
        results["idle"] = await _measure(infra, WORK / stamp, seconds)
        bars.update(task, total=1, completed=1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}-idle.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    path.with_suffix(".md").write_text(markdown(results))
    return results, path


async def _measure(infra: Infrastructure, folder: Path, seconds: float) -> dict[str, Any]:
    async with stack.beside(infra, folder / "stack", "idle") as (layout, prefix):
        today = datetime.now(UTC).date()
        case = plan(range(1), layout.pki, today, wage_every=5)[0]
        async with httpx.AsyncClient(timeout=60.0) as http:
            await _import(http, layout, [case], progress_bars())
        milestones = Milestones()
        async with Tape(infra.kafka, prefix, milestones.record):
            await asyncio.sleep(_SETTLE_SECONDS)
            async with Sampler(layout, interval=5.0) as sampler:
                await asyncio.sleep(seconds)
            subsidy = layout.service("subsidy").url
            async with Employers(subsidy, stack.oidc_issuer(), concurrency=1, patience=60.0, timeout=60.0) as bosses:
                await bosses.submit(case)
                assert case.application_id and case.submitted_at
                decision = await asyncio.wait_for(milestones.decision(case.application_id), 60.0)
                waited = milestones.at[case.application_id]["decision"] - case.submitted_at
    return {
        "seconds": seconds,
        "processes": {name: usage.cpu_seconds / seconds * 100 for name, usage in sampler.usage.items()},
        "first_decision": {"decision": decision, "seconds": waited, "measured_at": time.time()},
    }


def markdown(results: dict[str, Any]) -> str:
    """The run as Markdown, for docs/benchmarks.md."""
    idle = results["idle"]
    lines = [
        f"Run {results['started']} (`{results['command']}`): {idle['seconds']:.0f} s idle, then one application: "
        f"its decision on the topic {idle['first_decision']['seconds'] * 1000:.0f} ms after it was submitted.",
        "",
        "| process | % of a core, idle |",
        "|---|---|",
    ]
    lines += [f"| {name} | {share:.2f} |" for name, share in idle["processes"].items()]
    return "\n".join(lines) + "\n"
