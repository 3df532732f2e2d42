"""HTTP: webhook subscriptions for integrators who cannot read Kafka. Parse, call a handler, map errors to problems.

An integrator manages its own subscriptions, for the event types its grant names, and reads their delivery logs; an
operator may read and reactivate any (a paused one resumes by itself too), an auditor read any delivery log.
"""

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field, field_validator

from contracts.audit import AccessAction
from jobbro import audit, pages
from jobbro.access import requires
from jobbro.audit import Access, Caller
from jobbro.principal import Principal, Role
from jobbro.problems import Problem, Translate, code_of, install_refusals
from jobbro.runtime import Runtime
from jobbro.uow import UnitOfWork
from services.notify import handlers, webhooks
from services.notify.domain import (
    EventTypeNotGranted,
    LoggedDelivery,
    Subscription,
    SubscriptionRefused,
    UnknownSubscription,
)


def _refusal(status: int, title: str) -> Translate:
    return lambda exc: Problem(status, code_of(exc), str(exc), title)


REFUSALS: Mapping[type[Exception], Translate] = {
    UnknownSubscription: _refusal(404, "No such subscription"),
    SubscriptionRefused: _refusal(422, "Subscription refused"),
    EventTypeNotGranted: _refusal(403, "Event type not granted"),
}
"""Every refusal the handlers raise, and the problem+json status and title it becomes."""


class SubscriptionRequest(BaseModel):
    url: str = Field(description="Where to POST events; https unless the deployment allows http.")
    event_types: list[str] = Field(min_length=1, description="CloudEvents types to receive.")
    secret: str | None = Field(
        None,
        description="The Standard Webhooks signing secret (`whsec_` and the base64 of 24 to 64 random bytes);"
        " generated (and shown once) if omitted.",
    )

    @field_validator("secret")
    @classmethod
    def _standard_secret(cls, secret: str | None) -> str | None:
        if secret is not None and (why := webhooks.secret_problem(secret)):
            raise ValueError(why)
        return secret


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
    secret: str = Field(description="The `whsec_` signing secret; it is not shown again.")


class DeliveryView(BaseModel):
    delivery_id: str = Field(description="The `webhook-id` of every attempt.")
    event_id: UUID
    event_type: str
    status: str = Field(
        description="pending, sent, dead (dead-lettered; probed while the subscription is failing),"
        " or failed (the subscription was cancelled first)."
    )
    attempts: int
    last_error: str | None = Field(description="Why the last attempt failed; none once sent.")
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When it is tried next; none once sent or failed.")
    sent_at: datetime | None

    @classmethod
    def of(cls, delivery: LoggedDelivery) -> "DeliveryView":
        return cls(**{name: getattr(delivery, name) for name in cls.model_fields})


def install_problems(app: FastAPI) -> None:
    """Answer every refusal of the handlers as problem+json (`create_http_app` answers the rest)."""
    install_refusals(app, REFUSALS)


_ONE = "/v1/webhooks/subscriptions/{subscription_id}"


async def _audit(
    uow: UnitOfWork, principal: Principal, route: str, subscription_id: UUID, action: AccessAction
) -> None:
    """Record a subscription's read or change in the access audit: a subscription is a grant to receive events
    about citizens (their references, and sensitive fields for some integrators)."""
    access = Access(route, "integration", "webhook_subscription", action, object_ref=str(subscription_id))
    await audit.record(uow, "notify", Caller.of(principal), access)


