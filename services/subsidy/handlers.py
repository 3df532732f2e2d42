"""One async function per command or event: load → decide → record (store + `uow.publish`); the caller commits.

The decision saga lives here and in `decision.py`: an application waits in the database, never in memory, for
the representative and for the answers of benefits and activation; whichever arrives last lets the rules
decide, and the deadline timer refers whatever is still waiting when its time is up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import structlog
from pydantic import ValidationError

from contracts import subsidy
from contracts.activation import ActivationChecked
from contracts.benefits import CitizenAssessed, CitizenErased
from contracts.envelope import Metadata
from contracts.subsidy import Withdrawer
from jobbro import shredding
from jobbro.pseudonym import citizen_ref
from jobbro.uow import Work
from rules import NotInRuleData, Rulebook, RuleNotInForce, SubsidyRates, birth_date_from_cpr
from services.subsidy import changes, decision, eligibility, events, timing
from services.subsidy.domain import (
    Actor,
    Application,
    ChangeKind,
    ChangeRefused,
    DomainError,
    PendingChange,
    Role,
    RuleOutcome,
    Scheme,
    State,
    Terms,
)
from services.subsidy.eligibility import ExistingPlacement
from services.subsidy.links import RepresentativeLinks
from services.subsidy.schemas import (
    ApplicationForm,
    ApplicationSummary,
    ApplicationView,
    CaseworkerDecision,
    CitizenNaming,
    DerivationView,
    EndOfPlacement,
    ErasureRequest,
    ErasureView,
    Extension,
    FinalConfirmation,
    ForRepresentative,
    HoursChange,
    RepresentativeAnswer,
    SignedApplication,
    WageReportIn,
    WageReportOut,
    Withdrawal,
    citizen_document,
    confirmation_document,
    hours_steps,
)
from services.subsidy.settings import SubsidySettings
from services.subsidy.signing import RefusalReason, SignatureRefused, VerifiedSignature, verify
from services.subsidy.store import Applications, WageReport
from services.subsidy.trust import TrustFiles

log = structlog.get_logger(__name__)


class NotFound(DomainError):
    """No such application, or not one the caller may see (the two are not told apart)."""

    code = "application_not_found"


class Forbidden(DomainError):
    """The caller may not act on what the request names."""

    code = "forbidden"


class SignatureReplayed(DomainError):
    """A signed document that already had its effect, sent again (the same document, signed again, counts too)."""

    code = "signature_replayed"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """What handlers need besides the unit of work, built once at start-up."""

    settings: SubsidySettings
    rulebook: Rulebook
    links: RepresentativeLinks
    trust: TrustFiles
    keys: shredding.KeyWrap
    """Wraps the citizens' data keys (their evidence is sealed under them)."""
    clock: Callable[[], datetime] = field(default=_utc_now)


@dataclass(frozen=True)
class Submission:
    """The application a submission made, or found again when the request was a replay."""

    application: Application
    replayed: bool


