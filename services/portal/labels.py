"""The words the pages put on the API's codes: states, next steps, schemes, rules and outcomes.

Each is a message id (`N_` marks it for extraction); pages translate it with the request's catalog. A code the
portal does not know yet is shown as the code itself, so a new rule or state is visible rather than hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker, found by `pybabel extract`
    """Marks a message id for the catalogs without translating it here."""
    return message


STATES: Mapping[str, str] = MappingProxyType(
    {
        "position_awaiting_representative": N_("Position: awaiting the employee representative"),
        "position_assessing": N_("Position: being assessed"),
        "position_referred": N_("Position: with a caseworker"),
        "position_approved": N_("Position approved"),
        "position_rejected": N_("Position rejected"),
        "awaiting_representative": N_("Awaiting the employee representative"),
        "assessing": N_("Being assessed"),
        "referred": N_("With a caseworker"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "declined_by_representative": N_("Declined by the employee representative"),
        "confirmed": N_("Placement running"),
        "ended": N_("Ended"),
        "withdrawn": N_("Withdrawn"),
    }
)

NEXT_STEPS: Mapping[str, str] = MappingProxyType(
    {
        "position_awaiting_representative": N_("Nothing: the employee representative has been asked to answer."),
        "position_assessing": N_("Nothing: the rules are being checked."),
        "position_referred": N_("Nothing: a caseworker at the jobcentre is deciding."),
        "position_approved": N_("Name the citizen who is to fill the position."),
        "position_rejected": N_("Read the reasons below."),
        "awaiting_representative": N_("Nothing: the employee representative has been asked to answer."),
        "assessing": N_("Nothing: the rules are being checked."),
        "referred": N_("Nothing: a caseworker at the jobcentre is deciding."),
        "approved": N_("Give your final approval, signed, before the placement starts."),
        "rejected": N_("Read the reasons below."),
        "declined_by_representative": N_("Read the representative's reason below."),
        "confirmed": N_("Report changes while the placement runs."),
        "ended": N_("Nothing."),
        "withdrawn": N_("Nothing."),
    }
)

SCHEMES: Mapping[str, str] = MappingProxyType(
    {
        "wage_subsidy": N_("Wage subsidy"),
        "utility_work": N_("Utility work"),
        "internship": N_("Internship (virksomhedspraktik)"),
        "wage_subsidy_private": N_("Wage subsidy, private employer"),
        "wage_subsidy_public": N_("Wage subsidy, public employer"),
    }
)

TARGET_GROUPS: Mapping[str, str] = MappingProxyType(
    {
        "dagpenge": N_("Unemployment benefit (dagpenge)"),
        "kontanthjaelp_job_ready": N_("Social assistance, job-ready"),
        "kontanthjaelp_activity_ready": N_("Social assistance, activity-ready"),
        "uddannelseshjaelp_education_ready": N_("Education benefit, education-ready"),
        "uddannelseshjaelp_activity_ready": N_("Education benefit, activity-ready"),
        "self_supporting_job_ready": N_("Self-supporting, job-ready"),
        "self_supporting_activity_ready": N_("Self-supporting, activity-ready"),
        "sygedagpenge": N_("Sickness benefit"),
        "jobafklaringsydelse": N_("Job clarification"),
        "ressourceforloebsydelse": N_("Resource programme"),
        "flexjob_referred": N_("Referred to flexjob"),
        "foertidspension": N_("Early retirement pension"),
    }
)

DEADLINES: Mapping[str, str] = MappingProxyType(
    {
        "young_without_education": N_("Young person without education"),
        "insured_unemployed": N_("Insured unemployed person"),
    }
)
"""The right and duty's deadlines (rules/activation_timeliness) by name."""

PLAN_STATUSES: Mapping[str, str] = MappingProxyType(
    {"recorded": N_("Running or planned"), "ended": N_("Ended"), "cancelled": N_("Cancelled")}
)

PURPOSES: Mapping[str, str] = MappingProxyType(
    {
        "clarify_job_goal": N_("Clarify a job goal"),
        "train_skills": N_("Train skills"),
        "toward_job": N_("Toward a job"),
    }
)

OUTCOMES: Mapping[str, str] = MappingProxyType(
    {
        "passed": N_("Met"),
        "failed": N_("Not met"),
        "needs_judgement": N_("A caseworker must judge"),
        "warning": N_("Warning"),
    }
)

VERDICTS: Mapping[str, str] = MappingProxyType(
    {"approved": N_("Approved"), "referred": N_("Sent to a caseworker"), "rejected": N_("Rejected")}
)

DECIDERS: Mapping[str, str] = MappingProxyType(
    {"automatic": N_("Decided automatically by the rules"), "caseworker": N_("Decided by a caseworker")}
)

