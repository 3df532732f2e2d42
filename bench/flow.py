"""The employers' side of the flow over the public HTTP API: signed applications submitted, approved ones confirmed
(signed), each wage-subsidy job's first month reported.

Every call is retried until it is known to have taken effect (a submission with the same Idempotency-Key and the
same signed body; a confirmation until it is confirmed; a wage report after checking it is not already in), so the
same driver runs the benchmark and the chaos test, where the subsidy service dies under it.
"""

import asyncio
import calendar
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from bench import population
from bench.milestones import Milestones
from demo import application, logins
from demo.application import Employer
from demo.citizens import Citizen
from rules import months_later

CVRS = ("12345678", "87654321")
"""The development PKI's two employers with a valid certificate: one mailed, one told by Digital Post."""
PAID_HOURS = "100.00"
HOURLY_WAGE_COSTS_ORE = 19_500
_RETRIED_STATUS = (502, 503, 504)


class Kind(StrEnum):
    """What an application is designed to become."""

    INTERNSHIP = "internship"
    """Approved by the rules, confirmed."""
    WAGE_SUBSIDY = "wage_subsidy"
    """Begun last month, so referred by the rules; approved by a caseworker with a start exception, confirmed, a
    month's wages reported: the employer is paid a subsidy."""
    UNKNOWN_CITIZEN = "unknown_citizen"
    """Rejected by the rules: the benefit registry does not hold the citizen."""


EXPECTED: dict[Kind, dict[str, int]] = {
    Kind.INTERNSHIP: {"decision": 1, "confirmed": 1, "activation recorded": 1, "benefit adjusted": 1, "all notices": 3},
    Kind.WAGE_SUBSIDY: {
        "decision": 1,
        "confirmed": 1,
        "activation recorded": 1,
        "benefit adjusted": 1,
        "payment instruction": 1,
        "payment settled": 1,
        "all notices": 6,
    },
    Kind.UNKNOWN_CITIZEN: {"decision": 1, "all notices": 1},
}
"""The milestones each kind reaches; notices: approval to employer and citizen, the citizen's benefit change, the
employer's subsidy payment (or, rejected, the employer's rejection); a wage subsidy's referral to employer and
caseworker."""


class Refused(RuntimeError):
    """The API answered something the flow cannot go on from, or stayed unreachable."""


@dataclass
class Case:
    """One application: made and signed beforehand, then driven through the flow."""

    n: int
    kind: Kind
    citizen: Citizen
    employer: Employer
    form: dict[str, Any]
    signature: str
    idempotency_key: str
    application_id: str | None = None
    submitted_at: float | None = None
    """Wall-clock time the submission was sent (open loop: when it was due)."""
    decision: str | None = None
    confirmed: bool = False
    reported: bool = False

    @property
    def registered(self) -> bool:
        """Whether the citizen is to be imported into the benefit registry."""
        return self.kind is not Kind.UNKNOWN_CITIZEN


def plan(numbers: range, pki: Path, today: date, *, wage_every: int, unknown_every: int = 0) -> list[Case]:
    """Signed applications numbered `numbers`, each at a workplace (P-number) of its own so the ratio rule holds;
    every `wage_every`th a wage subsidy, every `unknown_every`th (if any) for a citizen the registry lacks."""
    employers = [
        application.load_employer(
            pki,
            cvr,
            name=f"Bench {cvr} ApS",
            production_unit="1000000000",
            workplace="Havnevej 1, 8000 Aarhus C",
            company_employees=1,
            ordinary_fte="1.00",
            email=f"ansoegning@{cvr}.example" if i == 0 else None,
        )
        for i, cvr in enumerate(CVRS)
    ]
    return [
        _case(n, replace(employers[n % 2], production_unit=f"2{n:09d}"), today, wage_every, unknown_every)
        for n in numbers
    ]