async def submit_application(
    ctx: Context, uow: Work[Applications], request: SignedApplication, idempotency_key: str, employer: Actor
) -> Submission:
    """Verify the employer's signature, keep it as evidence, and start the saga; a replay finds the first.

    A replay is a used `Idempotency-Key`, or a signed document already used, whatever its key: one signed
    application makes one application. An application for a position is decided on the employer's side at once,
    or once the representative approves.
    """
    form, now = request.application, ctx.clock()
    if form.employer.cvr != employer.cvr:
        raise Forbidden("The application names another CVR number than the one you act for.", "cvr_not_yours")
    fingerprint, application_id = request.fingerprint(), uuid4()
    earlier = await uow.store.claim_idempotency_key(employer.cvr, idempotency_key, fingerprint, application_id)
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise ChangeRefused(
                "This Idempotency-Key was already used with a different request.", "idempotency_key_reused"
            )
        return Submission(await _get(uow.store, earlier.application_id), replayed=True)
    signature = verify(request.signature, None, employer.cvr, ctx.trust.current(), now)
    _require_signed(signature, form)
    first = await _first_use(uow, signature, application_id, "application")
    if first is not None:
        await uow.store.point_idempotency_key(employer.cvr, idempotency_key, first)
        return Submission(await _get(uow.store, first), replayed=True)
    application = _new_application(ctx, application_id, form, employer, now)
    submitted = uow.publish(
        events.submitted(application, signature.signed_at)
        if form.citizen
        else events.position_submitted(application, signature.signed_at)
    )
    application.submitted_event_id = submitted.id
    pending = application.representative_request
    if pending is not None:
        to = application.terms.representative
        assert to is not None
        sealed = ctx.links.sealed(application.id, pending.request_id, to.email, pending.expires_at, now)
        uow.publish(events.representative_requested(application, sealed))
    await _decide_if_ready(ctx, uow, application, now)
    await uow.store.insert(application, submitted.traceparent)  # the case's trace, continued by what follows
    await uow.store.add_signature(application.id, "application", signature, now, application.citizen_ref)
    log.info("application_submitted", application_id=str(application.id), state=application.state.value)
    return Submission(application, replayed=False)


def _new_application(
    ctx: Context, application_id: UUID, form: ApplicationForm, employer: Actor, now: datetime
) -> Application:
    """The application a form makes: naming its citizen, or for a position."""
    settings = ctx.settings
    if form.citizen is None:
        return Application.submit_position(
            application_id, form.terms(), employer, now, representative_deadline=settings.representative_deadline
        )
    cpr = form.citizen.cpr
    return Application.submit(
        application_id,
        form.terms(),
        citizen_ref(cpr, settings.pseudonym_key),
        _birth_date(cpr),
        employer,
        now,
        representative_deadline=settings.representative_deadline,
        answer_timeout=settings.answer_timeout,
    )


async def name_citizen(
    ctx: Context, uow: Work[Applications], application_id: UUID, body: CitizenNaming, employer: Actor
) -> None:
    """The employer's signed naming of the citizen for an approved position; then it is decided like any other."""
    now = ctx.clock()
    application = await _load(uow.store, application_id, employer)
    cvr = application.terms.employer_cvr
    application.name_citizen(
        citizen_ref(body.cpr, ctx.settings.pseudonym_key),
        _birth_date(body.cpr),
        body.consent_reference,
        employer,
        now,
        answer_timeout=ctx.settings.answer_timeout,
    )
    expected = citizen_document(application.id, cvr, body.cpr, body.consent_reference)
    signature = verify(body.signature, expected, cvr, ctx.trust.current(), now)
    await _claim_once(uow, signature, application.id, "citizen_named")
    await uow.store.add_signature(application.id, "citizen_named", signature, now, application.citizen_ref)
    application.submitted_event_id = uow.publish(events.submitted(application, signature.signed_at)).id
    await uow.store.save(application)
    log.info("citizen_named", application_id=str(application.id))


async def erase_citizen(ctx: Context, uow: Work[Applications], body: ErasureRequest, operator: str) -> ErasureView:
    """Destroy the citizen's data key: the signed documents naming them can no longer be opened, while their
    applications, decisions and placements stay, by `citizen_ref`. Erasing again tells the first erasure."""
    ref = citizen_ref(body.cpr, ctx.settings.pseudonym_key)
    erasure = shredding.Erasure(uuid4(), ref, body.reason, operator)
    erasure_id, erased_at = await uow.store.erase_citizen(erasure)
    log.info("citizen_erased", erasure_id=str(erasure_id), citizen_ref=ref)
    return ErasureView(erasure_id=erasure_id, citizen_ref=ref, erased_at=erased_at)


