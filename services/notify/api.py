"""HTTP: webhook subscriptions for integrators who cannot read Kafka. Parse, call a handler, map errors to problems.

An integrator manages its own subscriptions, for the event types its grant names; an operator may read and
reactivate any (after a receiver's outage).
"""

import secrets
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.audit import AccessAction
from jobbro import audit
from jobbro.access import requires
from jobbro.audit import Access, Caller
from jobbro.principal import Principal, Role
from jobbro.problems import code_of, problem
from jobbro.runtime import Runtime
from jobbro.uow import UnitOfWork
from services.notify import handlers
from services.notify.domain import EventTypeNotGranted, Subscription, SubscriptionRefused, UnknownSubscription

_PROBLEMS: dict[type[Exception], tuple[int, str]] = {
    UnknownSubscription: (404, "No such subscription"),
    SubscriptionRefused: (422, "Subscription refused"),
    EventTypeNotGranted: (403, "Event type not granted"),
}


class SubscriptionRequest(BaseModel):
    url: str = Field(description="Where to POST events; https unless the deployment allows http.")
    event_types: list[str] = Field(min_length=1, description="CloudEvents types to receive.")
    secret: str | None = Field(
        None, min_length=16, description="HMAC key for `Jobbro-Signature`; generated (and shown once) if omitted."
    )


class ReactivationRequest(BaseModel):
    url: str | None = Field(None, description="A corrected URL, if the old one was wrong.")


class SubscriptionView(BaseModel):
    id: UUID
    url: str
    event_types: list[str]
    status: str

    @classmethod
    def of(cls, subscription: Subscription) -> "SubscriptionView":
        return cls(
            id=subscription.id,
            url=subscription.url,
            event_types=list(subscription.event_types),
            status=subscription.status.value,
        )


class CreatedSubscription(SubscriptionView):
    secret: str = Field(description="The signing secret; it is not shown again.")


def _problem(exc: Exception) -> JSONResponse:
    status, title = _PROBLEMS[type(exc)]
    return problem(status, code_of(exc), str(exc), title)


_ONE = "/webhooks/subscriptions/{subscription_id}"


async def _audit(
    uow: UnitOfWork, principal: Principal, route: str, subscription_id: UUID, action: AccessAction
) -> None:
    """Record a subscription's read or change in the access audit: a subscription is a grant to receive events
    about citizens (their references, and sensitive fields for some integrators)."""
    access = Access(route, "integration", "webhook_subscription", action, object_ref=str(subscription_id))
    await audit.record(uow, "notify", Caller.of(principal), access)


def create_router(runtime: Runtime[handlers.Context]) -> APIRouter:
    router = APIRouter(prefix="/webhooks/subscriptions", tags=["webhooks"])
    context = runtime.context

    @router.post("", status_code=201, response_model=CreatedSubscription)
    async def subscribe(
        request: SubscriptionRequest, principal: Principal = requires(Role.INTEGRATOR)
    ) -> CreatedSubscription | JSONResponse:
        secret = request.secret or secrets.token_urlsafe(32)
        try:
            async with runtime.unit_of_work() as uow:
                subscription = await handlers.subscribe(
                    request.url, request.event_types, secret, principal, uow, context
                )
                await _audit(uow, principal, "POST /webhooks/subscriptions", subscription.id, AccessAction.CHANGE)
                await uow.commit()
        except tuple(_PROBLEMS) as exc:
            return _problem(exc)
        return CreatedSubscription(**SubscriptionView.of(subscription).model_dump(), secret=secret)

    @router.get("/{subscription_id}", response_model=SubscriptionView)
    async def read(
        subscription_id: UUID, principal: Principal = requires(Role.INTEGRATOR, Role.OPERATOR)
    ) -> SubscriptionView | JSONResponse:
        try:
            async with runtime.unit_of_work() as uow:
                subscription = await handlers.subscription(subscription_id, principal, uow)
                await _audit(uow, principal, f"GET {_ONE}", subscription_id, AccessAction.READ)
                await uow.commit()
        except tuple(_PROBLEMS) as exc:
            return _problem(exc)
        return SubscriptionView.of(subscription)

    @router.post("/{subscription_id}/reactivate", response_model=SubscriptionView)
    async def reactivate(
        subscription_id: UUID,
        request: ReactivationRequest | None = None,
        principal: Principal = requires(Role.INTEGRATOR, Role.OPERATOR),
    ) -> SubscriptionView | JSONResponse:
        url = request.url if request else None
        try:
            async with runtime.unit_of_work() as uow:
                subscription = await handlers.reactivate(subscription_id, url, principal, uow, context)
                await _audit(uow, principal, f"POST {_ONE}/reactivate", subscription_id, AccessAction.CHANGE)
                await uow.commit()
        except tuple(_PROBLEMS) as exc:
            return _problem(exc)
        return SubscriptionView.of(subscription)

    @router.delete("/{subscription_id}", status_code=204)
    async def cancel(subscription_id: UUID, principal: Principal = requires(Role.INTEGRATOR)) -> Response:
        try:
            async with runtime.unit_of_work() as uow:
                await handlers.cancel(subscription_id, principal, uow)
                await _audit(uow, principal, f"DELETE {_ONE}", subscription_id, AccessAction.CHANGE)
                await uow.commit()
        except tuple(_PROBLEMS) as exc:
            return _problem(exc)
        return Response(status_code=204)

    return router
