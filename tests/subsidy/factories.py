"""Test data: employers with development certificates, signed application forms, bearer tokens, and answers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from joserfc import jwt
from joserfc.jwk import ECKey
from pydantic import SecretStr

from contracts.activation import ActivationChecked, Conflict, ConflictKind
from contracts.benefits import Benefit, CitizenAssessed, TargetGroup
from contracts.common import Period, RuleResult, Scheme
from jobbro.shredding import KeyWrap
from services.subsidy.devca import Issued, issue_employer, make_ca, make_crl

TODAY = datetime.now(UTC).date()
ISSUER = "test-identity"
AUDIENCE = "jobbro-subsidy"
DATA_KEYS = KeyWrap(SecretStr("test:a-key-encryption-key-for-subsidy-tests"), setting="test")
"""Wraps citizens' data keys where a test builds the store itself."""


def random_digits(count: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(count))


def random_cpr(birth: date = date(1990, 5, 17)) -> str:
    """A CPR number for someone born on `birth` (20th century: 7th digit 0–3)."""
    return f"{birth:%d%m%y}{random.randint(0, 3)}{random_digits(3)}"


@dataclass(frozen=True)
class Pki:
    """A development CA, one revoked employer certificate, and the PEM files the service's settings name."""

    ca: Issued
    revoked: Issued
    anchors: Path
    crl: Path

    def employer(self, cvr: str | None = None) -> Employer:
        """A new employer with its own CVR number and a signing certificate naming it."""
        cvr = cvr or random_digits(8)
        return Employer(cvr, issue_employer(self.ca, cvr, random.randint(1, 10**6), datetime.now(UTC)))

    def colleague(self, employer: Employer) -> Employer:
        """Another employee of the same company, with a signing certificate of their own."""
        return Employer(
            employer.cvr, issue_employer(self.ca, employer.cvr, random.randint(1, 10**6), datetime.now(UTC))
        )

    def lapsed(self, expired_ago: timedelta) -> Employer:
        """A new employer whose only signing certificate expired `expired_ago`."""
        cvr, now = random_digits(8), datetime.now(UTC)
        issued = issue_employer(
            self.ca,
            cvr,
            random.randint(1, 10**6),
            now,
            valid_from=now - timedelta(days=400),
            valid_until=now - expired_ago,
        )
        return Employer(cvr, issued)


def make_pki(directory: Path) -> Pki:
    now = datetime.now(UTC)
    ca = make_ca("Subsidy test CA", now)
    revoked = issue_employer(ca, "11111111", 1, now)
    anchors, crl = directory / "ca.pem", directory / "crl.pem"
    anchors.write_bytes(ca.cert.public_bytes(Encoding.PEM))
    crl.write_bytes(make_crl(ca, [revoked.cert], now).public_bytes(Encoding.PEM))
    return Pki(ca, revoked, anchors, crl)


@dataclass(frozen=True)
class Employer:
    """An employer (CVR number) and an employee's signing certificate for it."""

    cvr: str
    signer: Issued


class Issuer:
    """The identity provider: its key signs bearer tokens; the service holds the public half."""

    def __init__(self) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())
        pem = self._private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        self._key = ECKey.import_key(pem)

    @property
    def public_pem(self) -> str:
        return self._private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    def token(self, role: str, *, expires_in: timedelta = timedelta(minutes=10), **claims: Any) -> str:
        now = datetime.now(UTC)
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"{role}-{random_digits(4)}",
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + expires_in).timestamp()),
            **claims,
        }
        return jwt.encode({"alg": "ES256"}, body, self._key)

    def employer(self, cvr: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token('employer', cvr=cvr)}"}

    def caseworker(self, municipality: str = "751") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token('caseworker', municipality=municipality)}"}


def internship(
    employer: Employer,
    *,
    cpr: str | None = None,
    start: date | None = None,
    weeks: int = 4,
    hours: str = "37.00",
    employees: int = 1,
    production_unit: str | None = None,
    ordinary_fte: str = "20.00",
    **changes: Any,
) -> dict[str, Any]:
    """An internship application as the employer fills it in (JSON values, as signed)."""
    start = start or TODAY + timedelta(days=30)
    form = {
        "scheme": "internship",
        "citizen": {"cpr": cpr or random_cpr(), "consent_reference": "consent-" + random_digits(6)},
        "employer": {
            "cvr": employer.cvr,
            "name": f"Employer {employer.cvr} ApS",
            "production_unit": production_unit or random_digits(10),
            "workplace": "Industrivej 1, 8000 Aarhus C",
            "company_employees": employees,
            "ordinary_employees_fte": ordinary_fte,
        },
        "municipality": "751",
        "position_title": "VVS-assistent",
        "tasks": "Assist the plumbers on site",
        "purpose": "toward_job",
        "employment_goal": "Job som VVS-assistent",
        "period": {"start": start.isoformat(), "end": (start + timedelta(weeks=weeks, days=-1)).isoformat()},
        "weekly_hours": [{"from_date": start.isoformat(), "hours_per_week": hours}],
    }
    if employees > 1:
        form["representative"] = {"name": "Mette Jensen", "email": "mette@example.dk"}
    return {**form, **changes}


def wage_subsidy(
    employer: Employer, *, public: bool = False, start: date | None = None, end: date | None = None, **changes: Any
) -> dict[str, Any]:
    """A wage-subsidy application: 12 months of steady headcount, wage costs well above twice the rate."""
    start = start or TODAY + timedelta(days=30)
    form = internship(employer, start=start, **changes)
    form.pop("purpose")
    form["scheme"] = "wage_subsidy_public" if public else "wage_subsidy_private"
    form["period"] = {"start": start.isoformat(), "end": (end or start + timedelta(days=120)).isoformat()}
    form["employer"] = {**form["employer"], "headcounts_fte": ["10.00"] * 12, "net_addition_attested": public}
    form["wage"] = {"hourly_wage_ore": 16000, "hourly_wage_costs_ore": 19500}
    return form


def assessed(
    application: dict[str, Any],
    *,
    target_group: TargetGroup = TargetGroup.KONTANTHJAELP_JOB_READY,
    eligible: bool = True,
    failed: tuple[str, ...] = (),
    max_weeks: int | None = None,
) -> CitizenAssessed:
    """Benefits' answer to an application (as the API shows it)."""
    return CitizenAssessed(
        assessment_id=uuid4(),
        citizen_ref=application["citizen_ref"],
        application_id=UUID(application["id"]),
        scheme=Scheme(application["terms"]["scheme"]),
        assessed_on=TODAY,
        target_group=target_group,
        benefit=Benefit.KONTANTHJAELP,
        unemployed_weeks=40,
        rule_results=tuple(
            RuleResult(rule=rule, passed=False, reason=f"{rule} fails", rule_set_version="test-1") for rule in failed
        ),
        eligible=eligible,
        max_duration_weeks=max_weeks,
    )


def plan_checked(application: dict[str, Any], *conflicts: ConflictKind) -> ActivationChecked:
    """Activation's answer to an application: no conflicts unless named."""
    return ActivationChecked(
        citizen_ref=application["citizen_ref"],
        application_id=UUID(application["id"]),
        conflicts=tuple(
            Conflict(
                kind=kind,
                activation_id=uuid4(),
                scheme=Scheme.WAGE_SUBSIDY_PRIVATE,
                period=Period(start=TODAY - timedelta(days=200), end=TODAY - timedelta(days=20)),
                description=f"{kind.value} in the citizen's plan",
            )
            for kind in conflicts
        ),
    )