async def answer_as_representative(ctx: Context, uow: Work[Applications], answer: RepresentativeAnswer) -> Application:
    """The representative's approval lets the rules decide (if the answers are in); a refusal ends the case."""
    now = ctx.clock()
    link = ctx.links.read(answer.token, now)
    application = await _get(uow.store, link.application_id, for_update=True)
    application.answer_as_representative(
        link.request_id, answer.approve, answer.reason, now, answer_timeout=ctx.settings.answer_timeout
    )
    uow.publish(events.representative_answered(application))
    await _decide_if_ready(ctx, uow, application, now)
    await uow.store.save(application)
    return application


def representative_case(ctx: Context, token: str) -> UUID:
    """The application a representative's link names (refused like `answer_as_representative` refuses it)."""
    return ctx.links.read(token, ctx.clock()).application_id


async def for_representative(ctx: Context, applications: Applications, token: str) -> ForRepresentative:
    """What the representative is asked to confirm; reading it does not use the link up."""
    link = ctx.links.read(token, ctx.clock())
    application = await _get(applications, link.application_id)
    request = application.representative_request
    if request is None or request.request_id != link.request_id:
        raise NotFound("The application this link names does not exist.")
    terms = application.terms
    return ForRepresentative(
        application_id=application.id,
        state=application.state,
        employer_name=terms.employer_name,
        workplace=terms.workplace,
        position_title=terms.position_title,
        tasks=terms.tasks,
        period={"start": terms.starts_on, "end": terms.ends_on},
        weekly_hours=[{"from_date": s.starts_on, "hours_per_week": s.hours_per_week} for s in terms.weekly_hours],
        expires_at=request.expires_at,
    )


async def decide_as_caseworker(
    ctx: Context, uow: Work[Applications], application_id: UUID, body: CaseworkerDecision, caseworker: Actor
) -> None:
    """A caseworker's verdict; an approval is refused where confirmation would be, or where it starts too early."""
    now = ctx.clock()
    application = await _load(uow.store, application_id, caseworker)
    if application.pending_change is not None:
        await _decide_change(ctx, uow, application, body, caseworker)
        return
    exception = body.start_exception.justification if body.start_exception else None
    application.decide_as_caseworker(body.approve, body.remark, caseworker, now, start_exception=exception)
    if body.approve:
        timing.require_start_allowed(application.terms.starts_on, now.date(), exception)
        _hourly_rate(ctx.rulebook, application.terms)
    uow.publish(events.decided(application))
    await uow.store.save(application)
    log.info("application_decided", application_id=str(application_id), verdict=application.state.value)


async def _decide_change(
    ctx: Context, uow: Work[Applications], application: Application, body: CaseworkerDecision, caseworker: Actor
) -> None:
    """A caseworker's verdict on a referred change; an approval is refused where a rule now fails."""
    change = application.pending_change
    assert change is not None
    if body.approve:
        await _questions(uow.store, application, change, ctx.rulebook, ctx.clock(), "change_breaks_rule")
    previous_end = application.terms.ends_on
    application.decide_change(body.approve, body.remark, caseworker, ctx.clock())
    if body.approve:
        uow.publish(_change_made(application, change, previous_end))
    else:
        uow.publish(events.change_rejected(application, change, body.remark))
    await uow.store.save(application)
    log.info("change_decided", application_id=str(application.id), approved=body.approve)


async def confirm(
    ctx: Context, uow: Work[Applications], application_id: UUID, body: FinalConfirmation, employer: Actor
) -> None:
    """The employer's signed final approval; a wage subsidy states the hourly rate from the rule data."""
    now = ctx.clock()
    application = await _load(uow.store, application_id, employer)
    application.confirm(employer, now)
    expected = confirmation_document(application.id, application.terms.employer_cvr)
    signature = verify(body.signature, expected, application.terms.employer_cvr, ctx.trust.current(), now)
    rate = _hourly_rate(ctx.rulebook, application.terms)
    await _claim_once(uow, signature, application.id, "final_confirmation")
    await uow.store.add_signature(application.id, "final_confirmation", signature, now)
    uow.publish(events.confirmed(application, rate))
    await uow.store.save(application)


