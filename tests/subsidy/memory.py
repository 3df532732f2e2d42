"""The `Applications` port in memory, for the handlers' unit tests; `applications_contract.py` holds it to what
PostgreSQL does."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from uuid import UUID

from pydantic import TypeAdapter

from jobbro import shredding
from services.subsidy.changes import CitizenPlacement
from services.subsidy.domain import PLACED_STATES, Application, Change, State
from services.subsidy.eligibility import ExistingPlacement
from services.subsidy.signing import VerifiedSignature
from services.subsidy.store import IdempotencyKey, Listed, SignedPayload, WageReport

_AGGREGATE = TypeAdapter(Application)


@dataclass
class _Row:
    document: bytes
    """The aggregate as JSON without its unsaved history, as the database keeps it."""
    version: int


class InMemoryApplications:
    """Applications in dictionaries; an aggregate is kept as JSON and read back as a new object, as rows are."""

    def __init__(self) -> None:
        self._rows: dict[UUID, _Row] = {}
        self._history: dict[UUID, list[Change]] = {}
        self._keys: dict[tuple[str, str], IdempotencyKey] = {}
        self._payloads: dict[str, SignedPayload] = {}
        self.signatures: dict[tuple[UUID, str], tuple[str, str | None]] = {}
        """(application, purpose) → the JWS and the citizen it names."""
        self._erasures: dict[str, tuple[UUID, datetime]] = {}
        self._wage_reports: dict[UUID, list[WageReport]] = {}

    async def insert(self, application: Application, traceparent: str | None = None) -> None:
        if application.id in self._rows:
            raise ValueError(f"application {application.id} exists")
        self._rows[application.id] = _Row(_dump(application), 1)
        self._history[application.id] = list(application.changes)
        application.changes.clear()

    async def save(self, application: Application) -> None:
        row = self._rows[application.id]
        row.document, row.version = _dump(application), row.version + 1
        self._history[application.id].extend(application.changes)
        application.changes.clear()

    async def get(self, application_id: UUID, *, for_update: bool = False) -> Application | None:
        row = self._rows.get(application_id)
        return None if row is None else _AGGREGATE.validate_json(row.document)

    async def version(self, application_id: UUID) -> int:
        return self._rows[application_id].version

    async def history(self, application_id: UUID) -> list[Change]:
        return list(self._history.get(application_id, []))

    async def listed(
        self,
        *,
        employer_cvr: str | None = None,
        municipality: str | None = None,
        state: State | None = None,
        limit: int = 100,
        after: tuple[datetime, UUID] | None = None,
        change_pending: bool = False,
    ) -> list[Listed]:
        found = [
            Listed(
                a.id,
                a.state,
                a.terms.scheme.value,
                a.terms.employer_cvr,
                a.terms.production_unit,
                a.terms.position_title,
                a.terms.starts_on,
                a.effective_end,
                a.submitted_at,
            )
            for a in self._all()
            if employer_cvr in (None, a.terms.employer_cvr)
            and municipality in (None, a.terms.municipality)
            and state in (None, a.state)
            and (not change_pending or a.pending_change is not None)
        ]
        found.sort(key=lambda listed: (listed.submitted_at, listed.id), reverse=True)
        if after is not None:
            found = [listed for listed in found if (listed.submitted_at, listed.id) < after]
        return found[:limit]

    async def placements_at(
        self, production_unit: str, excluding: UUID, first_day: date, last_day: date
    ) -> tuple[ExistingPlacement, ...]:
        return tuple(
            ExistingPlacement(a.terms.scheme.rule_scheme, a.terms.starts_on, a.effective_end)
            for a in self._placed(excluding, first_day, last_day)
            if a.terms.production_unit == production_unit
        )

    async def citizen_placements(
        self, citizen_ref: str, excluding: UUID, first_day: date, last_day: date
    ) -> tuple[CitizenPlacement, ...]:
        return tuple(
            CitizenPlacement(a.id, a.terms.scheme, a.terms.starts_on, a.effective_end)
            for a in self._placed(excluding, first_day, last_day)
            if a.citizen_ref == citizen_ref
        )

    async def claim_idempotency_key(
        self, employer_cvr: str, key: str, fingerprint: str, application_id: UUID
    ) -> IdempotencyKey | None:
        if (employer_cvr, key) in self._keys:
            return self._keys[(employer_cvr, key)]
        self._keys[(employer_cvr, key)] = IdempotencyKey(fingerprint, application_id)
        return None

    async def claim_signed_payload(
        self, payload_sha256: str, application_id: UUID, purpose: str
    ) -> SignedPayload | None:
        if payload_sha256 in self._payloads:
            return self._payloads[payload_sha256]
        self._payloads[payload_sha256] = SignedPayload(application_id, purpose)
        return None

    async def point_idempotency_key(self, employer_cvr: str, key: str, application_id: UUID) -> None:
        if (claimed := self._keys.get((employer_cvr, key))) is not None:
            self._keys[(employer_cvr, key)] = replace(claimed, application_id=application_id)

    async def add_signature(
        self,
        application_id: UUID,
        purpose: str,
        signature: VerifiedSignature,
        received_at: datetime,
        citizen_ref: str | None = None,
    ) -> None:
        if citizen_ref is not None and citizen_ref in self._erasures:
            raise shredding.KeyDestroyed(citizen_ref)
        self.signatures[(application_id, purpose)] = (signature.jws, citizen_ref)

    async def erase_citizen(self, erasure: shredding.Erasure) -> tuple[UUID, datetime]:
        return self._erasures.setdefault(erasure.citizen_ref, (erasure.erasure_id, datetime.now(UTC)))

    async def signature(self, application_id: UUID, purpose: str) -> str | None:
        found = self.signatures.get((application_id, purpose))
        if found is None:
            return None
        jws, named = found
        if named is not None and named in self._erasures:
            raise shredding.KeyDestroyed(named)
        return jws

    async def add_wage_report(self, application_id: UUID, report: WageReport) -> None:
        self._wage_reports.setdefault(application_id, []).append(report)

    async def wage_reports(self, application_id: UUID) -> list[WageReport]:
        reports = self._wage_reports.get(application_id, [])
        return sorted(reports, key=lambda report: (report.period_start, report.submitted_at))

    def _all(self) -> list[Application]:
        return [_AGGREGATE.validate_json(row.document) for row in self._rows.values()]

    def _placed(self, excluding: UUID, first_day: date, last_day: date) -> list[Application]:
        return [
            a
            for a in self._all()
            if a.id != excluding
            and a.state in PLACED_STATES
            and a.terms.starts_on <= last_day
            and a.effective_end >= first_day
        ]


def _dump(application: Application) -> bytes:
    return _AGGREGATE.dump_json(application, exclude={"changes"})
