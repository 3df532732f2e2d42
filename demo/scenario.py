"""The demo: a real scenario on a running stack, over the public HTTP APIs, the topics and the documented CLI only.

Citizens are imported with fresh CPR numbers, then four applications run their course: (1) an internship the
rules approve on their own; (2) a wage-subsidy job from last month that waits for the employee representative, who
answers through the link in the mail notify sent, and, as it began before any decision, for a caseworker who records
why it may; (3) a second internship at the same one-employee workplace, overlapping the first:
the ratio rule fails and it is rejected with reasons; (4) one starting after the first ends, so the ratio rule only
warns, overridden by the employer's remark, which a caseworker must weigh and approves. The employers confirm
(signed), report a month's wages, the month's citizen payments are run, the back-office stand-in settles every
instruction, one placement is extended (the first intern is still there today, so the ratio rule warns as for a new
application and a caseworker approves the change) and another ended early. A webhook receiver on loopback checks the
signature of everything notify forwards to it. Every wait polls an API, a topic or a folder until what it waits for
happened, and fails naming it if it does not.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx

from contracts.benefits import BenefitAdjusted, PaymentInstructionIssuedV2
from contracts.notify import NotificationSent
from contracts.payments import PaymentFailed, PaymentSettled
from demo import application, citizens, logins, mailbox
from demo.application import Employer
from demo.citizens import Citizen
from demo.result import DemoResult, Notice, Outcome
from demo.trail import Seen, TopicWatcher
from demo.waiting import eventually
from demo.webhooks import WebhookReceiver
from jobbro.infra import Infrastructure
from jobbro.log import redact
from jobbro.pseudonym import citizen_ref
from jobbro.settings import PseudonymKeySettings
from jobbroctl import stack
from jobbroctl.stack import Layout
from rules import months_later

MUNICIPALITY = "751"
"""Aarhus: where the citizens live and the jobcenter that decides."""
TIMEOUT = 60.0
"""Seconds any one asynchronous outcome may take before the demo fails naming it."""
WEBHOOK_TYPES = tuple(
    f"dk.jobbro.{name}.v1"
    for name in (
        "subsidy.application-approved",
        "subsidy.application-rejected",
        "subsidy.application-referred",
        "subsidy.placement-confirmed",
        "subsidy.placement-extended",
        "subsidy.placement-ended",
        "activation.activation-recorded",
        "activation.activation-ended",
    )
)
"""What the demo's integrator subscribes to."""

INTERNSHIP, WAGE_SUBSIDY, RATIO_BROKEN, JUDGEMENT = "(1)", "(2)", "(3)", "(4)"
LABELS = {
    INTERNSHIP: "(1) internship, approved by the rules",
    WAGE_SUBSIDY: "(2) wage subsidy from last month, after the employee representative and a caseworker",
    RATIO_BROKEN: "(3) internship breaking the ratio rule",
    JUDGEMENT: "(4) internship overriding a ratio warning, decided by a caseworker",
}
EXPECTED_NOTICES: dict[str, Counter[str]] = {
    INTERNSHIP: Counter(
        {
            "application-approved.employer.v1": 1,
            "application-approved.citizen.v1": 1,
            "benefit-adjusted.citizen.v1": 1,
        }
    ),
    WAGE_SUBSIDY: Counter(
        {
            "approval-requested.representative.v1": 1,
            "application-referred.employer.v1": 1,
            "application-referred.caseworker.v1": 1,
            "application-approved.employer.v1": 1,
            "application-approved.citizen.v1": 1,
            "benefit-adjusted.citizen.v1": 2,
            "payment-issued.employer.v1": 1,
            "placement-ended.citizen.v1": 1,
        }
    ),
    RATIO_BROKEN: Counter({"application-rejected.employer.v1": 1}),
    JUDGEMENT: Counter(
        {
            "application-referred.employer.v1": 2,  # the application, then its extension
            "application-referred.caseworker.v1": 2,
            "application-approved.employer.v1": 1,
            "application-approved.citizen.v1": 1,
            "benefit-adjusted.citizen.v1": 2,
            "placement-extended.citizen.v1": 1,
        }
    ),
}
"""Per application, the notices (template → how many) people get: mails, Digital Post letters."""
EXPECTED_WEBHOOKS: dict[str, Counter[str]] = {
    INTERNSHIP: Counter({"application-approved": 1, "placement-confirmed": 1, "activation-recorded": 1}),
    WAGE_SUBSIDY: Counter(
        {
            "application-referred": 1,
            "application-approved": 1,
            "placement-confirmed": 1,
            "activation-recorded": 1,
            "placement-ended": 1,
            "activation-ended": 1,
        }
    ),
    RATIO_BROKEN: Counter({"application-rejected": 1}),
    JUDGEMENT: Counter(
        {
            "application-referred": 2,
            "application-approved": 1,
            "placement-confirmed": 1,
            "activation-recorded": 2,
            "placement-extended": 1,
        }
    ),
}
"""Per application, the events (short type → how many) the integrator's webhook gets."""