async def extend(ctx: Context, uow: Work[Applications], application_id: UUID, body: Extension, employer: Actor) -> None:
    """A new end: made if every rule it can affect still holds, referred to a caseworker if one needs judgement."""
    application = await _load(uow.store, application_id, employer)
    await _change(ctx, uow, application, application.extended(body.new_end), employer, "extension_breaks_rule")


async def change_hours(
    ctx: Context, uow: Work[Applications], application_id: UUID, body: HoursChange, employer: Actor
) -> None:
    """New weekly hours: made if every rule they can affect still holds, referred to a caseworker if one needs
    judgement."""
    application = await _load(uow.store, application_id, employer)
    change = application.with_hours(hours_steps(body.weekly_hours))
    await _change(ctx, uow, application, change, employer, "hours_break_rule")


async def _change(
    ctx: Context, uow: Work[Applications], application: Application, change: PendingChange, by: Actor, code: str
) -> None:
    """Refused if it breaks a rule (`code`); referred, as a new application would be, if a rule needs judgement."""
    questions = await _questions(uow.store, application, change, ctx.rulebook, ctx.clock(), code)
    if questions:
        application.refer_change(replace(change, questions=questions), by, ctx.clock())
        uow.publish(events.change_referred(application))
    else:
        previous_end = application.terms.ends_on
        application.make_change(change, by, ctx.clock())
        uow.publish(_change_made(application, change, previous_end))
    await uow.store.save(application)


def _change_made(
    application: Application, change: PendingChange, previous_end: date
) -> subsidy.PlacementExtended | subsidy.PlacementHoursChanged:
    if change.kind is ChangeKind.EXTENSION:
        return events.extended(application, previous_end)
    return events.hours_changed(application, change.effective_from)


async def end(
    ctx: Context, uow: Work[Applications], application_id: UUID, body: EndOfPlacement, employer: Actor
) -> None:
    """End the placement; a wage subsidy reports its last 12 months for the state-aid cap, an internship not."""
    application = await _load(uow.store, application_id, employer)
    early = application.end(body.last_day, body.reason, employer, ctx.clock())
    amounts = (body.subsidy_last_12_months_ore, body.wage_costs_last_12_months_ore)
    if application.terms.scheme is Scheme.INTERNSHIP and amounts != (None, None):
        raise ChangeRefused("An internship has no subsidy or wage costs to report.", "not_a_wage_subsidy")
    if application.terms.scheme is not Scheme.INTERNSHIP and None in amounts:
        raise ChangeRefused(
            "A wage subsidy's end reports the subsidy and wage costs of its last 12 months.", "last_12_months_missing"
        )
    uow.publish(events.ended(application, early, body.reason, body.remark, *amounts))
    await uow.store.save(application)


async def withdraw(ctx: Context, uow: Work[Applications], application_id: UUID, body: Withdrawal, actor: Actor) -> None:
    application = await _load(uow.store, application_id, actor)
    application.withdraw(actor, body.reason, ctx.clock())
    uow.publish(events.withdrawn(application, Withdrawer(actor.role.value), body.reason))
    await uow.store.save(application)


async def report_wages(
    ctx: Context, uow: Work[Applications], application_id: UUID, body: WageReportIn, employer: Actor
) -> WageReportOut:
    """A month of a wage-subsidy placement, in arrears; benefits computes the subsidy from it."""
    now = ctx.clock()
    application = await _load(uow.store, application_id, employer)
    year, month = (int(part) for part in body.month.split("-"))
    start, end_ = application.report_wages(year, month, employer, now)
    _require_payment_rules(ctx.rulebook, application.terms, date(year, month, 1))
    report = WageReport(uuid4(), start, end_, body.paid_hours, body.wage_costs_ore, body.sickness_refunds_ore, now)
    await uow.store.add_wage_report(application.id, report)
    uow.publish(
        events.wage_reported(
            application,
            report.report_id,
            (start, end_),
            body.paid_hours,
            body.wage_costs_ore,
            body.sickness_refunds_ore,
        )
    )
    await uow.store.save(application)
    return wage_report_out(report)