def create_router(runtime: Runtime[handlers.Context]) -> APIRouter:
    router = APIRouter(prefix="/v1/webhooks/subscriptions", tags=["webhooks"])
    context = runtime.context

    @router.post("", status_code=201, response_model=CreatedSubscription)
    async def subscribe(
        request: SubscriptionRequest, principal: Principal = requires(Role.INTEGRATOR)
    ) -> CreatedSubscription:
        secret = request.secret or webhooks.new_secret()
        async with runtime.unit_of_work() as uow:
            subscription = await handlers.subscribe(request.url, request.event_types, secret, principal, uow, context)
            await _audit(uow, principal, "POST /v1/webhooks/subscriptions", subscription.id, AccessAction.CHANGE)
            await uow.commit()
        return CreatedSubscription(**SubscriptionView.of(subscription).model_dump(), secret=secret)

    @router.get("", response_model=pages.Page[SubscriptionView])
    async def listing(
        request: Request,
        response: Response,
        limit: pages.Limit = pages.DEFAULT_LIMIT,
        cursor: pages.Cursor = None,
        principal: Principal = requires(Role.INTEGRATOR, Role.OPERATOR),
    ) -> pages.Page[SubscriptionView]:
        """An integrator's own subscriptions (an operator's: everyone's), by id, a page at a time (`next_cursor`,
        `Link: rel="next"`)."""
        after = pages.decode(cursor, lambda values: UUID(*values)) if cursor else None
        async with runtime.unit_of_work() as uow:
            found = await handlers.subscriptions(principal, uow, limit + 1, after)
            access = Access("GET /v1/webhooks/subscriptions", "integration", "webhook_subscriptions")
            await audit.record(uow, "notify", Caller.of(principal), access)
            await uow.commit()
        shown, next_cursor = pages.page(found, limit, lambda subscription: (str(subscription.id),))
        pages.link_next(request, response, next_cursor)
        return pages.Page(items=[SubscriptionView.of(subscription) for subscription in shown], next_cursor=next_cursor)

    @router.get("/{subscription_id}", response_model=SubscriptionView)
    async def read(
        subscription_id: UUID, principal: Principal = requires(Role.INTEGRATOR, Role.OPERATOR)
    ) -> SubscriptionView:
        async with runtime.unit_of_work() as uow:
            subscription = await handlers.subscription(subscription_id, principal, uow)
            await _audit(uow, principal, f"GET {_ONE}", subscription_id, AccessAction.READ)
            await uow.commit()
        return SubscriptionView.of(subscription)

    @router.get("/{subscription_id}/deliveries", response_model=pages.Page[DeliveryView])
    async def deliveries(
        subscription_id: UUID,
        request: Request,
        response: Response,
        cursor: pages.Cursor = None,
        limit: pages.Limit = pages.DEFAULT_LIMIT,
        principal: Principal = requires(Role.INTEGRATOR, Role.OPERATOR, Role.AUDITOR),
    ) -> pages.Page[DeliveryView]:
        """The subscription's delivery log, newest first, page by page: every delivery is on some page."""
        async with runtime.unit_of_work() as uow:
            shown, next_cursor = await handlers.delivery_log(subscription_id, cursor, limit, principal, uow)
            await _audit(uow, principal, f"GET {_ONE}/deliveries", subscription_id, AccessAction.READ)
            await uow.commit()
        pages.link_next(request, response, next_cursor)
        return pages.Page(items=[DeliveryView.of(delivery) for delivery in shown], next_cursor=next_cursor)

    @router.post("/{subscription_id}/reactivate", response_model=SubscriptionView)
    async def reactivate(
        subscription_id: UUID,
        request: ReactivationRequest | None = None,
        principal: Principal = requires(Role.INTEGRATOR, Role.OPERATOR),
    ) -> SubscriptionView:
        url = request.url if request else None
        async with runtime.unit_of_work() as uow:
            subscription = await handlers.reactivate(subscription_id, url, principal, uow, context)
            await _audit(uow, principal, f"POST {_ONE}/reactivate", subscription_id, AccessAction.CHANGE)
            await uow.commit()
        return SubscriptionView.of(subscription)

    @router.delete("/{subscription_id}", status_code=204)
    async def cancel(subscription_id: UUID, principal: Principal = requires(Role.INTEGRATOR)) -> Response:
        async with runtime.unit_of_work() as uow:
            await handlers.cancel(subscription_id, principal, uow)
            await _audit(uow, principal, f"DELETE {_ONE}", subscription_id, AccessAction.CHANGE)
            await uow.commit()
        return Response(status_code=204)

    return router