_UNDECIDED = ("awaiting_representative", "assessing")
"""States an application leaves on its own, when the representative or the other services answer."""


class DemoFailed(RuntimeError):
    """An API refused what the demo asked for."""


@dataclass
class _Run:
    """One run's connections, parties and what it has made so far."""

    layout: Layout
    infra: Infrastructure
    prefix: str
    http: httpx.AsyncClient
    watcher: TopicWatcher
    receiver: WebhookReceiver
    progress: Callable[[str], None]
    logins: logins.Logins
    started: float = field(default_factory=time.time)
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    citizens: dict[str, Citizen] = field(default_factory=dict)
    employers: dict[str, Employer] = field(default_factory=dict)
    applications: dict[str, UUID] = field(default_factory=dict)
    applicants: dict[str, Employer] = field(default_factory=dict)
    """Which employer applied, per application key."""
    timings: dict[str, float] = field(default_factory=dict)

    def url(self, service: str, path: str) -> str:
        return self.layout.service(service).url + path

    async def employer_token(self, employer: Employer) -> dict[str, str]:
        """A bearer token from Keycloak of the user who signs for the employer's CVR number."""
        return await self.logins.headers(logins.EMPLOYERS[employer.cvr])

    async def caseworker_token(self) -> dict[str, str]:
        """A bearer token from Keycloak of a caseworker of the municipality that decides."""
        return await self.logins.headers(logins.CASEWORKER)

    @property
    def previous_month(self) -> date:
        """The first day of last month: over, so its wages can be reported and its benefits paid."""
        return (self.today.replace(day=1) - timedelta(days=1)).replace(day=1)


async def run(
    layout: Layout, infra: Infrastructure, prefix: str = "", progress: Callable[[str], None] = lambda _: None
) -> DemoResult:
    """Run the whole scenario on the stack `layout` describes and return what happened."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()  # a Standard Webhooks secret
    async with (
        httpx.AsyncClient(timeout=30.0) as http,
        TopicWatcher(infra.kafka, prefix) as watcher,
    ):
        receiver_log = layout.local / "webhooks" / "receiver.log"
        with WebhookReceiver(secret, receiver_log, port=layout.ports["webhooks"]) as receiver:
            demo = _Run(
                layout, infra, prefix, http, watcher, receiver, progress, logins.Logins(http, stack.oidc_issuer())
            )
            async with _step(demo, "stack ready"):
                await _require_running(demo)
            async with _step(demo, "citizens, employers, webhook"):
                await _import_citizens(demo)
                _employers(demo)
                subscription = await _subscribe_webhook(demo, secret)
            try:
                return await _applications(demo)
            finally:  # the receiver stops with this run: notify should not keep calling it
                headers = await demo.logins.headers(logins.INTEGRATOR)
                await http.delete(demo.url("notify", f"/v1/webhooks/subscriptions/{subscription}"), headers=headers)


async def _applications(demo: _Run) -> DemoResult:
    """The four applications, the placements' lives, the payments; then what they set off, and the result."""
    async with _step(demo, "(1) internship"):
        await _internship_approved_by_rules(demo)
    async with _step(demo, "(2) wage subsidy"):
        await _wage_subsidy_after_representative(demo)
    async with _step(demo, "(3) ratio rule"):
        await _ratio_rule_broken(demo)
    async with _step(demo, "(4) caseworker"):
        await _referred_then_approved(demo)
    async with _step(demo, "wages and payments"):
        await _report_wages(demo)
        payment_run = await _payment_run(demo)
    async with _step(demo, "extension and early end"):
        await _extend_internship(demo)
        await _end_wage_subsidy_early(demo)
    async with _step(demo, "consequences"):
        await _await_consequences(demo)
    async with _step(demo, "results"):
        return await _result(demo, payment_run)