async def on_citizen_assessed(event: CitizenAssessed, meta: Metadata, uow: Work[Applications], ctx: Context) -> None:
    """Benefits answered; the first answer counts, in any order with activation's."""
    application = await _answered(uow.store, event.application_id, event.citizen_ref, "citizen_assessed")
    now = ctx.clock()
    if application is None or not application.record_assessment(events.citizen_answer(event, meta.id), now):
        log.info("answer_ignored", answer="citizen_assessed", application_id=str(event.application_id))
        return
    await _decide_if_ready(ctx, uow, application, now)
    await uow.store.save(application)


async def on_citizen_erased(event: CitizenErased, _meta: Metadata, uow: Work[Applications], ctx: Context) -> None:
    """Benefits erased the citizen: destroy subsidy's key for them too, under benefits' erasure id."""
    erasure = shredding.Erasure(event.erasure_id, event.citizen_ref, "erased in benefits' registry", "benefits")
    await uow.store.erase_citizen(erasure)
    log.info("citizen_erased", erasure_id=str(event.erasure_id), citizen_ref=event.citizen_ref)


async def on_activation_checked(
    event: ActivationChecked, meta: Metadata, uow: Work[Applications], ctx: Context
) -> None:
    """Activation answered; the first answer counts, in any order with benefits'."""
    application = await _answered(uow.store, event.application_id, event.citizen_ref, "activation_checked")
    now = ctx.clock()
    if application is None or not application.record_plan_check(events.plan_answer(event, meta.id), now):
        log.info("answer_ignored", answer="activation_checked", application_id=str(event.application_id))
        return
    await _decide_if_ready(ctx, uow, application, now)
    await uow.store.save(application)


async def on_deadline(ctx: Context, uow: Work[Applications], application_id: UUID) -> None:
    """A case still waiting at its deadline goes to a caseworker with every result known so far."""
    now = ctx.clock()
    application = await uow.store.get(application_id, for_update=True)
    if application is None or application.deadline_at is None or application.deadline_at > now:
        return  # decided, or moved on, since the timer looked
    placements = await _counted_placements(uow.store, application, now.date())
    application.refer_after_deadline(decision.evaluate(application, placements, ctx.rulebook, now))
    uow.publish(events.decided(application))
    await uow.store.save(application)
    log.info("application_referred_after_deadline", application_id=str(application_id))


async def on_planned_end(ctx: Context, uow: Work[Applications], application_id: UUID) -> None:
    """A placement still running after its planned last day ended then: it is completed, and the others told."""
    now = ctx.clock()
    application = await uow.store.get(application_id, for_update=True)
    if application is None or application.state is not State.CONFIRMED or application.terms.ends_on >= now.date():
        return  # ended, or extended, since the timer looked
    application.complete(now)
    uow.publish(events.ended(application, False, None, None, None, None))
    await uow.store.save(application)
    log.info("placement_completed", application_id=str(application_id))


async def view(applications: Applications, application_id: UUID, actor: Actor) -> ApplicationView:
    """An application as `actor` may see it: the decision's inputs only for caseworkers and auditors."""
    return await view_of(applications, await applications.get(application_id), actor)


async def view_of(applications: Applications, application: Application | None, actor: Actor) -> ApplicationView:
    """`view` of an application already loaded in this transaction (None: there is none)."""
    application = _visible(application, actor)
    application_id = application.id
    reports = [wage_report_out(report) for report in await applications.wage_reports(application_id)]
    return ApplicationView.of(
        application,
        await applications.history(application_id),
        reports,
        with_inputs=actor.role in (Role.CASEWORKER, Role.AUDITOR),
        version=await applications.version(application_id),
    )


