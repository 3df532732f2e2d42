"""HTTP: the registry import and reissuing for operators; for operators and auditors the ledger's monthly
reconciliation, each payment instruction with its calculation, and a placement's wage reports."""

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from contracts.audit import AccessAction, AccessOutcome
from contracts.common import Cpr
from jobbro import audit
from jobbro.access import requires
from jobbro.audit import Access, Caller
from jobbro.http_limits import streamed_body, too_large
from jobbro.principal import Principal, Role
from jobbro.problems import Problem, Translate, code_of, install_refusals
from jobbro.runtime import Runtime
from jobbro.uow import UnitOfWork
from services.benefits import handlers, store
from services.benefits.domain import NotReissuable, UnknownInstruction, UnknownPlacement
from services.benefits.handlers import Context
from services.benefits.registry import ImportFormat, ImportRejected, ImportTooLarge
from services.benefits.rules import Month
from services.benefits.settings import BenefitsSettings

_FORMATS = {
    "text/csv": ImportFormat.CSV,
    "application/x-ndjson": ImportFormat.JSONL,
    "application/jsonl": ImportFormat.JSONL,
    "application/json": ImportFormat.JSON,
}


class ErasureRequest(BaseModel):
    """An operator's request to erase a citizen's personal data kept by benefits, and why."""

    model_config = ConfigDict(extra="forbid")

    cpr: Cpr = Field(description="The citizen's CPR number (10 digits); it is not kept.")
    reason: str = Field(
        min_length=10,
        max_length=1000,
        description="Why, with its basis (e.g. the citizen's request under GDPR art. 17 and its case number); kept.",
    )


def create_router(runtime: Runtime[Context]) -> APIRouter:
    """The endpoints, bound to the runtime's database and the service's context."""
    api = APIRouter()
    ctx, settings = runtime.context, runtime.settings
    assert isinstance(settings, BenefitsSettings)

    @api.post("/v1/admin/citizens/import", tags=["registry"])
    @streamed_body(settings.import_max_bytes, settings.import_timeout_seconds)
    async def import_citizens(request: Request, principal: Principal = requires(Role.OPERATOR)) -> Any:
        """Import citizens from CSV (`text/csv`) or JSON Lines (`application/x-ndjson`), streamed up to
        `BENEFITS_IMPORT_MAX_BYTES`, or a JSON array (`application/json`) up to `BENEFITS_IMPORT_JSON_MAX_BYTES`:
        all rows, or none."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in _FORMATS:
            raise Problem(415, "unsupported_format", f"Send one of {sorted(_FORMATS)}, not {media_type[:64]!r}.")
        fmt, declared = _FORMATS[media_type], request.headers.get("content-length", "")
        if fmt is ImportFormat.JSON and declared.isdigit() and int(declared) > settings.import_json_max_bytes:
            return too_large(settings.import_json_max_bytes)
        try:
            async with runtime.unit_of_work() as uow:
                done = await handlers.import_file(
                    request.stream(),
                    fmt,
                    f"operator:{principal.subject}",
                    uow,
                    ctx,
                    max_json_bytes=settings.import_json_max_bytes,
                )
                await _audit(uow, principal, _IMPORT, object_ref=str(done.import_id))
                await uow.commit()
        except ImportTooLarge as exc:
            return too_large(exc.max_bytes)
        return {"import_id": str(done.import_id), "imported": done.citizens}

    @api.get("/v1/ledger/reconciliation/{month}", tags=["ledger"])
    async def reconciliation(month: str, _: Principal = requires(Role.OPERATOR, Role.AUDITOR)) -> Any:
        """A month's payment instructions per purpose: øre issued, settled, failed and still outstanding."""
        try:
            parsed = Month.parse(month)
        except ValueError as exc:
            raise Problem(422, code_of(exc), str(exc), "Invalid request") from exc
        async with runtime.pool.acquire() as conn:
            totals = await store.reconciliation(conn, parsed)
            recoverable = await store.recoverable_ore(conn)
        purposes = [asdict(t) for t in totals]
        fields = ("instructions", "issued_ore", "settled_ore", "failed_ore", "outstanding_ore")
        return {
            "month": str(parsed),
            "purposes": purposes,
            "total": {field: sum(p[field] for p in purposes) for field in fields},
            "recoverable_ore": recoverable,
        }

    @api.get("/v1/ledger/payment-instructions/{instruction_id}", tags=["ledger"])
    async def payment_instruction(
        instruction_id: UUID, principal: Principal = requires(Role.OPERATOR, Role.AUDITOR)
    ) -> Any:
        """A payment instruction, its state, and how it was worked out: for a wage subsidy the rate, the hours, the
        rule versions and the arithmetic (`calculation`, as on its event); null for a benefit payment. Recorded in
        the access audit (a citizen's payment is their personal data) before it is answered."""
        async with runtime.unit_of_work() as uow:
            row = await store.instruction(uow.conn, instruction_id)
            citizens = (row["citizen_ref"],) if row is not None and row["citizen_ref"] else ()
            outcome = AccessOutcome.GRANTED if row is not None else AccessOutcome.NOT_FOUND
            what = {"object_ref": str(instruction_id), "citizen_refs": citizens, "outcome": outcome}
            await _audit(uow, principal, _INSTRUCTION, **what)
            await uow.commit()
        if row is None:
            raise UnknownInstruction(f"no payment instruction {instruction_id} was issued")
        found = dict(row)
        period = {"start": found.pop("period_start"), "end": found.pop("period_end")}
        return jsonable_encoder({**found, "month": f"{found['month']:%Y-%m}", "period": period})

    @api.get("/v1/ledger/placements/{application_id}/wage-reports", tags=["ledger"])
    async def wage_reports(application_id: UUID, principal: Principal = requires(Role.OPERATOR, Role.AUDITOR)) -> Any:
        """A placement's wage reports, oldest first: each with its calculation and the instructions that paid it.
        Recorded in the access audit (the citizen's wage) before it is answered."""
        async with runtime.unit_of_work() as uow:
            citizen = await store.placement_citizen(uow.conn, application_id)
            outcome = AccessOutcome.GRANTED if citizen is not None else AccessOutcome.NOT_FOUND
            what = {
                "object_ref": str(application_id),
                "citizen_refs": (citizen,) if citizen else (),
                "outcome": outcome,
            }
            await _audit(uow, principal, _WAGE_REPORTS, **what)
            await uow.commit()
            if citizen is None:
                raise UnknownPlacement(f"placement {application_id} was never confirmed")
            rows = await store.wage_reports(uow.conn, application_id)
        return jsonable_encoder(
            [{**row, "month": f"{row['month']:%Y-%m}", "paid_hours": str(row["paid_hours"])} for row in map(dict, rows)]
        )

    @api.post("/v1/admin/payment-instructions/{instruction_id}/reissue", status_code=201, tags=["ledger"])
    async def reissue(instruction_id: UUID, principal: Principal = requires(Role.OPERATOR)) -> Any:
        """Issue a failed payment instruction again, under a new idempotency key (to a citizen: their CPR number
        opened for it, so the change is recorded in the access audit)."""
        async with runtime.unit_of_work() as uow:
            replacement = await handlers.reissue(instruction_id, uow, ctx)
            citizens = (replacement.citizen_ref,) if replacement.citizen_ref else ()
            await _audit(uow, principal, _REISSUE, object_ref=str(instruction_id), citizen_refs=citizens)
            await uow.commit()
        return {"instruction_id": str(replacement.instruction_id), "idempotency_key": replacement.idempotency_key}

    @api.post("/v1/admin/erasures", status_code=201, tags=["registry"])
    async def erase_citizen(body: ErasureRequest, principal: Principal = requires(Role.OPERATOR)) -> Any:
        """Erase a citizen's CPR number in the registry by destroying their data key, with the reason; they are
        paid no more, and their placements and ledger stay under `citizen_ref`."""
        async with runtime.unit_of_work() as uow:
            erased = await handlers.erase_citizen(body.cpr, body.reason, principal.subject, uow, ctx)
            ref = erased.citizen_ref
            await _audit(uow, principal, _ERASURE, object_ref=ref, citizen_refs=(ref,))
            await uow.commit()
        return {
            "erasure_id": str(erased.erasure_id),
            "citizen_ref": erased.citizen_ref,
            "erased_at": erased.erased_at.isoformat(),
        }

    return api


