"""Each handler's decision path on the in-memory unit of work: what it publishes and what the application then
holds, without PostgreSQL or Kafka (tests/subsidy/integration runs the same paths on both)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from contracts import subsidy
from contracts.benefits import CitizenErased
from contracts.envelope import Event, Metadata, encode
from jobbro.shredding import KeyDestroyed
from jobbro.testing import InMemoryWork
from rules import Rulebook
from services.subsidy import handlers
from services.subsidy.domain import Actor, Application, ChangeRefused, Role, State
from services.subsidy.handlers import Context, NotFound
from services.subsidy.links import RepresentativeLinks
from services.subsidy.schemas import CaseworkerDecision, Extension, HoursChange, SignedApplication, Withdrawal
from services.subsidy.settings import SubsidySettings
from services.subsidy.signing import sign
from services.subsidy.trust import TrustFiles
from tests.subsidy.factories import DATA_KEYS, TODAY, Employer, Pki, assessed, internship, plan_checked
from tests.subsidy.memory import InMemoryApplications

Work = InMemoryWork[InMemoryApplications]
START = TODAY + timedelta(days=30)
CASEWORKER = Actor(Role.CASEWORKER, "caseworker", municipality="751")


@pytest.fixture
def ctx(rulebook: Rulebook, pki: Pki) -> Context:
    settings = SubsidySettings(environment="development", trust_anchors=pki.anchors, trust_crls=(pki.crl,))
    now = datetime.now(UTC)  # after the test CA's CRL was issued: a signature is checked against it
    return Context(
        settings=settings,
        rulebook=rulebook,
        links=RepresentativeLinks.from_settings(settings.link_keys, settings.link_seal_keys),
        trust=TrustFiles(settings.trust_anchors, None, settings.trust_crls),
        keys=DATA_KEYS,
        clock=lambda: now,
    )


@pytest.fixture
def uow() -> Work:
    return InMemoryWork(InMemoryApplications())


def _meta(event: Event) -> Metadata:
    return encode(event, source="test")[0]


def _published(uow: Work, kind: type[Event]) -> list[Any]:
    return [event for event in uow.events if isinstance(event, kind)]


_DECISIONS = (subsidy.ApplicationApproved, subsidy.ApplicationRejected, subsidy.ApplicationReferred)


def _decisions(uow: Work) -> list[type[Event]]:
    return [type(event) for event in uow.events if isinstance(event, _DECISIONS)]


async def _submit(
    ctx: Context, uow: Work, employer: Employer, form: dict[str, Any], key: str = "k", signature: str | None = None
) -> Application:
    signature = signature or sign(form, employer.signer.key, [employer.signer.cert])
    signed = SignedApplication.model_validate({"application": form, "signature": signature})
    actor = Actor(Role.EMPLOYER, "signer", cvr=employer.cvr)
    return (await handlers.submit_application(ctx, uow, signed, key, actor)).application


def _as_api(application: Application) -> dict[str, Any]:
    """The few fields of the API's view that the answers' factories read."""
    return {
        "id": str(application.id),
        "citizen_ref": application.citizen_ref,
        "terms": {"scheme": application.terms.scheme.value},
    }


async def _answered(ctx: Context, uow: Work, application: Application, **assessment: Any) -> Application:
    """Benefits' and activation's answers delivered; the application as stored after them."""
    for answer, handler in (
        (assessed(_as_api(application), **assessment), handlers.on_citizen_assessed),
        (plan_checked(_as_api(application)), handlers.on_activation_checked),
    ):
        await handler(answer, _meta(answer), uow, ctx)  # type: ignore[operator]
    found = await uow.store.get(application.id)
    assert found is not None
    return found


async def test_a_submission_publishes_the_application_and_a_replay_finds_it_without_publishing_again(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    form = internship(employer, start=START)
    signature = sign(form, employer.signer.key, [employer.signer.cert])
    first = await _submit(ctx, uow, employer, form, signature=signature)
    again = await _submit(ctx, uow, employer, form, signature=signature)
    assert again.id == first.id
    assert [type(event) for event in uow.events] == [subsidy.ApplicationSubmittedV2]
    assert await uow.store.signature(first.id, "application") is not None


async def test_an_application_waits_for_both_answers_then_the_rules_approve_it(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    answer = assessed(_as_api(application))
    await handlers.on_citizen_assessed(answer, _meta(answer), uow, ctx)
    assert _decisions(uow) == []
    check = plan_checked(_as_api(application))
    await handlers.on_activation_checked(check, _meta(check), uow, ctx)
    assert _decisions(uow) == [subsidy.ApplicationApproved]
    assert (await uow.store.get(application.id)).state is State.APPROVED  # type: ignore[union-attr]


async def test_an_answer_delivered_twice_counts_once(ctx: Context, uow: Work, employer: Employer) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    await _answered(ctx, uow, application)
    await _answered(ctx, uow, application)
    assert _decisions(uow) == [subsidy.ApplicationApproved]


async def test_an_answer_naming_another_citizen_is_ignored(ctx: Context, uow: Work, employer: Employer) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    answer = assessed({**_as_api(application), "citizen_ref": "c-someone-else"})
    await handlers.on_citizen_assessed(answer, _meta(answer), uow, ctx)
    assert (await uow.store.get(application.id)).assessment is None  # type: ignore[union-attr]


async def test_an_ineligible_citizen_is_rejected(ctx: Context, uow: Work, employer: Employer) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    await _answered(ctx, uow, application, eligible=False, failed=("target_group",))
    assert _decisions(uow) == [subsidy.ApplicationRejected]


async def test_a_case_still_waiting_at_its_deadline_is_referred_and_one_not_yet_due_is_left(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    await handlers.on_deadline(ctx, uow, application.id)
    assert _decisions(uow) == []
    later = Context(**{**ctx.__dict__, "clock": lambda: ctx.clock() + ctx.settings.answer_timeout})
    await handlers.on_deadline(later, uow, application.id)
    assert _decisions(uow) == [subsidy.ApplicationReferred]
    assert (await uow.store.get(application.id)).state is State.REFERRED  # type: ignore[union-attr]


async def test_a_caseworker_approves_a_referred_case_of_their_municipality_only(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    later = Context(**{**ctx.__dict__, "clock": lambda: ctx.clock() + ctx.settings.answer_timeout})
    await handlers.on_deadline(later, uow, application.id)
    decision = CaseworkerDecision(approve=True, remark="Godkendt efter samtale.")
    elsewhere = Actor(Role.CASEWORKER, "other", municipality="101")
    with pytest.raises(NotFound):
        await handlers.decide_as_caseworker(ctx, uow, application.id, decision, elsewhere)
    await handlers.decide_as_caseworker(ctx, uow, application.id, decision, CASEWORKER)
    assert _decisions(uow) == [subsidy.ApplicationReferred, subsidy.ApplicationApproved]


async def test_a_withdrawal_is_published_with_who_withdrew(ctx: Context, uow: Work, employer: Employer) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    actor = Actor(Role.EMPLOYER, "signer", cvr=employer.cvr)
    await handlers.withdraw(ctx, uow, application.id, Withdrawal(reason="not needed"), actor)
    [withdrawn] = _published(uow, subsidy.ApplicationWithdrawn)
    assert withdrawn.withdrawn_by is subsidy.Withdrawer.EMPLOYER


async def _confirmed(ctx: Context, uow: Work, application: Application, **assessment: Any) -> Application:
    """The application approved and confirmed, as the employer's signed confirmation leaves it."""
    found = await _answered(ctx, uow, application, **assessment)
    found.confirm(Actor(Role.EMPLOYER, "signer", cvr=found.terms.employer_cvr), ctx.clock())
    await uow.store.save(found)
    return found