async def locked_version(applications: Applications, application_id: UUID, actor: Actor) -> int:
    """The version of an application the actor may see, locked until the transaction ends: the change that follows
    in it is made to this version."""
    await _load(applications, application_id, actor)
    return await applications.version(application_id)


async def derivation(applications: Applications, application_id: UUID, actor: Actor) -> DerivationView:
    """How the application's decision (a position's, until its citizen is named) came about."""
    application = await _load(applications, application_id, actor, for_update=False)
    decided = application.decision if application.citizen_named else application.position_decision
    if decided is None:
        raise ChangeRefused("The application has not been decided yet.", "not_decided")
    return DerivationView.of(application.id, decided)


async def listing(
    applications: Applications,
    actor: Actor,
    state: State | None,
    limit: int,
    after: tuple[datetime, UUID] | None = None,
    change_pending: bool = False,
) -> list[ApplicationSummary]:
    """An employer's own applications, a caseworker's municipality's, or every one for an auditor, newest first:
    `limit` of them after the sort key `after` (only placements whose change waits, if `change_pending`)."""
    rows = await applications.listed(
        employer_cvr=actor.cvr,
        municipality=actor.municipality,
        state=state,
        limit=limit,
        after=after,
        change_pending=change_pending,
    )
    return [ApplicationSummary.model_validate(row, from_attributes=True) for row in rows]


def wage_report_out(report: WageReport) -> WageReportOut:
    return WageReportOut(
        report_id=report.report_id,
        period={"start": report.period_start, "end": report.period_end},
        paid_hours=report.paid_hours,
        wage_costs_ore=report.wage_costs_ore,
        sickness_refunds_ore=report.sickness_refunds_ore,
        submitted_at=report.submitted_at,
    )


async def _decide_if_ready(ctx: Context, uow: Work[Applications], application: Application, now: datetime) -> None:
    """Once the representative approved and both answers are in, the rules decide; a position waits for no answers."""
    if not application.ready_to_decide:
        return
    placements = await _counted_placements(uow.store, application, now.date())
    application.record_decision(decision.evaluate(application, placements, ctx.rulebook, now))
    uow.publish(events.decided(application))
    log.info("application_decided", application_id=str(application.id), verdict=application.state.value)


async def _counted_placements(
    applications: Applications, application: Application, today: date
) -> tuple[ExistingPlacement, ...]:
    """What the ratio rule counts: the other placements at the production unit from today (or the start) to the end.

    None once a position's citizen is named: the position has held its place since it was decided.
    """
    if application.position_decision is not None:
        return ()
    terms = application.terms
    first_day = min(today, terms.starts_on)
    return await applications.placements_at(terms.production_unit, application.id, first_day, terms.ends_on)


async def _answered(applications: Applications, application_id: UUID, ref: str, answer: str) -> Application | None:
    """The application an answer is for, locked; None for another deployment's or another citizen's."""
    application = await applications.get(application_id, for_update=True)
    if application is not None and application.citizen_ref != ref:
        log.warning("answer_for_another_citizen", answer=answer, application_id=str(application_id))
        return None
    return application


async def _get(applications: Applications, application_id: UUID, *, for_update: bool = False) -> Application:
    application = await applications.get(application_id, for_update=for_update)
    if application is None:
        raise NotFound("There is no such application.")
    return application


async def _load(
    applications: Applications, application_id: UUID, actor: Actor, *, for_update: bool = True
) -> Application:
    """An application the actor may see: an employer its CVR's, a caseworker its municipality's, an auditor any;
    another's is answered as if there were none."""
    return _visible(await applications.get(application_id, for_update=for_update), actor)


def _visible(application: Application | None, actor: Actor) -> Application:
    """The application, if there is one the actor may see; another's is answered as if there were none."""
    if application is None or not _may_see(actor, application.terms):
        raise NotFound("There is no such application, or it is not yours to see.")
    return application


