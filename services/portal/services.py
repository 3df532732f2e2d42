"""The services' HTTP APIs as the portal calls them: always with the signed-in user's own access token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from jobbro import tracing


class ApiRefused(Exception):
    """The service answered with a problem (RFC 9457); `status` and `code` pick the page the user sees."""

    def __init__(self, status: int, code: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.errors = errors or []
        """The problem's field errors (`location`, `message`), when it has them."""


def _client(base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    """A client to a service that sends the page's span as `traceparent`: a click in the portal starts the trace."""
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"), timeout=timeout, transport=transport, event_hooks={"request": [_traced]}
    )


async def _traced(request: httpx.Request) -> None:
    tracing.inject(request.headers)


class SubsidyApi:
    """The subsidy service's `/v1` routes the pages read."""

    def __init__(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = _client(base_url, timeout, transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def applications(
        self, token: str, state: str | None = None, *, change_pending: bool = False
    ) -> list[dict[str, Any]]:
        """Every application the caller may see (in `state`; or only placements whose change waits for a
        caseworker), the list's pages followed to its end."""
        params = ({"state": state} if state else {}) | ({"change_pending": "true"} if change_pending else {})
        return await _all_pages(lambda page: self._get("/v1/applications", token, page), params)

    async def application(self, token: str, application_id: UUID) -> dict[str, Any]:
        return await self._get(f"/v1/applications/{application_id}", token, {})

    async def decide(
        self,
        token: str,
        application_id: UUID,
        *,
        approve: bool,
        remark: str,
        start_exception: str = "",
        version: str = "",
    ) -> dict[str, Any]:
        """A caseworker's decision on a referred application, with the reasons told to the employer, and for a start
        before the decision the justification of that exception; made only to the `version` the caseworker was shown
        (`If-Match`), so a colleague's decision meanwhile is not overwritten unseen (412)."""
        body: dict[str, Any] = {"approve": approve, "remark": remark}
        if start_exception:
            body["start_exception"] = {"justification": start_exception}
        headers = {"Authorization": f"Bearer {token}"}
        if version.isdigit():
            headers["If-Match"] = f'"{version}"'
        response = await self._http.post(
            f"/v1/applications/{application_id}/caseworker-decision", json=body, headers=headers
        )
        if response.status_code != 200:
            raise ApiRefused(response.status_code, _code(response))
        return response.json()

    async def submit(self, token: str, application: dict[str, Any], signature: str, key: str) -> dict[str, Any]:
        """A signed application; `key` is the Idempotency-Key, so a repeated POST makes one application."""
        response = await self._http.post(
            "/v1/applications",
            json={"application": application, "signature": signature},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )
        if response.status_code not in (200, 201):
            body = _body(response)
            raise ApiRefused(response.status_code, _code(response), body.get("errors") if body else None)
        return response.json()

    async def confirm(self, token: str, application_id: UUID, signature: str) -> dict[str, Any]:
        """The employer's signed final approval of an approved application."""
        response = await self._http.post(
            f"/v1/applications/{application_id}/confirmation",
            json={"signature": signature},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 200:
            raise ApiRefused(response.status_code, _code(response))
        return response.json()

    async def change(self, token: str, application_id: UUID, route: str, body: dict[str, Any]) -> dict[str, Any]:
        """A later step on the employer's application (`withdrawal`, `end`, `extension`, `hours`, `wage-reports`)."""
        response = await self._http.post(
            f"/v1/applications/{application_id}/{route}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code not in (200, 201):
            found = _body(response)
            raise ApiRefused(response.status_code, _code(response), found.get("errors") if found else None)
        return response.json()

    async def for_representative(self, link_token: str) -> dict[str, Any]:
        """What the representative's link asks them to confirm (reading does not use the link up)."""
        response = await self._http.get("/v1/representative-approval", headers={"X-Approval-Token": link_token})
        if response.status_code != 200:
            raise ApiRefused(response.status_code, _code(response))
        return response.json()

    async def answer_as_representative(self, link_token: str, *, approve: bool, reason: str | None) -> dict[str, Any]:
        """The representative's answer through the link's token; the link works once."""
        body = {"token": link_token, "approve": approve, "reason": reason}
        response = await self._http.post("/v1/representative-approval", json=body)
        if response.status_code != 200:
            raise ApiRefused(response.status_code, _code(response))
        return response.json()

    async def _get(self, path: str, token: str, params: dict[str, str]) -> Any:
        response = await self._http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise ApiRefused(response.status_code, _code(response))
        return response.json()


async def _all_pages(
    get: Callable[[dict[str, str]], Awaitable[dict[str, Any]]],
    params: dict[str, str],
    first: dict[str, Any] | None = None,
    items: str = "items",
) -> list[dict[str, Any]]:
    """The `items` of every page of a list (from its `first` page, if read already), following `next_cursor` until
    the last page."""
    answer = first or await get(params)
    found = list(answer[items])
    while (cursor := answer["next_cursor"]) is not None:
        answer = await get({**params, "cursor": cursor})
        found.extend(answer[items])
    return found


def _body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "unreadable"
    return str(body.get("code", "unknown")) if isinstance(body, dict) else "unknown"


class ActivationApi:
    """The activation service's reads: a citizen's plan, the overdue list and the statistics of a municipality."""

    def __init__(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = _client(base_url, timeout, transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def statistics(self, token: str, municipality: str) -> dict[str, Any]:
        """Placements and timeliness of one municipality, per target group, over the last year."""
        return await self._get("/v1/statistics", token, {"municipality": municipality})

    async def plan(self, token: str, citizen_ref: str) -> dict[str, Any]:
        """The citizen's plan entries and the timeliness of their offers today (a caseworker's own municipality)."""
        return await self._get(f"/v1/citizens/{quote(citizen_ref, safe='')}/plan", token, {})

    async def overdue(self, token: str) -> dict[str, Any]:
        """The citizens of the caller's municipality without the offer due by today, longest overdue first."""
        first: dict[str, Any] = await self._get("/v1/overdue", token, {})
        rest = await _all_pages(lambda page: self._get("/v1/overdue", token, page), {}, first, items="citizens")
        return {**first, "citizens": rest, "next_cursor": None}

    async def _get(self, path: str, token: str, params: dict[str, str]) -> Any:
        response = await self._http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise ApiRefused(response.status_code, _code(response))
        return response.json()