RULES: Mapping[str, str] = MappingProxyType(
    {
        "ratio": N_("Ratio between ordinary employees and supported persons"),
        "net_additional_employment": N_("The job is additional (net additional employment)"),
        "net_additional_employment.public_attestation": N_("Public employer's attestation of net addition"),
        "net_additional_employment.headcount": N_("The headcount has grown (net additional employment)"),
        "net_additional_employment.vacated_post": N_("No post vacated in the last 3 months"),
        "max_duration": N_("Longest period allowed"),
        "internship_hours": N_("Hours of an internship"),
        "state_aid_cap": N_("Ceiling on state aid (de minimis)"),
        "prior_unemployment": N_("Prior unemployment"),
        "citizen_unknown": N_("The citizen is known to the jobcentre"),
        "citizen_eligible": N_("The citizen may be offered the scheme"),
        "not_latest_employer": N_("Not the citizen's latest employer"),
        "no_plan_overlap": N_("No overlap with the citizen's other offers"),
        "plan_conflict": N_("Conflict with the citizen's plan"),
        "rule_data": N_("Rule data for the period"),
        "start_after_decision": N_("The placement does not start before the decision"),
        "benefits_answer": N_("Answer from the benefits service"),
        "activation_answer": N_("Answer from the activation service"),
    }
)

ACTIONS: Mapping[str, str] = MappingProxyType(
    dict(STATES)
    | {
        "submitted": N_("Application submitted"),
        "position_submitted": N_("Application for a position submitted"),
        "representative_approved": N_("The employee representative approved"),
        "representative_declined": N_("The employee representative declined"),
        "citizen_assessed": N_("The citizen was assessed"),
        "activation_checked": N_("The citizen's plan was checked"),
        "decided_automatically": N_("Decided by the rules"),
        "referred_after_deadline": N_("Sent to a caseworker: answers were missing"),
        "approved_by_caseworker": N_("Approved by a caseworker"),
        "rejected_by_caseworker": N_("Rejected by a caseworker"),
        "citizen_named": N_("Citizen named"),
        "extended": N_("Placement extended"),
        "hours_changed": N_("Weekly hours changed"),
        "change_referred": N_("Change sent to a caseworker"),
        "change_approved_by_caseworker": N_("Change approved by a caseworker"),
        "change_rejected_by_caseworker": N_("Change rejected by a caseworker"),
        "wages_reported": N_("Wages reported"),
        "confirmed": N_("Final approval given"),
        "ended": N_("Placement ended"),
        "withdrawn": N_("Application withdrawn"),
    }
)
"""What a line of the history says; a change of state without an entry here is named by the state it left."""

ACTORS: Mapping[str, str] = MappingProxyType(
    {
        "rules": N_("the rules"),
        "timer": N_("the deadline"),
        "benefits": N_("the benefits service"),
        "activation": N_("the activation service"),
        "representative": N_("the employee representative"),
        "employer": N_("the employer"),
        "caseworker": N_("a caseworker"),
    }
)


def actor(recorded: str) -> str:
    """The message id for who made a change (`employer:<subject>` names the role, not the person)."""
    role = recorded.split(":", 1)[0]
    return ACTORS.get(role, recorded)


def next_step(state: str, scheme: str) -> str:
    """The message id for what the employer does next with an application in `state`."""
    if state == "confirmed" and scheme.startswith("wage_subsidy"):
        return N_("Report the wages every month, and changes while the placement runs.")
    return NEXT_STEPS.get(state, N_("Open the application to see where it is."))


def bars(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    """Each key with its count and its bar's share of the largest (0–100), largest first, for an SVG chart."""
    top = max(counts.values(), default=0) or 1
    return [(key, value, 100 * value / top) for key, value in sorted(counts.items(), key=lambda item: -item[1])]


SIGNATURE_REFUSALS: Mapping[str, str] = MappingProxyType(
    {
        "signature_cert_expired": N_("The certificate had expired when you signed. Sign with a valid certificate."),
        "signature_cert_not_yet_valid": N_("The certificate was not yet valid when you signed."),
        "signature_revoked": N_("The certificate has been revoked. Sign with another certificate."),
        "signature_chain_untrusted": N_("The certificate is not issued by a CA the jobcentre trusts."),
        "signature_cvr_mismatch": N_("The certificate belongs to another company (CVR) than the application."),
        "signature_signature_invalid": N_(
            "The signature does not match the certificate: choose the key that belongs to it."
        ),
        "signature_malformed": N_("The signature could not be read. Check the key and certificate files."),
        "signature_x5c_missing": N_("The certificate is missing: choose your certificate file too."),
        "transition_not_allowed": N_("The application can no longer be approved: it has changed state."),
    }
)


def signature_refusal(code: str) -> str:
    """The message id for why the service refused a signature (its problem's `code`)."""
    return SIGNATURE_REFUSALS.get(code, N_("The signature was refused. Check the key and certificate files."))