@asynccontextmanager
async def _step(demo: _Run, name: str) -> AsyncIterator[None]:
    """Say what runs, and time it."""
    demo.progress(name)
    began = time.monotonic()
    yield
    demo.timings[name] = time.monotonic() - began


async def _require_running(demo: _Run) -> None:
    """Every process of the stack answers its health check: the demo runs on a stack, it does not start one."""
    down = []
    for service in demo.layout.services:
        if not service.has_health:
            continue
        try:
            ready = (await demo.http.get(service.url + "/health/ready")).status_code == 200
        except httpx.TransportError:
            ready = False
        if not ready:
            down.append(service.name)
    if down:
        raise DemoFailed(f"not running or not ready: {', '.join(down)}; start the stack with `jobbro up`")


async def _import_citizens(demo: _Run) -> None:
    """Five citizens of Aarhus into the benefit registry, through its admin endpoint (JSON import)."""
    today = demo.today
    demo.citizens = {
        INTERNSHIP: citizens.citizen(
            "job-ready dagpenge recipient",
            "dagpenge",
            "dagpenge",
            1_972_800,
            unemployed_since=today - timedelta(days=90),
        ),
        WAGE_SUBSIDY: citizens.citizen(
            "kontanthjælp, job-ready",
            "kontanthjaelp",
            "kontanthjaelp_job_ready",
            1_250_000,
            top_up_monthly_ore=310_000,
            unemployed_since=today - timedelta(days=420),
        ),
        RATIO_BROKEN: citizens.citizen(
            "dagpenge recipient", "dagpenge", "dagpenge", 1_972_800, unemployed_since=today - timedelta(days=60)
        ),
        JUDGEMENT: citizens.citizen(
            "kontanthjælp, job-ready",
            "kontanthjaelp",
            "kontanthjaelp_job_ready",
            1_250_000,
            unemployed_since=today - timedelta(days=200),
        ),
        "registry only": citizens.citizen(
            "uddannelseshjælp, no application",
            "uddannelseshjaelp",
            "uddannelseshjaelp_education_ready",
            780_000,
            unemployed_since=today - timedelta(days=30),
        ),
    }
    rows = [citizen.row(MUNICIPALITY) for citizen in demo.citizens.values()]
    headers = await demo.logins.headers(logins.OPERATOR)
    response = await demo.http.post(demo.url("benefits", "/v1/admin/citizens/import"), json=rows, headers=headers)
    _require(response, 200, "importing citizens")


def _employers(demo: _Run) -> None:
    """A one-employee plumber (mailed) and a 35-employee logistics firm (Digital Post), each with a fresh P-number,
    signing with the certificates `jobbro up` made."""
    hansen = {"name": "Hansen VVS ApS", "workplace": "Industrivej 1, 8000 Aarhus C", "company_employees": 1}
    nordisk = {"name": "Nordisk Logistik A/S", "workplace": "Havnevej 12, 8000 Aarhus C", "company_employees": 35}
    demo.employers = {
        "hansen": application.load_employer(
            demo.layout.pki,
            "12345678",
            **hansen,
            production_unit=_p_number(),
            ordinary_fte="1.00",
            email="ansoegning@hansen-vvs.example",
        ),
        "nordisk": application.load_employer(
            demo.layout.pki, "87654321", **nordisk, production_unit=_p_number(), ordinary_fte="30.00", email=None
        ),
    }


