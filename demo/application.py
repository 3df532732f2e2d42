"""Applications as an employer's system builds and signs them, with the development PKI's certificates.

The signature is what the subsidy API documents: a compact JWS over the RFC 8785 canonical JSON of the document,
protected header `alg`, `typ`, `x5c` (signer certificate first, then its CA) and the claimed signing time `sigT`,
listed in `crit`. It is made here with joserfc directly, as any employer's system could, not with Jobbro's code.
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter

TYP = "application/jobbro-application+jws"
_REGISTRY = jws.JWSRegistry(
    header_registry={"sigT": HeaderParameter("Claimed signing time (JAdES)", "str")}, algorithms=["ES256"]
)


@dataclass(frozen=True)
class Employer:
    """A company, one of its workplaces, and an employee's signing certificate for it."""

    cvr: str
    name: str
    production_unit: str
    workplace: str
    company_employees: int
    ordinary_fte: str
    email: str | None
    key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]

    def sign(self, document: dict[str, Any]) -> str:
        """The employer's signature over `document`, as the subsidy API verifies it."""
        header = {
            "alg": "ES256",
            "typ": TYP,
            "x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii") for cert in self.chain],
            "sigT": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "crit": ["sigT"],
        }
        pem = self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        return jws.serialize_compact(header, rfc8785.dumps(document), ECKey.import_key(pem), registry=_REGISTRY)


def load_employer(pki: Path, cvr: str, **company: Any) -> Employer:
    """The employer whose certificate `jobbro up` made in `pki` (`employer-<cvr>.pem`), chained to its CA."""
    key = load_pem_private_key((pki / f"employer-{cvr}.key.pem").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"employer-{cvr}.key.pem is not an EC key")
    chain = (
        x509.load_pem_x509_certificate((pki / f"employer-{cvr}.pem").read_bytes()),
        x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes()),
    )
    return Employer(cvr=cvr, key=key, chain=chain, **company)


def internship(
    employer: Employer,
    cpr: str,
    *,
    start: date,
    weeks: int,
    municipality: str,
    position: str,
    ratio_override_remark: str | None = None,
) -> dict[str, Any]:
    """An internship (virksomhedspraktik) toward a job, 37 hours a week."""
    form = _common(employer, cpr, start, start + timedelta(weeks=weeks, days=-1), municipality, position)
    form["scheme"] = "internship"
    form["purpose"] = "toward_job"
    if ratio_override_remark:
        form["ratio_override_remark"] = ratio_override_remark
    return form


def wage_subsidy(
    employer: Employer,
    cpr: str,
    *,
    start: date,
    end: date,
    municipality: str,
    position: str,
    representative: tuple[str, str],
) -> dict[str, Any]:
    """A private wage-subsidy job: a year of steady headcount, wage costs well above twice the hourly rate."""
    form = _common(employer, cpr, start, end, municipality, position)
    form["scheme"] = "wage_subsidy_private"
    form["employer"]["headcounts_fte"] = [employer.ordinary_fte] * 12
    form["wage"] = {"hourly_wage_ore": 16000, "hourly_wage_costs_ore": 19500}
    name, email = representative
    form["representative"] = {"name": name, "email": email}
    return form


def confirmation(application_id: UUID, employer_cvr: str) -> dict[str, str]:
    """What the employer signs to give final approval (the API's `confirmation_document`)."""
    return {"statement": "final_confirmation", "application_id": str(application_id), "employer_cvr": employer_cvr}


def _common(employer: Employer, cpr: str, start: date, end: date, municipality: str, position: str) -> dict[str, Any]:
    """The parts every scheme's form has: citizen (with a consent reference), employer, period, 37 hours a week."""
    company: dict[str, Any] = {
        "cvr": employer.cvr,
        "name": employer.name,
        "production_unit": employer.production_unit,
        "workplace": employer.workplace,
        "company_employees": employer.company_employees,
        "ordinary_employees_fte": employer.ordinary_fte,
    }
    if employer.email:
        company["email"] = employer.email
    return {
        "citizen": {"cpr": cpr, "consent_reference": f"samtykke-{secrets.token_hex(4)}"},
        "employer": company,
        "municipality": municipality,
        "position_title": position,
        "tasks": f"Work alongside the staff as {position.lower()}",
        "employment_goal": f"Job som {position.lower()}",
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "weekly_hours": [{"from_date": start.isoformat(), "hours_per_week": "37.00"}],
    }