_IMPORT = Access("POST /v1/admin/citizens/import", "citizen_registry", "citizen_import", AccessAction.CHANGE)
"""An import changes the registry; its citizens are found by the import id the registry keeps with each."""
_INSTRUCTION = Access("GET /v1/ledger/payment-instructions/{instruction_id}", "payment_control", "payment_instruction")
_WAGE_REPORTS = Access("GET /v1/ledger/placements/{application_id}/wage-reports", "payment_control", "wage_reports")
_ERASURE = Access("POST /v1/admin/erasures", "erasure", "citizen", AccessAction.CHANGE)
"""An operator's erasure, recorded with it by the citizen's reference (the CPR number is in neither)."""
_REISSUE = Access(
    "POST /v1/admin/payment-instructions/{instruction_id}/reissue",
    "payment",
    "payment_instruction",
    AccessAction.CHANGE,
)


async def _audit(uow: UnitOfWork, principal: Principal, access: Access, **what: Any) -> None:
    """Record a change of citizens' data in the transaction that makes it."""
    await audit.record(uow, "benefits", Caller.of(principal), replace(access, **what))


def _refusal(status: int, title: str) -> Translate:
    return lambda exc: Problem(status, code_of(exc), str(exc), title)


def _import_rejected(exc: Exception) -> Problem:
    assert isinstance(exc, ImportRejected)
    rejected = [asdict(rejection) for rejection in exc.rejections]
    return Problem(422, code_of(exc), str(exc), "The import was rejected; nothing was imported", rejected=rejected)


REFUSALS: Mapping[type[Exception], Translate] = {
    ImportRejected: _import_rejected,
    UnknownInstruction: _refusal(404, "No such payment instruction"),
    UnknownPlacement: _refusal(404, "No such placement"),
    NotReissuable: _refusal(409, "Only a failed instruction can be reissued"),
}
"""Every refusal the handlers raise, and the problem+json status and title it becomes."""


def install_problems(app: FastAPI) -> None:
    """Answer every refusal of the handlers as problem+json (`create_http_app` answers the rest)."""
    install_refusals(app, REFUSALS)