async def _subscribe_webhook(demo: _Run, secret: str) -> str:
    """An integrator subscribes to decisions and placements, with its `whsec_` secret for the signatures; its id."""
    body = {"url": demo.receiver.url, "event_types": list(WEBHOOK_TYPES), "secret": secret}
    headers = await demo.logins.headers(logins.INTEGRATOR)
    response = await demo.http.post(demo.url("notify", "/v1/webhooks/subscriptions"), json=body, headers=headers)
    _require(response, 201, "subscribing to webhooks")
    return str(response.json()["id"])


async def _internship_approved_by_rules(demo: _Run) -> None:
    """Hansen VVS (one employee) takes a job-ready dagpenge recipient for two weeks from today; the rules approve."""
    hansen = demo.employers["hansen"]
    form = application.internship(
        hansen,
        demo.citizens[INTERNSHIP].cpr,
        start=demo.today,
        weeks=2,
        municipality=MUNICIPALITY,
        position="VVS-assistent",
    )
    await _submit(demo, INTERNSHIP, hansen, form)
    await _await_state(demo, INTERNSHIP, "approved")
    await _confirm(demo, INTERNSHIP)


async def _wage_subsidy_after_representative(demo: _Run) -> None:
    """Nordisk Logistik (35 employees) hires with wage subsidy from last month; its representative approves by link."""
    nordisk = demo.employers["nordisk"]
    representative = ("Mette Jensen", f"tillid.{secrets.token_hex(4)}@nordisk-logistik.example")
    start = demo.previous_month
    form = application.wage_subsidy(
        nordisk,
        demo.citizens[WAGE_SUBSIDY].cpr,
        start=start,
        end=months_later(start, 4) - timedelta(days=1),
        municipality=MUNICIPALITY,
        position="Lagermedarbejder",
        representative=representative,
    )
    await _submit(demo, WAGE_SUBSIDY, nordisk, form)
    await _await_state(demo, WAGE_SUBSIDY, "awaiting_representative")
    await _representative_approves(demo, representative[1])
    await _await_state(demo, WAGE_SUBSIDY, "referred")  # it began before any decision
    exception = {"justification": "The citizen began last month under the jobcentre's written promise."}
    await _caseworker_approves(
        demo, WAGE_SUBSIDY, {"approve": True, "remark": "Approved from its start.", "start_exception": exception}
    )
    await _confirm(demo, WAGE_SUBSIDY)


async def _representative_approves(demo: _Run, address: str) -> None:
    """Read the mail notify sent the representative, open its link, and approve through it."""
    mail = await eventually(
        f"a mail with the approval link to the representative ({address}) in {demo.layout.mail}",
        lambda: _mail_to(demo, address),
        timeout=TIMEOUT,
    )
    link = mail.link("token=")
    if link is None:
        raise DemoFailed(f"the representative's mail {mail.path.name} holds no approval link")
    page = await demo.http.get(link)  # the portal's page for the representative
    _require(page, 200, "opening the representative's link in the portal")
    token = httpx.URL(link).params["token"]
    api = demo.url("subsidy", "/v1/representative-approval")
    shown = await demo.http.get(api, headers={"X-Approval-Token": token})
    _require(shown, 200, "reading what the representative's link asks")
    if shown.json()["application_id"] != str(demo.applications[WAGE_SUBSIDY]):
        raise DemoFailed("the representative's link shows another application")
    answer = await demo.http.post(api, json={"token": token, "approve": True})
    _require(answer, 200, "approving as the representative")


def _mail_to(demo: _Run, address: str) -> mailbox.Mail | None:
    """The first mail to `address` the mail sink kept during this run."""
    return next((mail for mail in mailbox.mails(demo.layout.mail, demo.started - 1) if mail.to == address), None)


async def _ratio_rule_broken(demo: _Run) -> None:
    """A second intern at one-employee Hansen VVS, starting while the first is there: one too many, now and then."""
    hansen = demo.employers["hansen"]
    form = application.internship(
        hansen,
        demo.citizens[RATIO_BROKEN].cpr,
        start=demo.today + timedelta(days=7),
        weeks=2,
        municipality=MUNICIPALITY,
        position="Lærling",
    )
    await _submit(demo, RATIO_BROKEN, hansen, form)
    await _await_state(demo, RATIO_BROKEN, "rejected")