def _case(n: int, employer: Employer, today: date, wage_every: int, unknown_every: int) -> Case:
    """Application `n`: its kind, a citizen of that kind, the form, and the employer's signature over it."""
    if unknown_every and n % unknown_every == unknown_every - 1:
        kind, citizen = Kind.UNKNOWN_CITIZEN, population.intern(n, today)
    elif wage_every and n % wage_every == 0:
        kind, citizen = Kind.WAGE_SUBSIDY, population.wage_subsidy_employee(n, today)
    else:
        kind, citizen = Kind.INTERNSHIP, population.intern(n, today)
    if kind is Kind.WAGE_SUBSIDY:
        start = previous_month(today)
        form = application.wage_subsidy(
            employer,
            citizen.cpr,
            start=start,
            end=months_later(start, 4) - timedelta(days=1),
            municipality=population.MUNICIPALITY,
            position="Lagermedarbejder",
            representative=("Ikke relevant", "ingen@example.invalid"),
        )
        del form["representative"]  # a one-employee company has no employee representative to ask
    else:
        form = application.internship(
            employer, citizen.cpr, start=today, weeks=2, municipality=population.MUNICIPALITY, position="Praktikant"
        )
    return Case(n, kind, citizen, employer, form, employer.sign(form), str(uuid4()))


