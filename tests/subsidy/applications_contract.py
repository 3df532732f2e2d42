"""One test suite for the `Applications` port, run against PostgreSQL (`PgApplications`) and the in-memory fake the
handlers' unit tests use: what the fake answers, the database answers too. A subclass gives the `applications`
fixture."""

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from jobbro.shredding import Erasure, KeyDestroyed
from services.subsidy.domain import Actor, Application, Role, State
from services.subsidy.signing import VerifiedSignature
from services.subsidy.store import Applications, IdempotencyKey, SignedPayload, WageReport
from tests.subsidy.factories import Pki, internship
from tests.subsidy.unit.conftest import NOW, submitted

START = date(2026, 4, 6)


def _application(pki: Pki, *, unit: str = "1013456789", start: date = START, weeks: int = 4) -> Application:
    application = submitted(internship(pki.employer(), start=start, weeks=weeks, production_unit=unit))
    application.citizen_ref = f"c-{uuid4().hex[:16]}"
    return application


def _signature(text: str) -> VerifiedSignature:
    return VerifiedSignature(f"header.{text}.sig", "CN=signer", 7, "ab" * 32, NOW, "ES256", text.encode(), {})


class ApplicationsContract:
    async def test_an_application_reads_back_as_stored_and_its_history_continues_where_it_ended(
        self, applications: Applications, pki: Pki
    ) -> None:
        application = _application(pki)
        first_lines = list(application.changes)
        await applications.insert(application)
        assert application.changes == []
        loaded = await applications.get(application.id, for_update=True)
        assert loaded == application and loaded is not application
        assert loaded is not None
        loaded.withdraw(Actor(Role.EMPLOYER, "signer", cvr=application.terms.employer_cvr), "not needed", NOW)
        later_lines = list(loaded.changes)
        await applications.save(loaded)
        assert await applications.history(application.id) == first_lines + later_lines
        assert await applications.get(application.id) == loaded
        assert await applications.version(application.id) == 2

    async def test_an_unknown_application_is_none(self, applications: Applications) -> None:
        assert await applications.get(uuid4()) is None

    async def test_the_placements_counted_at_a_unit_are_the_others_pending_or_running_within_the_period(
        self, applications: Applications, pki: Pki
    ) -> None:
        unit = f"10{uuid4().int % 10**8:08d}"
        this, other, withdrawn = (_application(pki, unit=unit) for _ in range(3))
        later = _application(pki, unit=unit, start=START + timedelta(weeks=10))
        withdrawn.withdraw(Actor(Role.EMPLOYER, "signer", cvr=withdrawn.terms.employer_cvr), None, NOW)
        for application in (this, other, withdrawn, later):
            await applications.insert(application)
        counted = await applications.placements_at(unit, this.id, START, this.terms.ends_on)
        assert [(p.starts_on, p.ends_on) for p in counted] == [(START, other.terms.ends_on)]
        assert await applications.placements_at("1999999999", this.id, START, this.terms.ends_on) == ()

    async def test_a_citizens_other_placements_within_the_period_are_found(
        self, applications: Applications, pki: Pki
    ) -> None:
        this, earlier = _application(pki), _application(pki, start=START - timedelta(weeks=2))
        earlier.citizen_ref = this.citizen_ref
        stranger = _application(pki)
        for application in (this, earlier, stranger):
            await applications.insert(application)
        assert this.citizen_ref is not None
        found = await applications.citizen_placements(this.citizen_ref, this.id, START, this.terms.ends_on)
        assert [(p.application_id, p.starts_on, p.ends_on) for p in found] == [
            (earlier.id, earlier.terms.starts_on, earlier.terms.ends_on)
        ]

    async def test_an_idempotency_key_is_claimed_once_and_can_name_another_application(
        self, applications: Applications
    ) -> None:
        cvr, key, first, other = "12345678", uuid4().hex, uuid4(), uuid4()
        assert await applications.claim_idempotency_key(cvr, key, "f1", first) is None
        assert await applications.claim_idempotency_key(cvr, key, "f2", uuid4()) == IdempotencyKey("f1", first)
        assert await applications.claim_idempotency_key("87654321", key, "f3", other) is None
        await applications.point_idempotency_key(cvr, key, other)
        assert await applications.claim_idempotency_key(cvr, key, "f1", uuid4()) == IdempotencyKey("f1", other)

    async def test_a_signed_document_is_claimed_once(self, applications: Applications) -> None:
        digest, application_id = uuid4().hex, uuid4()
        assert await applications.claim_signed_payload(digest, application_id, "application") is None
        found = await applications.claim_signed_payload(digest, uuid4(), "final_confirmation")
        assert found == SignedPayload(application_id, "application")

    async def test_evidence_naming_an_erased_citizen_can_no_longer_be_read(
        self, applications: Applications, pki: Pki
    ) -> None:
        application = _application(pki)
        assert application.citizen_ref is not None
        await applications.insert(application)
        await applications.add_signature(application.id, "application", _signature("a"), NOW, application.citizen_ref)
        await applications.add_signature(application.id, "final_confirmation", _signature("b"), NOW)
        assert await applications.signature(application.id, "application") == "header.a.sig"
        assert await applications.signature(application.id, "citizen_named") is None
        first = Erasure(uuid4(), application.citizen_ref, "the citizen asked", "operator")
        erased = await applications.erase_citizen(first)
        assert erased[0] == first.erasure_id
        again = await applications.erase_citizen(Erasure(uuid4(), application.citizen_ref, "again", "operator"))
        assert again == erased
        with pytest.raises(KeyDestroyed):
            await applications.signature(application.id, "application")
        assert await applications.signature(application.id, "final_confirmation") == "header.b.sig"

    async def test_wage_reports_are_listed_by_month(self, applications: Applications, pki: Pki) -> None:
        application = _application(pki)
        await applications.insert(application)
        april, may = (
            WageReport(uuid4(), date(2026, m, 1), date(2026, m, 28), Decimal("148.00"), 2_000_000, 0, NOW)
            for m in (4, 5)
        )
        await applications.add_wage_report(application.id, may)
        await applications.add_wage_report(application.id, april)
        assert await applications.wage_reports(application.id) == [april, may]
        assert await applications.wage_reports(uuid4()) == []

    async def test_a_list_is_an_employers_own_newest_first_a_page_at_a_time(
        self, applications: Applications, pki: Pki
    ) -> None:
        employer = pki.employer()
        mine = [submitted(internship(employer), now=NOW + timedelta(minutes=n)) for n in range(3)]
        for application in [*mine, _application(pki)]:
            await applications.insert(application)
        listed = await applications.listed(employer_cvr=employer.cvr, limit=2)
        assert [found.id for found in listed] == [mine[2].id, mine[1].id]
        rest = await applications.listed(employer_cvr=employer.cvr, after=(listed[-1].submitted_at, listed[-1].id))
        assert [found.id for found in rest] == [mine[0].id]
        assert await applications.listed(employer_cvr=employer.cvr, state=State.CONFIRMED) == []

    async def test_a_list_of_changes_pending_holds_only_placements_whose_change_waits(
        self, applications: Applications, pki: Pki
    ) -> None:
        employer = pki.employer()
        waiting, running = (submitted(internship(employer, start=START)) for _ in range(2))
        for placement in (waiting, running):
            placement.state = State.CONFIRMED
        change = waiting.extended(waiting.terms.ends_on + timedelta(days=7))
        waiting.refer_change(change, Actor(Role.EMPLOYER, "signer", cvr=employer.cvr), NOW)
        for placement in (waiting, running):
            await applications.insert(placement)
        found = await applications.listed(employer_cvr=employer.cvr, change_pending=True)
        assert [listed.id for listed in found] == [waiting.id]