async def _referred_then_approved(demo: _Run) -> None:
    """Another intern from the day after the first one's last: one too many today only, so the ratio rule warns;
    the employer's remark overrides the warning, which refers the case, and a caseworker approves."""
    hansen = demo.employers["hansen"]
    form = application.internship(
        hansen,
        demo.citizens[JUDGEMENT].cpr,
        start=demo.today + timedelta(days=14),
        weeks=2,
        municipality=MUNICIPALITY,
        position="Lærling",
        ratio_override_remark="Our first intern finishes the day before this internship starts.",
    )
    await _submit(demo, JUDGEMENT, hansen, form)
    await _await_state(demo, JUDGEMENT, "referred")
    decision = {"approve": True, "remark": "Approved: the internships follow each other and do not overlap."}
    await _caseworker_approves(demo, JUDGEMENT, decision)
    await _confirm(demo, JUDGEMENT)


async def _caseworker_approves(demo: _Run, key: str, decision: dict[str, Any]) -> None:
    """A caseworker of the deciding municipality approves a referred case."""
    await _caseworker_decides(demo, key, decision)
    await _await_state(demo, key, "approved")


async def _caseworker_decides(demo: _Run, key: str, decision: dict[str, Any]) -> None:
    """A caseworker of the deciding municipality decides what was referred: the case, or a change of its placement."""
    path = f"/v1/applications/{demo.applications[key]}/caseworker-decision"
    _require(
        await demo.http.post(demo.url("subsidy", path), json=decision, headers=await demo.caseworker_token()),
        200,
        f"deciding {LABELS[key]} as caseworker",
    )


async def _report_wages(demo: _Run) -> None:
    """Nordisk Logistik reports last month's paid hours and wage costs for the wage-subsidy job."""
    month = demo.previous_month
    days = calendar.monthrange(month.year, month.month)[1]
    hours = 7.4 * sum(1 for day in range(days) if (month + timedelta(days=day)).weekday() < 5)
    body = {"month": f"{month:%Y-%m}", "paid_hours": f"{hours:.2f}", "wage_costs_ore": round(hours * 19500)}
    path = f"/v1/applications/{demo.applications[WAGE_SUBSIDY]}/wage-reports"
    headers = await demo.employer_token(demo.employers["nordisk"])
    _require(await demo.http.post(demo.url("subsidy", path), json=body, headers=headers), 201, "reporting wages")


async def _payment_run(demo: _Run) -> str:
    """Last month's citizen payments by benefits' CLI, once benefits knows the wage-subsidy job that cuts one."""
    await eventually(
        "benefits adjusting the benefit of (2)'s citizen for the wage-subsidy job",
        lambda: _adjustments(demo, WAGE_SUBSIDY, 1),
        timeout=TIMEOUT,
    )
    month = f"{demo.previous_month:%Y-%m}"
    benefits = demo.layout.service("benefits")
    done = await asyncio.to_thread(
        stack.run_command, benefits, demo.infra, demo.prefix, "payment-run", "--month", month
    )
    if done.returncode != 0:
        raise DemoFailed(f"the payment run failed ({done.returncode}): {redact(done.stderr[-2000:])}")
    return done.stdout.strip()


async def _extend_internship(demo: _Run) -> None:
    """Hansen VVS extends the second internship to four weeks, the most for a job-ready kontanthjælp recipient. The
    first intern is there today, so the ratio rule warns as it did for the application, the employer's remark refers
    the extension to a caseworker, and the caseworker approves it."""
    current = await _view(demo, JUDGEMENT)
    new_end = date.fromisoformat(current["terms"]["starts_on"]) + timedelta(weeks=4, days=-1)
    await _command(demo, JUDGEMENT, "extension", {"new_end": new_end.isoformat()})
    decision = {"approve": True, "remark": "Approved: the extension adds no intern while the first one is there."}
    await _caseworker_decides(demo, JUDGEMENT, decision)