def previous_month(today: date) -> date:
    """The first day of last month: over, so its wages can be reported."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def wage_report(today: date) -> dict[str, Any]:
    """Last month's report: 100 paid hours at the form's wage costs (well under the state-aid cap)."""
    month = previous_month(today)
    hours = int(float(PAID_HOURS))
    days = calendar.monthrange(month.year, month.month)[1]
    assert hours < 37 * days / 7  # within the subsidised hours of a full month
    return {"month": f"{month:%Y-%m}", "paid_hours": PAID_HOURS, "wage_costs_ore": hours * HOURLY_WAGE_COSTS_ORE}


class Employers:
    """The employers' systems talking to the subsidy API, `concurrency` requests at a time.

    Each request slot is an HTTP client of one connection: httpx's pool scans all its connections for every
    request, which with dozens of them cost the load generator more CPU than the requests themselves.
    """

    def __init__(
        self, subsidy_url: str | Sequence[str], oidc_issuer: str, *, concurrency: int, patience: float, timeout: float
    ) -> None:
        urls = [subsidy_url] if isinstance(subsidy_url, str) else subsidy_url
        self._urls = tuple(url + "/v1/applications" for url in urls)
        """One per replica of the subsidy service: each case talks to one of them (`_applications`)."""
        self._login_http = httpx.AsyncClient(timeout=timeout)
        self._logins = logins.Logins(self._login_http, oidc_issuer)
        self._slots: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for _ in range(concurrency):
            self._slots.put_nowait(httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=1)))
        self._patience = patience
        self.retried: Counter[str] = Counter()
        """Calls repeated, by what made them fail (the service unreachable, a connection it closed, 503)."""

    async def __aenter__(self) -> "Employers":
        return self

    async def __aexit__(self, *_: object) -> None:
        while not self._slots.empty():
            await self._slots.get_nowait().aclose()
        await self._login_http.aclose()

    def _applications(self, case: Case) -> str:
        """The applications URL of the subsidy replica this case talks to: the cases spread over the replicas."""
        return self._urls[case.n % len(self._urls)]

    async def _auth(self, employer: Employer) -> dict[str, str]:
        """The bearer header of the user signing for the employer (fetched again before it expires)."""
        return await self._logins.headers(logins.EMPLOYERS[employer.cvr])

    @property
    def retries(self) -> int:
        return sum(self.retried.values())

    async def drive(self, case: Case, milestones: Milestones, today: date, *, due: float | None = None) -> None:
        """The case through the flow: submit, wait for the decision, confirm and report wages if approved."""
        await self.submit(case, due)
        assert case.application_id is not None
        case.decision = await milestones.decision(case.application_id)
        if case.decision == "referred" and case.kind is Kind.WAGE_SUBSIDY:
            await self.approve_start(case)
            case.decision = await milestones.decision(case.application_id, nth=1)
        if case.decision != "approved":
            return
        await self.confirm(case)
        if case.kind is Kind.WAGE_SUBSIDY:
            await self.report_wages(case, wage_report(today))

    async def submit(self, case: Case, due: float | None = None) -> None:
        body = {"application": case.form, "signature": case.signature}
        headers = {**await self._auth(case.employer), "Idempotency-Key": case.idempotency_key}

        def stamp() -> None:
            if case.submitted_at is None:  # the first attempt is when the employer submitted
                case.submitted_at = due or time.time()

        response = await self._send("POST", self._applications(case), body, headers, before=stamp)
        assert response is not None  # asked without `already`
        if response.status_code not in (200, 201):
            raise Refused(f"submitting application {case.n}: HTTP {response.status_code} {response.text[:500]}")
        case.application_id = response.json()["id"]

    async def approve_start(self, case: Case) -> None:
        """A caseworker approves a placement begun before its decision, recording why; a repeat finding it decided
        already is done too."""
        exception = {"justification": "Begun last month under the jobcentre's written promise."}
        body = {"approve": True, "remark": "Approved from its start.", "start_exception": exception}
        url = f"{self._applications(case)}/{case.application_id}/caseworker-decision"
        response = await self._send("POST", url, body, await self._logins.headers(logins.CASEWORKER))
        assert response is not None  # asked without `already`
        again = response.status_code == 409 and response.json().get("current_state") == "approved"
        if response.status_code != 200 and not again:
            raise Refused(f"approving application {case.n}: HTTP {response.status_code} {response.text[:500]}")

    async def confirm(self, case: Case) -> None:
        """The employer's signed final approval; a repeat finding it confirmed already is done too."""
        document = application.confirmation(case.application_id, case.employer.cvr)  # type: ignore[arg-type]
        body = {"signature": case.employer.sign(document)}
        url = f"{self._applications(case)}/{case.application_id}/confirmation"
        response = await self._send("POST", url, body, await self._auth(case.employer))
        assert response is not None  # asked without `already`
        again = response.status_code == 409 and response.json().get("current_state") == "confirmed"
        if response.status_code != 200 and not again:
            raise Refused(f"confirming application {case.n}: HTTP {response.status_code} {response.text[:500]}")
        case.confirmed = True

    async def report_wages(self, case: Case, report: dict[str, Any]) -> None:
        """Report once: before repeating a report whose answer was lost, look whether it arrived."""
        url = f"{self._applications(case)}/{case.application_id}/wage-reports"
        headers = await self._auth(case.employer)

        async def arrived(http: httpx.AsyncClient) -> bool:
            view = await http.get(f"{self._applications(case)}/{case.application_id}", headers=headers)
            reports = view.json().get("wage_reports", []) if view.status_code == 200 else []
            return any(r["period"]["start"].startswith(report["month"]) for r in reports)

        response = await self._send("POST", url, report, headers, already=arrived)
        if response is not None and response.status_code != 201:
            raise Refused(f"reporting wages of application {case.n}: HTTP {response.status_code} {response.text[:500]}")
        case.reported = True

    async def _send(
        self,
        method: str,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str],
        *,
        before: Callable[[], None] = lambda: None,
        already: Callable[[httpx.AsyncClient], Awaitable[bool]] | None = None,
    ) -> httpx.Response | None:
        """The answer to one request, repeated with backoff while the service is unreachable or unavailable;
        `already` (if given) is asked before each repeat whether an earlier attempt took effect after all (then
        there is no answer: None). A call keeps its slot while it backs off, so an outage is probed by at most
        `concurrency` callers, not by every application waiting."""
        loop = asyncio.get_running_loop()
        http = await self._slots.get()
        try:
            deadline, delay, attempt = loop.time() + self._patience, 0.1, 0
            while True:
                try:
                    if attempt and already is not None and await already(http):
                        return None
                    before()
                    response = await http.request(method, url, json=body, headers=headers)
                    if response.status_code not in _RETRIED_STATUS:
                        return response
                    failure, kind = f"HTTP {response.status_code}", f"HTTP {response.status_code}"
                except httpx.TransportError as exc:
                    failure, kind = repr(exc), type(exc).__name__
                if loop.time() > deadline:
                    raise Refused(f"{method} {url}: still failing after {self._patience:.0f}s: {failure}")
                attempt += 1
                self.retried[kind] += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        finally:
            self._slots.put_nowait(http)