def _may_see(actor: Actor, terms: Terms) -> bool:
    if actor.role is Role.EMPLOYER:
        return actor.cvr is not None and actor.cvr == terms.employer_cvr
    if actor.role is Role.CASEWORKER:
        return actor.municipality is not None and actor.municipality == terms.municipality
    return actor.role is Role.AUDITOR


def _birth_date(cpr: str) -> date:
    born = birth_date_from_cpr(cpr)
    if born is None:
        raise ChangeRefused("The CPR number does not hold a valid birth date.", "cpr_invalid")
    return born


def _require_signed(signature: VerifiedSignature, form: ApplicationForm) -> None:
    """The signed document must say what the request says (compared as forms, so number formatting may differ)."""
    try:
        signed = ApplicationForm.model_validate(signature.document)
    except ValidationError as exc:
        raise SignatureRefused(RefusalReason.PAYLOAD_MISMATCH, "The signed document is not an application.") from exc
    if signed != form:
        raise SignatureRefused(RefusalReason.PAYLOAD_MISMATCH, "The signed document differs from the application sent.")


async def _first_use(
    uow: Work[Applications], signature: VerifiedSignature, application_id: UUID, purpose: str
) -> UUID | None:
    """Claim the signed document for `purpose`; the application of its first use if it was used for that before."""
    earlier = await uow.store.claim_signed_payload(signature.payload_sha256, application_id, purpose)
    if earlier is None:
        return None
    if earlier.purpose != purpose:
        raise SignatureReplayed("This signed document was already used for something else.")
    log.info("signed_document_replayed", purpose=purpose, application_id=str(earlier.application_id))
    return earlier.application_id


async def _claim_once(
    uow: Work[Applications], signature: VerifiedSignature, application_id: UUID, purpose: str
) -> None:
    """A signed change has its effect once: a second use of the same document is refused."""
    if await _first_use(uow, signature, application_id, purpose) is not None:
        raise SignatureReplayed("This signed document was already used.")


async def _questions(
    applications: Applications,
    application: Application,
    change: PendingChange,
    rulebook: Rulebook,
    now: datetime,
    code: str,
) -> tuple[RuleOutcome, ...]:
    """Re-run the rules the changed placement must meet, over its production unit and the citizen's placements:
    refused if one fails (`code`), else the questions a caseworker must decide."""
    changed, today = replace(application, terms=change.terms), now.date()
    terms = changed.terms
    first, last = min(today, terms.starts_on), terms.ends_on
    unit = await applications.placements_at(terms.production_unit, application.id, first, last)
    assert application.citizen_ref is not None  # a running placement names its citizen
    others = await applications.citizen_placements(application.citizen_ref, application.id, terms.starts_on, last)
    return changes.questions(changes.recheck(changed, unit, others, rulebook, today), code)


def _require_payment_rules(rulebook: Rulebook, terms: Terms, month_start: date) -> None:
    """A month that benefits could not pay is refused now, naming the missing rule, rather than accepted and lost."""
    missing = eligibility.missing_payment_rule(terms.scheme.sector, month_start, rulebook)
    if missing is not None:
        raise ChangeRefused(
            f"{month_start:%Y-%m} cannot be paid until an operator adds the rule data: {missing.detail}.",
            f"{missing.rule}_not_in_force",
        )


def _hourly_rate(rulebook: Rulebook, terms: Terms) -> Decimal | None:
    """A wage subsidy's rate per paid hour on its start date; None for an internship."""
    if terms.scheme is Scheme.INTERNSHIP:
        return None
    try:
        return rulebook.in_force(SubsidyRates, terms.starts_on).hourly_rate(terms.scheme.sector.value)
    except (RuleNotInForce, NotInRuleData) as exc:
        raise ChangeRefused(
            f"No wage-subsidy rate is in the rule data for {terms.starts_on}; an operator must add it first.",
            "subsidy_rate_unknown",
        ) from exc