async def test_an_extension_that_keeps_every_rule_is_published(ctx: Context, uow: Work, employer: Employer) -> None:
    application = await _confirmed(
        ctx, uow, await _submit(ctx, uow, employer, internship(employer, start=START, weeks=2))
    )
    actor = Actor(Role.EMPLOYER, "signer", cvr=employer.cvr)
    new_end = application.terms.ends_on + timedelta(weeks=1)
    await handlers.extend(ctx, uow, application.id, Extension(new_end=new_end), actor)
    [extended] = _published(uow, subsidy.PlacementExtended)
    assert extended.new_end == new_end


async def test_an_extension_overlapping_the_citizens_next_placement_is_refused(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _confirmed(ctx, uow, await _submit(ctx, uow, employer, internship(employer, start=START)))
    following = await _submit(
        ctx, uow, employer, internship(employer, start=application.terms.ends_on + timedelta(days=7)), key="k2"
    )
    stored = await uow.store.get(following.id)
    assert stored is not None
    stored.citizen_ref = application.citizen_ref
    await uow.store.save(stored)
    actor = Actor(Role.EMPLOYER, "signer", cvr=employer.cvr)
    new_end = application.terms.ends_on + timedelta(weeks=2)
    with pytest.raises(ChangeRefused) as refused:
        await handlers.extend(ctx, uow, application.id, Extension(new_end=new_end), actor)
    assert refused.value.code == "extension_breaks_rule"


async def test_a_placement_past_its_planned_end_is_completed_and_one_running_is_left(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _confirmed(ctx, uow, await _submit(ctx, uow, employer, internship(employer, start=START)))
    await handlers.on_planned_end(ctx, uow, application.id)
    assert _published(uow, subsidy.PlacementEnded) == []
    after = datetime.combine(application.terms.ends_on + timedelta(days=1), ctx.clock().timetz())
    await handlers.on_planned_end(Context(**{**ctx.__dict__, "clock": lambda: after}), uow, application.id)
    [ended] = _published(uow, subsidy.PlacementEnded)
    assert ended.kind is subsidy.EndKind.PLANNED
    assert (await uow.store.get(application.id)).state is State.ENDED  # type: ignore[union-attr]


async def test_an_erased_citizens_evidence_can_no_longer_be_read(ctx: Context, uow: Work, employer: Employer) -> None:
    application = await _submit(ctx, uow, employer, internship(employer, start=START))
    assert application.citizen_ref is not None
    erased = CitizenErased(erasure_id=uuid4(), citizen_ref=application.citizen_ref, erased_at=ctx.clock())
    await handlers.on_citizen_erased(erased, _meta(erased), uow, ctx)
    with pytest.raises(KeyDestroyed):
        await uow.store.signature(application.id, "application")


async def _referred_extension(ctx: Context, uow: Work, employer: Employer) -> Application:
    """A running 4-week internship whose citizen benefits allows 8 weeks, extended by 2: the rule's maximum is 4
    weeks, so, as for a new application, a caseworker must decide."""
    form = internship(employer, start=START, weeks=4)
    application = await _confirmed(ctx, uow, await _submit(ctx, uow, employer, form), max_weeks=8)
    actor = Actor(Role.EMPLOYER, "signer", cvr=employer.cvr)
    new_end = application.terms.ends_on + timedelta(weeks=2)
    await handlers.extend(ctx, uow, application.id, Extension(new_end=new_end), actor)
    return application


async def test_an_extension_needing_judgement_is_referred_and_the_placement_keeps_its_end(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _referred_extension(ctx, uow, employer)
    [referred] = [event for event in _published(uow, subsidy.ApplicationReferred) if event.change is not None]
    assert referred.change.kind is subsidy.ChangeKind.EXTENSION
    assert referred.change.new_end == application.terms.ends_on + timedelta(weeks=2)
    assert [reason.rule for reason in referred.reasons] == ["max_duration"]
    assert _published(uow, subsidy.PlacementExtended) == []
    stored = await uow.store.get(application.id)
    assert stored is not None and stored.terms.ends_on == application.terms.ends_on
    assert stored.state is State.CONFIRMED and stored.pending_change is not None
    actor = Actor(Role.EMPLOYER, "signer", cvr=employer.cvr)
    with pytest.raises(ChangeRefused) as refused:
        await handlers.extend(ctx, uow, application.id, Extension(new_end=stored.terms.ends_on + timedelta(1)), actor)
    assert refused.value.code == "change_pending"


async def test_a_caseworker_approving_a_referred_extension_extends_the_placement(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _referred_extension(ctx, uow, employer)
    approval = CaseworkerDecision(approve=True, remark="Nyuddannet: 8 uger er rimeligt.")
    await handlers.decide_as_caseworker(ctx, uow, application.id, approval, CASEWORKER)
    [extended] = _published(uow, subsidy.PlacementExtended)
    assert (extended.previous_end, extended.new_end) == (
        application.terms.ends_on,
        application.terms.ends_on + timedelta(weeks=2),
    )
    stored = await uow.store.get(application.id)
    assert stored is not None and stored.pending_change is None
    assert stored.terms.ends_on == extended.new_end


async def test_a_caseworker_rejecting_a_referred_extension_leaves_the_placement_as_it_was(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    application = await _referred_extension(ctx, uow, employer)
    rejection = CaseworkerDecision(approve=False, remark="Forlængelsen er ikke begrundet.")
    await handlers.decide_as_caseworker(ctx, uow, application.id, rejection, CASEWORKER)
    assert _published(uow, subsidy.PlacementExtended) == []
    [rejected] = _published(uow, subsidy.PlacementChangeRejected)  # the employer is told
    [referred] = _published(uow, subsidy.ApplicationReferred)
    assert (rejected.application_id, rejected.remark) == (application.id, "Forlængelsen er ikke begrundet.")
    assert rejected.change == referred.change and rejected.change.new_end == application.terms.ends_on + timedelta(
        weeks=2
    )
    stored = await uow.store.get(application.id)
    assert stored is not None and stored.pending_change is None
    assert (stored.terms.ends_on, stored.state) == (application.terms.ends_on, State.CONFIRMED)
    assert [line.action for line in await uow.store.history(application.id)][-2:] == [
        "change_referred",
        "change_rejected_by_caseworker",
    ]


async def test_new_hours_at_a_unit_full_today_are_referred_and_made_once_a_caseworker_approves(
    ctx: Context, uow: Work, employer: Employer
) -> None:
    unit = {"production_unit": f"10{uuid4().int % 10**8:08d}", "ordinary_fte": "1.00"}
    await _submit(ctx, uow, employer, internship(employer, start=TODAY, weeks=2, **unit), key="today")
    remark = {"ratio_override_remark": "The intern of today leaves before this one starts."}
    application = await _submit(ctx, uow, employer, internship(employer, start=START, **unit, **remark))
    referred = await _answered(ctx, uow, application)
    assert referred.state is State.REFERRED
    await handlers.decide_as_caseworker(
        ctx, uow, application.id, CaseworkerDecision(approve=True, remark="Ok."), CASEWORKER
    )
    await _confirmed_as_approved(ctx, uow, application)
    employer_actor = Actor(Role.EMPLOYER, "signer", cvr=employer.cvr)
    from_day = START + timedelta(days=7)
    change = HoursChange.model_validate({"weekly_hours": [{"from_date": from_day.isoformat(), "hours_per_week": "30"}]})

    await handlers.change_hours(ctx, uow, application.id, change, employer_actor)

    [waiting] = [event for event in _published(uow, subsidy.ApplicationReferred) if event.change is not None]
    assert waiting.change.kind is subsidy.ChangeKind.HOURS
    assert [step.from_date for step in waiting.change.weekly_hours] == [from_day]
    assert _published(uow, subsidy.PlacementHoursChanged) == []

    await handlers.decide_as_caseworker(
        ctx, uow, application.id, CaseworkerDecision(approve=True, remark="Ja."), CASEWORKER
    )

    [changed] = _published(uow, subsidy.PlacementHoursChanged)
    assert changed.effective_from == from_day


async def _confirmed_as_approved(ctx: Context, uow: Work, application: Application) -> None:
    """An approved application confirmed, as the employer's signed confirmation leaves it."""
    found = await uow.store.get(application.id)
    assert found is not None and found.state is State.APPROVED
    found.confirm(Actor(Role.EMPLOYER, "signer", cvr=found.terms.employer_cvr), ctx.clock())
    await uow.store.save(found)