async def _end_wage_subsidy_early(demo: _Run) -> None:
    """The wage-subsidy job ends today: the citizen got an ordinary job. Its last 12 months are what was paid."""
    paid = await eventually(
        "benefits issuing (2)'s wage subsidy for the reported month",
        lambda: _instructions(demo, WAGE_SUBSIDY),
        timeout=TIMEOUT,
    )
    subsidy = sum(seen.event.amount_ore for seen in paid)
    current = await _view(demo, WAGE_SUBSIDY)
    costs = sum(report["wage_costs_ore"] for report in current["wage_reports"])
    body = {
        "last_day": demo.today.isoformat(),
        "reason": "ordinary_job",
        "remark": "Fastansat fra i morgen.",
        "subsidy_last_12_months_ore": subsidy,
        "wage_costs_last_12_months_ore": costs,
    }
    await _command(demo, WAGE_SUBSIDY, "end", body)


async def _await_consequences(demo: _Run) -> None:
    """Until the other services did everything the scenario set off: plans, benefits, payments, notices, webhooks."""
    for key, count in ((INTERNSHIP, 1), (WAGE_SUBSIDY, 2), (JUDGEMENT, 2)):
        await eventually(
            f"{count} benefit adjustment(s) for {LABELS[key]}",
            lambda key=key, count=count: _adjustments(demo, key, count),
            timeout=TIMEOUT,
        )
    payments = await eventually(
        "a settlement (or failure) for every payment instruction of the demo",
        lambda: _settled(demo),
        timeout=TIMEOUT,
        describe=lambda: f"{len(_answers(demo))} of {len(_our_instructions(demo))} answered",
    )
    await eventually(
        "benefits recording every settlement",
        lambda: demo.watcher.handled_by("benefits.settlements", payments),
        timeout=TIMEOUT,
    )
    for key, expected in EXPECTED_NOTICES.items():
        await eventually(
            f"the notices of {LABELS[key]}",
            lambda key=key, expected=expected: _notices_done(demo, key, expected),
            timeout=TIMEOUT,
            describe=lambda key=key, expected=expected: f"missing {dict(expected - _templates(demo, key))}",
        )
    for key, expected in EXPECTED_WEBHOOKS.items():
        await eventually(
            f"the webhooks of {LABELS[key]}",
            lambda key=key, expected=expected: _webhooks_done(demo, key, expected),
            timeout=TIMEOUT,
            describe=lambda key=key, expected=expected: f"missing {dict(expected - _webhook_types(demo, key))}",
        )


async def _result(demo: _Run, payment_run: str) -> DemoResult:
    """What happened, read back through the APIs and from the topics."""
    outcomes = []
    for key, application_id in demo.applications.items():
        view = await _view(demo, key)
        decision = view["decision"] or {}
        reasons = tuple(
            f"{result['rule']}: {result['reason']}"
            for result in decision.get("results", ())
            if result["outcome"] in ("failed", "needs_judgement")
        )
        outcomes.append(
            Outcome(
                key,
                LABELS[key],
                application_id,
                demo.citizens[key].label,
                view["citizen_ref"],
                view["state"],
                decision.get("decided_by"),
                reasons,
            )
        )
    plans = {}
    for outcome in outcomes:
        response = await demo.http.get(
            demo.url("activation", f"/v1/citizens/{outcome.citizen_ref}/plan"), headers=await demo.caseworker_token()
        )
        plans[outcome.key] = response.json()["entries"] if response.status_code == 200 else []
    month = f"{demo.previous_month:%Y-%m}"
    headers = await demo.logins.headers(logins.AUDITOR)
    totals = await demo.http.get(demo.url("benefits", f"/v1/ledger/reconciliation/{month}"), headers=headers)
    _require(totals, 200, "reading the reconciliation")
    ours = {str(application_id) for application_id in demo.applications.values()}
    instructions = {str(seen.event.instruction_id) for seen in _our_instructions(demo)}
    events = [
        seen.without_cpr()
        for seen in demo.watcher.seen
        if seen.application_id in ours or str(getattr(seen.event, "instruction_id", "")) in instructions
    ]
    labels = _payee_labels(demo)
    return DemoResult(
        applications=outcomes,
        events=events,
        notices=_notices(demo),
        mail=demo.layout.mail,
        digital_post=demo.layout.digital_post,
        webhooks=demo.receiver.deliveries,
        webhooks_refused=demo.receiver.refused,
        webhook_url=demo.receiver.url,
        webhook_log=demo.receiver.log_path,
        plans=plans,
        payees={
            seen.event.instruction_id: labels[seen.event.payee_ref]
            for seen in _our_instructions(demo)
            if seen.event.payee_ref in labels
        },
        payment_run=payment_run,
        month=month,
        reconciliation=totals.json(),
        timings=demo.timings,
        cpr_by_payee={citizen_ref(c.cpr, PseudonymKeySettings().pseudonym_key): c.cpr for c in demo.citizens.values()},
    )


