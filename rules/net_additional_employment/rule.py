"""Wage subsidy, net additional employment (merbeskæftigelse): the headcount may not fall, no recently vacated post
is refilled, and a public employer attests that the post is additional."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import PositiveInt

from rules.common import Frozen, Outcome, RuleResult, RuleVersion, Sector, observed, result
from rules.dates import months_later

if TYPE_CHECKING:
    from rules import Rulebook


class NetAdditionalEmploymentRule(RuleVersion):
    """The headcount lookback, the window for vacated posts, and whether a public employer must attest."""

    headcount_lookback_months: PositiveInt
    vacated_post_window_months: PositiveInt
    public_employer_attestation_required: bool


@dataclass(frozen=True)
class Employer:
    """The company (CVR number) as the net-additional-employment rule sees it."""

    sector: Sector
    monthly_ordinary_fte: tuple[Decimal, ...] = ()
    """Ordinary headcount in FTE per month, oldest first; the last entry is last month."""
    vacated_post_on: date | None = None
    """When the post this placement fills was vacated by a dismissal or resignation, if it was."""
    net_addition_attested: bool = False
    """A public employer's signed attestation that the post is additional."""


def check_headcount(rule: NetAdditionalEmploymentRule, employer: Employer) -> RuleResult:
    """Last month's ordinary headcount is at least the average of the lookback."""
    name, months = "net_additional_employment.headcount", rule.headcount_lookback_months
    history = employer.monthly_ordinary_fte[-months:]
    facts = {"monthly_ordinary_fte": history}
    if len(history) < months:
        return result(
            name,
            Outcome.NEEDS_JUDGEMENT,
            f"only {len(history)} months of headcount are known; the rule compares with {months}",
            f"kun {len(history)} måneders beskæftigelse er kendt; reglen sammenligner med {months}",
            rule,
            facts,
        )
    last, total = history[-1], sum(history, Decimal(0))
    average = (total / months).quantize(Decimal("0.01"))
    if last * months >= total:
        return result(
            name,
            Outcome.PASSED,
            f"last month's {last} ordinary FTE is at least the {months}-month average of {average}",
            f"sidste måneds {last} ordinære årsværk er mindst gennemsnittet over {months} måneder, {average}",
            rule,
            facts,
        )
    return result(
        name,
        Outcome.FAILED,
        f"last month's {last} ordinary FTE is below the {months}-month average of {average}",
        f"sidste måneds {last} ordinære årsværk er under gennemsnittet over {months} måneder, {average}",
        rule,
        facts,
    )


def check_vacated_post(rule: NetAdditionalEmploymentRule, employer: Employer, starts_on: date) -> RuleResult:
    """The post does not replace one vacated by dismissal or resignation recently."""
    name = "net_additional_employment.vacated_post"
    window_opens = months_later(starts_on, -rule.vacated_post_window_months)
    vacated = employer.vacated_post_on
    facts = {"vacated_post_on": vacated, "starts_on": starts_on}
    if vacated is not None and vacated >= window_opens:
        return result(
            name,
            Outcome.FAILED,
            f"the post was vacated by a dismissal or resignation on {vacated}, within "
            f"{rule.vacated_post_window_months} months before the start date {starts_on}",
            f"stillingen blev ledig ved afskedigelse eller opsigelse den {vacated}, inden for "
            f"{rule.vacated_post_window_months} måneder før startdatoen {starts_on}",
            rule,
            facts,
        )
    return result(
        name,
        Outcome.PASSED,
        f"no post vacated by a dismissal or resignation since {window_opens}",
        f"ingen stilling er blevet ledig ved afskedigelse eller opsigelse siden {window_opens}",
        rule,
        facts,
    )


def check_public_attestation(rule: NetAdditionalEmploymentRule, employer: Employer) -> RuleResult:
    """A public employer's attestation, which only a caseworker can weigh."""
    name = "net_additional_employment.public_attestation"
    facts = {"sector": employer.sector, "net_addition_attested": employer.net_addition_attested}
    if employer.sector is not Sector.PUBLIC or not rule.public_employer_attestation_required:
        return result(
            name,
            Outcome.PASSED,
            f"no attestation is required of a {employer.sector} employer",
            f"der kræves ingen erklæring af en {_sector_da(employer.sector)} arbejdsgiver",
            rule,
            facts,
        )
    if not employer.net_addition_attested:
        return result(
            name,
            Outcome.FAILED,
            "the public employer has not signed the net-addition attestation",
            "den offentlige arbejdsgiver har ikke underskrevet erklæringen om merbeskæftigelse",
            rule,
            facts,
        )
    return result(
        name,
        Outcome.NEEDS_JUDGEMENT,
        "a caseworker must judge the public employer's signed attestation (cuts with unchanged tasks fail it)",
        "en sagsbehandler skal vurdere den offentlige arbejdsgivers erklæring (nedskæringer med uændrede opgaver "
        "opfylder den ikke)",
        rule,
        facts,
    )


def _sector_da(sector: Sector) -> str:
    return "privat" if sector is Sector.PRIVATE else "offentlig"


class Example(Frozen):
    """One of the three checks, with the employer as an example (examples.toml) writes it."""

    check: Literal["headcount", "vacated_post", "public_attestation"]
    starts_on: date
    sector: Sector = Sector.PRIVATE
    monthly_ordinary_fte: tuple[Decimal, ...] = ()
    vacated_post_on: date | None = None
    net_addition_attested: bool = False

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The check's answer with the version in force on the start date."""
        rule = rulebook.in_force(NetAdditionalEmploymentRule, self.starts_on)
        employer = Employer(self.sector, self.monthly_ordinary_fte, self.vacated_post_on, self.net_addition_attested)
        if self.check == "headcount":
            return observed(check_headcount(rule, employer))
        if self.check == "vacated_post":
            return observed(check_vacated_post(rule, employer, self.starts_on))
        return observed(check_public_attestation(rule, employer))