async def _submit(demo: _Run, key: str, employer: Employer, form: dict[str, Any]) -> None:
    """Sign and submit an application as `key`."""
    body = {"application": form, "signature": employer.sign(form)}
    headers = {**await demo.employer_token(employer), "Idempotency-Key": str(uuid4())}
    response = await demo.http.post(demo.url("subsidy", "/v1/applications"), json=body, headers=headers)
    _require(response, 201, f"submitting {LABELS[key]}")
    demo.applications[key] = UUID(response.json()["id"])
    demo.applicants[key] = employer


async def _confirm(demo: _Run, key: str) -> None:
    """The employer's signed final approval."""
    employer = demo.applicants[key]
    signature = employer.sign(application.confirmation(demo.applications[key], employer.cvr))
    await _command(demo, key, "confirmation", {"signature": signature})


async def _command(demo: _Run, key: str, action: str, body: dict[str, Any]) -> None:
    """An employer's command on its application or placement."""
    employer = demo.applicants[key]
    path = f"/v1/applications/{demo.applications[key]}/{action}"
    response = await demo.http.post(demo.url("subsidy", path), json=body, headers=await demo.employer_token(employer))
    _require(response, 200, f"{action} of {LABELS[key]}")


async def _view(demo: _Run, key: str) -> dict[str, Any]:
    """The application as its employer sees it."""
    path = f"/v1/applications/{demo.applications[key]}"
    headers = await demo.employer_token(demo.applicants[key])
    response = await demo.http.get(demo.url("subsidy", path), headers=headers)
    _require(response, 200, f"reading {LABELS[key]}")
    return response.json()


async def _await_state(demo: _Run, key: str, state: str) -> None:
    """Until the application is in `state`; failing at once if it settled in another."""
    last: dict[str, Any] = {}

    async def reached() -> bool:
        last.update(await _view(demo, key))
        if last["state"] not in (state, *_UNDECIDED):
            results = (last.get("decision") or {}).get("results", ())
            reasons = "; ".join(
                f"{r['rule']} {r['outcome']}: {r['reason']}" for r in results if r["outcome"] != "passed"
            )
            raise DemoFailed(f"{LABELS[key]} became {last['state']}, not {state}: {reasons or 'no rule failed'}")
        return last["state"] == state

    await eventually(
        f"{LABELS[key]} becoming {state}",
        reached,
        timeout=TIMEOUT,
        describe=lambda: f"it is {last.get('state')}, answers in: {last.get('answers')}",
    )


def _adjustments(demo: _Run, key: str, count: int) -> bool:
    """Whether benefits published at least `count` benefit adjustments for the application."""
    application_id = str(demo.applications[key])
    return len([s for s in demo.watcher.of_type(BenefitAdjusted) if s.application_id == application_id]) >= count


def _instructions(demo: _Run, key: str) -> list[Seen]:
    """The payment instructions issued for the application (its wage subsidy)."""
    application_id = str(demo.applications[key])
    return [seen for seen in demo.watcher.of_type(PaymentInstructionIssuedV2) if seen.application_id == application_id]


def _our_instructions(demo: _Run) -> list[Seen]:
    """The wage subsidy paid for the demo's placement, and the demo's citizens' benefits."""
    refs = _payee_labels(demo)
    ours = {str(application_id) for application_id in demo.applications.values()}
    return [
        seen
        for seen in demo.watcher.of_type(PaymentInstructionIssuedV2)
        if seen.event.payee_ref in refs or seen.application_id in ours
    ]


def _payee_labels(demo: _Run) -> dict[str, str]:
    """The demo's citizens by the reference a payment instruction names its citizen payee by (v2 seals the CPR
    number for the back-office), under the stack's pseudonym key as the settings give it."""
    key = PseudonymKeySettings().pseudonym_key
    return {citizen_ref(citizen.cpr, key): citizen.label for citizen in demo.citizens.values()}


def _answers(demo: _Run) -> list[Seen]:
    """The back-office's settlements and failures of the demo's payment instructions."""
    instructions = {seen.event.instruction_id for seen in _our_instructions(demo)}
    return [
        seen
        for seen in demo.watcher.seen
        if isinstance(seen.event, PaymentSettled | PaymentFailed) and seen.event.instruction_id in instructions
    ]


def _settled(demo: _Run) -> list[Seen]:
    """The back-office's answers, once every instruction (wage subsidy and five citizens') has one."""
    instructions = _our_instructions(demo)
    answers = _answers(demo)
    wage_subsidy = [seen for seen in instructions if seen.application_id]
    citizens_paid = {seen.event.payee_ref for seen in instructions if seen.event.payee_ref}
    done = bool(wage_subsidy) and len(citizens_paid) == len(demo.citizens)
    answered = {seen.event.instruction_id for seen in answers}
    return answers if done and all(seen.event.instruction_id in answered for seen in instructions) else []


def _sent(demo: _Run, key: str) -> list[NotificationSent]:
    """The notices sent to people about the application (webhook deliveries are counted apart)."""
    application_id = demo.applications[key]
    return [
        seen.event
        for seen in demo.watcher.of_type(NotificationSent)
        if seen.event.application_id == application_id and seen.event.channel != "webhook"
    ]


def _templates(demo: _Run, key: str) -> Counter[str]:
    """How many notices of each template the application gave so far."""
    return Counter(sent.template for sent in _sent(demo, key))


def _notices_done(demo: _Run, key: str, expected: Counter[str]) -> bool:
    """Whether every expected notice of the application was sent."""
    return not expected - _templates(demo, key)


def _webhook_types(demo: _Run, key: str) -> Counter[str]:
    """How many verified webhook deliveries of each (short) event type the receiver got for the application."""
    application_id = str(demo.applications[key])
    return Counter(
        delivery.type.rsplit(".", 2)[-2]
        for delivery in demo.receiver.deliveries
        if delivery.application_id == application_id
    )


def _webhooks_done(demo: _Run, key: str, expected: Counter[str]) -> bool:
    """Whether the receiver got every expected webhook of the application."""
    return not expected - _webhook_types(demo, key)


def _notices(demo: _Run) -> list[Notice]:
    """Each notice sent about the demo's applications, with the file it became (mail or Digital Post letter)."""
    mails = {mail.delivery_id: mail.path for mail in mailbox.mails(demo.layout.mail, demo.started - 1)}
    notices = []
    for key in demo.applications:
        for sent in _sent(demo, key):
            if sent.channel == "email":
                where = str(mails.get(sent.dedup_key, "(not in the mail sink)"))
            else:
                where = str(demo.layout.digital_post / (sent.dedup_key.replace(":", ".") + ".json"))
            notices.append(Notice(key, sent.recipient_role, sent.channel, sent.template, where))
    return notices


def _require(response: httpx.Response, status: int, what: str) -> None:
    """Fail the demo, saying what was refused and why (CPR numbers masked), unless the answer is `status`."""
    if response.status_code != status:
        raise DemoFailed(f"{what}: HTTP {response.status_code} {redact(response.text[:2000])}")


def _p_number() -> str:
    """A fresh production unit (P-number) per run, so the ratio rule counts this run's placements only."""
    return "10" + "".join(str(secrets.randbelow(10)) for _ in range(8))
