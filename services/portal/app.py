"""The portal's process: DKFDS pages over the services' APIs, the login with the identity provider, the session.

Every page but the login's own needs a signed-in session; without one the browser is sent to log in and then back.
Forms carry the session's CSRF token. The pages hold no domain data: each request reads the services' APIs with the
user's own access token (refreshed when it is about to expire) and renders what they answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
import structlog
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from jobbro import tracing
from jobbro.auth import OidcAuthenticator
from jobbro.log import configure_logging
from jobbro.metrics import Metrics
from jobbro.principal import Role, Unauthenticated
from services.portal import inbox, labels, newapplication, steps
from services.portal.i18n import DEFAULT, LANGUAGES, NAMES, Catalogs
from services.portal.oidc import LoginFailed, OidcClient, new_login
from services.portal.services import ActivationApi, ApiRefused, SubsidyApi
from services.portal.sessions import COOKIE, Session, SessionStore
from services.portal.settings import PortalSettings

log = structlog.get_logger(__name__)
HERE = Path(__file__).parent
DKFDS = HERE / "node_modules" / "dkfds" / "dist"
FORGE = HERE / "node_modules" / "node-forge" / "dist"
LANGUAGE_COOKIE = "jobbro_portal_language"
_REFRESH_BEFORE_SECONDS = 30
_MAX_REMARK = 4000
_MAX_REASON = 2000
_COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_MOMENT_FORMATS = {"da": "d. MMM y 'kl.' HH.mm", "en": "d MMM y, HH:mm"}
WAITING_FOR_CASEWORKER = inbox.WAITING_FOR_CASEWORKER
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self' http: https:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _NeedsLogin(Exception):
    """The page needs a signed-in session; the browser is sent to log in, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class _PageError(Exception):
    """A page the user sees instead of the one asked for (not found, not allowed, a service unavailable)."""

    def __init__(self, status: int, title: str, text: str) -> None:
        self.status, self.title, self.text = status, title, text


def create_app(
    settings: PortalSettings,
    *,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
    api_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The portal's ASGI app; the transports let a test answer for the provider or the services."""
    if not (DKFDS / "css" / "dkfds-virkdk.min.css").is_file() or not (FORGE / "forge.min.js").is_file():
        raise RuntimeError(
            f"DKFDS or node-forge is not installed in {HERE / 'node_modules'}: run scripts/bootstrap-node"
        )
    configure_logging(settings.service, json=settings.log_json, level=settings.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO line names the URL, the link's token with it
    catalogs = Catalogs()
    sessions = SessionStore(settings.session_idle_seconds)
    oidc = OidcClient(settings, transport=oidc_transport)
    authenticator = OidcAuthenticator(settings.oidc_issuer, settings.oidc_audience, transport=oidc_transport)
    subsidy = SubsidyApi(settings.subsidy_url, settings.http_timeout_seconds, transport=api_transport)
    activation = ActivationApi(settings.activation_url, settings.http_timeout_seconds, transport=api_transport)
    pages = _environment(catalogs)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info("portal_started", public_url=settings.public_url, issuer=settings.oidc_issuer)
        provider = tracing.configure(settings)
        yield
        if provider is not None:  # export the spans still buffered (a blocking call: off the event loop)
            await asyncio.to_thread(provider.shutdown)
        await oidc.close()
        await subsidy.close()
        await activation.close()

    app = FastAPI(title="Jobbro portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static/dkfds", StaticFiles(directory=DKFDS), name="dkfds")
    app.mount("/static/forge", StaticFiles(directory=FORGE), name="forge")
    app.mount("/static/portal", StaticFiles(directory=HERE / "static"), name="portal")

    @app.middleware("http")
    async def language_and_headers(request: Request, call_next: Any) -> Response:
        catalogs.use(request.cookies.get(LANGUAGE_COOKIE, DEFAULT))
        response: Response = await call_next(request)
        if not request.url.path.startswith(("/static/", "/health/")):
            # the path only: query strings carry the representative's link token and the login's code
            log.info("request", method=request.method, path=request.url.path, status=response.status_code)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return render_for(request, sessions.get(request.cookies.get(COOKIE)), template, status, **context)

    def render_for(
        request: Request, session: Session | None, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        common = {
            "session": session if session and session.signed_in else None,
            "csrf": session.csrf if session else "",
            "language": catalogs.language,
            "languages": LANGUAGES,
            "language_names": NAMES,
            "path": _local_path(request),
            "labels": labels,
            "waiting_for_caseworker": WAITING_FOR_CASEWORKER,
            "errors": {},
            "entered": {},
        }
        html = pages.get_template(template).render(common | context)
        return HTMLResponse(html, status_code=status)

    def set_session_cookie(response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, session.id, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")

    async def signed_in(request: Request) -> Session:
        """The request's signed-in session with an access token good for a while yet."""
        session = sessions.get(request.cookies.get(COOKIE))
        if session is None or not session.signed_in or session.tokens is None:
            raise _NeedsLogin(_local_path(request))
        if session.tokens.expires_at - time.time() < _REFRESH_BEFORE_SECONDS:
            try:
                session.tokens = await oidc.refresh(session.tokens)
            except LoginFailed:
                sessions.drop(session)
                raise _NeedsLogin(_local_path(request)) from None
        return session

    def token(session: Session) -> str:
        assert session.tokens is not None
        return session.tokens.access_token

    async def posted_by(request: Request, role: Role) -> tuple[Session, dict[str, str]]:
        """The signed-in session holding `role` that posted the request, and its form once the CSRF token is right."""
        session = await signed_in(request)
        form = await _check_csrf(request, session)
        _require(session, role)
        return session, form

    def can_sign(request: Request) -> bool:
        """Whether the signed-in user holds the employer's signing right (the pages offer signed steps only then)."""
        session = sessions.get(request.cookies.get(COOKIE))
        return bool(session and session.principal and session.principal.has(Role.EMPLOYER_SIGNER))

    async def token_of(request: Request, role: Role) -> str:
        """The access token of the request's signed-in user, who must hold `role` for the page."""
        session = await signed_in(request)
        _require(session, role)
        return token(session)

    @app.exception_handler(_NeedsLogin)
    async def to_login(_request: Request, exc: _NeedsLogin) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(_PageError)
    async def error_page(request: Request, exc: _PageError) -> Response:
        return render(request, "error.html", exc.status, title=exc.title, text=exc.text)

    @app.exception_handler(404)
    async def not_found(request: Request, _exc: Exception) -> Response:
        return render(request, "error.html", 404, **_NOT_FOUND)

    metrics = Metrics("portal")
    metrics.instrument(app)
    FastAPIInstrumentor.instrument_app(app, excluded_urls=tracing.UNTRACED)  # a page's trace reaches the services
    app.add_api_route("/metrics", metrics.route(), include_in_schema=False)

    @app.get("/health/live")
    @app.get("/health/ready")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/")
    async def home(request: Request) -> Response:
        session = await signed_in(request)
        assert session.principal is not None
        if session.principal.has(Role.EMPLOYER):
            return RedirectResponse("/applications", status_code=303)
        if session.principal.has(Role.CASEWORKER):
            return RedirectResponse("/caseworker", status_code=303)
        if session.principal.has(Role.MANAGER):
            return RedirectResponse("/dashboard", status_code=303)
        return render(request, "no_access.html", 403)

    @app.get("/login")
    async def login(request: Request, next: str = "/") -> Response:
        session = sessions.get(request.cookies.get(COOKIE)) or sessions.new()
        pending = new_login(_safe_next(next))
        sessions.remember(session, pending)
        try:
            url = await oidc.authorization_url(pending, catalogs.language)
        except LoginFailed as exc:
            log.warning("login_unavailable", error=str(exc))
            raise _PageError(503, _UNAVAILABLE["title"], _UNAVAILABLE["text"]) from None
        response = RedirectResponse(url, status_code=303)
        set_session_cookie(response, session)
        return response

    @app.get("/auth/callback")
    async def callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
        session = sessions.get(request.cookies.get(COOKIE))
        pending = session.pending.pop(state, None) if session and state else None
        if session is None or pending is None or error or not code:
            log.info("login_refused", reason="unknown_state" if pending is None else (error or "no_code"))
            return render(request, "login_failed.html", 400)
        try:
            tokens = await oidc.exchange(code, pending)
            principal = await authenticator.authenticate(tokens.access_token)
        except (LoginFailed, Unauthenticated) as exc:
            log.warning("login_failed", error=str(exc))
            return render(request, "login_failed.html", 400)
        fresh = sessions.renew(session)
        fresh.tokens, fresh.principal = tokens, principal
        log.info("logged_in", subject=principal.subject, roles=sorted(principal.roles))
        response = RedirectResponse(pending.next_path, status_code=303)
        set_session_cookie(response, fresh)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        session = sessions.get(request.cookies.get(COOKIE))
        await _check_csrf(request, session)
        assert session is not None
        after = f"{settings.public_url.rstrip('/')}/logged-out"
        url = await oidc.end_session_url(session.tokens.id_token, after) if session.tokens else None
        sessions.drop(session)
        response = RedirectResponse(url or after, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/logged-out")
    async def logged_out(request: Request) -> Response:
        return render(request, "logged_out.html")

    @app.get("/language/{language}")
    async def choose_language(language: str, next: str = "/") -> Response:
        response = RedirectResponse(_safe_next(next), status_code=303)
        if language in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
            )
        return response

    @app.get("/applications")
    async def employer_applications(request: Request) -> Response:
        found = await _read(subsidy.applications(await token_of(request, Role.EMPLOYER)))
        return render(request, "applications.html", applications=found)

    @app.get("/applications/new")
    async def new_application(request: Request) -> Response:
        """A fresh draft for the scheme asked for, then its first step."""
        session = await signed_in(request)
        _require(session, Role.EMPLOYER)
        scheme = newapplication.scheme_of(request.query_params.get("scheme", ""))
        session.draft, session.draft_errors, session.draft_key = {"scheme": scheme}, {}, str(uuid4())
        return RedirectResponse(f"/applications/new/{newapplication.STEPS[0].name}", status_code=303)

    @app.get("/applications/new/review")
    async def review_application(request: Request) -> Response:
        """Exactly what is signed, once every step is filled in; else the first step that is not."""
        session = await signed_in(request)
        _require(session, Role.EMPLOYER)
        if not session.draft:
            return RedirectResponse("/applications/new", status_code=303)
        unfinished = _unfinished(session)
        if unfinished is not None:
            return RedirectResponse(f"/applications/new/{unfinished.name}", status_code=303)
        return render(request, "review.html", **_review_context(session, {}))

    @app.get("/applications/new/{name}")
    async def application_step(request: Request, name: str) -> Response:
        """A step of the form with what the draft holds for it, and the API's refusals that concern it."""
        session = await signed_in(request)
        _require(session, Role.EMPLOYER)
        if not session.draft:
            return RedirectResponse("/applications/new", status_code=303)
        step = _form_step(name, session.draft)
        context = _step_context(session, step, session.draft_errors)
        return render(request, "new_application.html", **context, refused=bool(context["errors"]))

    @app.post("/applications/new/submit")
    async def submit_application(request: Request) -> Response:
        session, form = await posted_by(request, Role.EMPLOYER)
        if not session.draft or _unfinished(session) is not None:
            return RedirectResponse("/applications/new/review", status_code=303)
        assert session.principal is not None and session.principal.cvr is not None
        document = newapplication.document(session.draft, session.principal.cvr)
        try:
            found = await subsidy.submit(token(session), document, form.get("signature", ""), session.draft_key)
        except ApiRefused as exc:
            if exc.status != 422:
                raise _page_for(exc) from None
            if exc.code == "request_invalid":
                session.draft_errors = newapplication.field_errors(exc.errors, session.draft)
                first = newapplication.step_of(next(iter(session.draft_errors)))
                return RedirectResponse(f"/applications/new/{first.name}", status_code=303)
            return render(
                request,
                "review.html",
                422,
                **_review_context(session, {"key-file": labels.signature_refusal(exc.code)}),
            )
        session.draft, session.draft_errors, session.draft_key = {}, {}, ""
        return RedirectResponse(f"/applications/{found['id']}?submitted=1", status_code=303)

    @app.post("/applications/new/{name}")
    async def application_step_sent(request: Request, name: str) -> Response:
        """Keep what the step's form holds, then go back, or on once the step is complete."""
        session, form = await posted_by(request, Role.EMPLOYER)
        if not session.draft:
            return RedirectResponse("/applications/new", status_code=303)
        step = _form_step(name, session.draft)
        if step == newapplication.REVIEW:
            return RedirectResponse("/applications/new/review", status_code=303)
        shown = newapplication.fields_of(step, session.draft)  # a hidden field keeps what the draft has
        sent = {field.path: form.get(field.path, "").strip() for field in shown}
        if any(session.draft.get(path, "") != value for path, value in sent.items()):
            session.draft_key = str(uuid4())
        session.draft |= sent
        ids = {field.id for field in shown}
        session.draft_errors = {key: value for key, value in session.draft_errors.items() if key not in ids}
        before, after = newapplication.neighbours(step, session.draft)
        if form.get("go") == "back" and before is not None:
            return RedirectResponse(f"/applications/new/{before.name}", status_code=303)
        errors = newapplication.missing(step, session.draft)
        if errors or after is None:
            return render(request, "new_application.html", 422, **_step_context(session, step, errors))
        return RedirectResponse(f"/applications/new/{after.name}", status_code=303)

    @app.get("/applications/{application_id}")
    async def employer_application(request: Request, application_id: UUID) -> Response:
        found = await _read(subsidy.application(await token_of(request, Role.EMPLOYER), application_id))
        confirmed = request.query_params.get("confirmed") == "1"
        submitted = request.query_params.get("submitted") == "1"
        named = request.query_params.get("named") == "1"
        changed = steps.STEPS.get(request.query_params.get("changed", ""))
        context = {"application": found, "caseworker": False, "confirmed": confirmed, "submitted": submitted}
        offered = [step for step in steps.STEPS.values() if step.offered(found, can_sign(request))]
        return render(
            request,
            "application.html",
            **context,
            changed=changed,
            named=named,
            steps=offered,
            can_sign=can_sign(request),
        )

    @app.get("/applications/{application_id}/steps/{name}")
    async def employer_step_page(request: Request, application_id: UUID, name: str) -> Response:
        """The form of a later step (withdraw, end, extend, hours, wages), if the application and user allow it."""
        step = _step(name)
        found = await _read(subsidy.application(await token_of(request, Role.EMPLOYER), application_id))
        if not step.offered(found, can_sign(request)):
            return RedirectResponse(f"/applications/{application_id}", status_code=303)
        return render(
            request, "step.html", application=found, step=step, fields=step.fields_for(found["terms"]["scheme"])
        )

    @app.post("/applications/{application_id}/steps/{name}")
    async def employer_takes_step(request: Request, application_id: UUID, name: str) -> Response:
        step = _step(name)
        session, form = await posted_by(request, Role.EMPLOYER_SIGNER if step.signer else Role.EMPLOYER)
        found = await _read(subsidy.application(token(session), application_id))
        scheme = found["terms"]["scheme"]
        entered = {field.id: form.get(field.id, "").strip() for field in step.fields_for(scheme)}
        errors = steps.check(step, scheme, entered)
        if not errors:
            try:
                answer = await subsidy.change(token(session), application_id, step.route, step.body(entered))
            except ApiRefused as exc:
                if exc.status not in (409, 422):
                    raise _page_for(exc) from None
                errors = steps.refused(step, scheme, exc.code, exc.errors)
            else:  # a change referred to a caseworker is not made yet: the page says it waits
                done = "" if answer.get("pending_change") else f"?changed={step.name}"
                return RedirectResponse(f"/applications/{application_id}{done}", status_code=303)
        context = {"application": found, "step": step, "fields": step.fields_for(scheme)}
        return render(request, "step.html", 422, errors=errors, entered=entered, **context)

    @app.get("/applications/{application_id}/confirm")
    async def employer_confirm_page(request: Request, application_id: UUID) -> Response:
        """The approval mail's link: what the employer signs as final approval, and the signing in the browser."""
        found = await _read(subsidy.application(await token_of(request, Role.EMPLOYER), application_id))
        if found["state"] != "approved":
            return RedirectResponse(f"/applications/{application_id}", status_code=303)
        return render(request, "confirm.html", application=found, document=_confirmation(found))

    @app.post("/applications/{application_id}/confirm")
    async def employer_confirms(request: Request, application_id: UUID) -> Response:
        session, form = await posted_by(request, Role.EMPLOYER_SIGNER)
        try:
            await subsidy.confirm(token(session), application_id, form.get("signature", ""))
        except ApiRefused as exc:
            if exc.status not in (409, 422):
                raise _page_for(exc) from None
            found = await _read(subsidy.application(token(session), application_id))
            errors = {"key-file": labels.signature_refusal(exc.code)}
            context = {"application": found, "document": _confirmation(found), "errors": errors}
            return render(request, "confirm.html", 422, **context)
        return RedirectResponse(f"/applications/{application_id}?confirmed=1", status_code=303)

    @app.get("/applications/{application_id}/citizen")
    async def employer_names_citizen_page(request: Request, application_id: UUID) -> Response:
        """For an approved position: the citizen's CPR number and consent, then what is signed."""
        found = await _read(subsidy.application(await token_of(request, Role.EMPLOYER), application_id))
        if found["state"] != POSITION_APPROVED or not can_sign(request):
            return RedirectResponse(f"/applications/{application_id}", status_code=303)
        return render(request, "citizen.html", application=found)

    @app.post("/applications/{application_id}/citizen")
    async def employer_names_citizen(request: Request, application_id: UUID) -> Response:
        """The citizen checked, then shown for signing; once signed, sent to subsidy, which then decides the case."""
        session, form = await posted_by(request, Role.EMPLOYER_SIGNER)
        found = await _read(subsidy.application(token(session), application_id))
        entered = {"cpr": form.get("cpr", "").strip().replace("-", ""), "consent": form.get("consent", "").strip()}
        errors = _citizen_errors(entered)
        context = {"application": found, "entered": entered}
        if form.get("go") == "change":
            return render(request, "citizen.html", **context)
        if errors:
            return render(request, "citizen.html", 422, errors=errors, **context)
        document = _citizen_named(found, entered)
        if not form.get("signature"):
            return render(request, "citizen.html", document=document, **context)
        body = {"cpr": entered["cpr"], "consent_reference": entered["consent"], "signature": form["signature"]}
        try:
            await subsidy.change(token(session), application_id, "citizen", body)
        except ApiRefused as exc:
            if exc.status not in (409, 422):
                raise _page_for(exc) from None
            if exc.code == "request_invalid":
                errors = {"cpr": labels.N_("Check this field: the jobcentre cannot accept what it says.")}
                return render(request, "citizen.html", 422, errors=errors, **context)
            errors = {"key-file": labels.signature_refusal(exc.code)}
            return render(request, "citizen.html", 422, errors=errors, document=document, **context)
        return RedirectResponse(f"/applications/{application_id}?named=1", status_code=303)

    @app.get("/caseworker")
    async def caseworker_inbox(request: Request) -> Response:
        """The referred cases of the caseworker's municipality, filtered and sorted by the query string."""
        access = await token_of(request, Role.CASEWORKER)
        query = inbox.InboxQuery.of(request.query_params, labels.SCHEMES)
        found = [item for state in query.states for item in await _read(subsidy.applications(access, state))]
        if not query.state:  # a running placement's change that waits is a case to decide too
            found += await _read(subsidy.applications(access, change_pending=True))
        views = await asyncio.gather(*(_read(subsidy.application(access, item["id"])) for item in found))
        lines = [item | {"questioned": inbox.questioned(view)} for item, view in zip(found, views, strict=True)]
        shown, rules = inbox.arrange(lines, query), inbox.rules_in(lines, query.rule)
        context: dict[str, Any] = {"applications": shown, "query": query, "rules": rules, "sorts": inbox.SORTS}
        return render(request, "inbox.html", waiting=len(lines), **context)

    @app.get("/caseworker/overdue")
    async def caseworker_overdue(request: Request) -> Response:
        """The citizens of the municipality whose offer is overdue, longest overdue first."""
        found = await _read(activation.overdue(await token_of(request, Role.CASEWORKER)))
        return render(request, "overdue.html", overdue=found)

    @app.get("/caseworker/citizens/{citizen_ref}/plan")
    async def caseworker_plan(request: Request, citizen_ref: str) -> Response:
        """The citizen's plan (their offers) and whether the right and duty's deadline is met."""
        found = await _read(activation.plan(await token_of(request, Role.CASEWORKER), citizen_ref))
        back = request.query_params.get("from", "")
        back = back if re.fullmatch(r"[0-9a-f-]{36}", back) else ""
        return render(request, "plan.html", plan=found, from_application=back)

    @app.get("/caseworker/applications/{application_id}")
    async def caseworker_case(request: Request, application_id: UUID) -> Response:
        found = await _read(subsidy.application(await token_of(request, Role.CASEWORKER), application_id))
        decided = request.query_params.get("decided") == "1"
        return render(request, "application.html", application=found, caseworker=True, decided=decided)

    @app.post("/caseworker/applications/{application_id}/decision")
    async def caseworker_decides(request: Request, application_id: UUID) -> Response:
        session, form = await posted_by(request, Role.CASEWORKER)
        verdict, remark = form.get("verdict", ""), form.get("remark", "").strip()
        exception = form.get("start_exception", "").strip()
        errors = _decision_errors(verdict, remark)
        if len(exception) > _MAX_REMARK:
            errors["start_exception"] = labels.N_("The justification can be at most 4,000 characters long.")
        if not errors:
            try:
                await subsidy.decide(
                    token(session),
                    application_id,
                    approve=verdict == "approve",
                    remark=remark,
                    start_exception=exception if verdict == "approve" else "",
                    version=form.get("version", ""),
                )
            except ApiRefused as exc:
                if exc.status == 409:
                    errors["verdict-approve"] = _NO_LONGER_WAITING
                elif exc.status == 412:
                    errors["verdict-approve"] = _CHANGED_MEANWHILE
                elif exc.code in _APPROVAL_REFUSALS:
                    field, message = _APPROVAL_REFUSALS[exc.code]
                    errors[field] = message
                else:
                    raise _page_for(exc) from None
            else:
                return RedirectResponse(f"/caseworker/applications/{application_id}?decided=1", status_code=303)
        found = await _read(subsidy.application(token(session), application_id))
        entered = {"verdict": verdict, "remark": remark, "start_exception": exception}
        context = {"application": found, "caseworker": True, "errors": errors, "entered": entered}
        return render(request, "application.html", 422, **context)

    @app.get("/dashboard")
    async def manager_dashboard(request: Request) -> Response:
        session = await signed_in(request)
        _require(session, Role.MANAGER)
        assert session.principal is not None
        municipality = session.principal.municipality or ""
        found = await _read(activation.statistics(token(session), municipality))
        mine = next((m for m in found["municipalities"] if m["municipality_code"] == municipality), None)
        return render(request, "dashboard.html", window=found, numbers=mine, municipality=municipality)

    @app.get("/representative")
    async def representative(request: Request, token: str = "") -> Response:
        try:
            found = await subsidy.for_representative(token) if token else None
        except ApiRefused as exc:
            return render(request, "link_refused.html", _LINK_STATUS.get(exc.status, 404), **_link_page(exc.status))
        except httpx.HTTPError:
            raise _PageError(503, **_UNAVAILABLE) from None
        if found is None:
            return render(request, "link_refused.html", 404, **_link_page(403))
        if found["state"] not in AWAITING_REPRESENTATIVE:
            return render(request, "link_refused.html", 409, **_link_page(409))
        session = sessions.get(request.cookies.get(COOKIE)) or sessions.new()
        response = render_for(request, session, "representative.html", asked=found, link_token=token)
        set_session_cookie(response, session)
        return response

    @app.post("/representative")
    async def representative_answers(request: Request) -> Response:
        session = sessions.get(request.cookies.get(COOKIE))
        form = await _check_csrf(request, session)
        assert session is not None
        link_token, answer, reason = form.get("token", ""), form.get("answer", ""), form.get("reason", "").strip()
        errors = _representative_errors(answer, reason)
        try:
            if errors:
                found = await subsidy.for_representative(link_token)
                context = {"asked": found, "link_token": link_token, "errors": errors}
                context["entered"] = {"answer": answer, "reason": reason}
                return render_for(request, session, "representative.html", 422, **context)
            found = await subsidy.answer_as_representative(
                link_token, approve=answer == "approve", reason=reason or None
            )
        except ApiRefused as exc:
            return render(request, "link_refused.html", _LINK_STATUS.get(exc.status, 404), **_link_page(exc.status))
        except httpx.HTTPError:
            raise _PageError(503, **_UNAVAILABLE) from None
        log.info("representative_answered", application_id=found["application_id"], approve=answer == "approve")
        return render(request, "representative_done.html", asked=found, approved=answer == "approve", reason=reason)

    return app


_LINK_STATUS = {409: 409, 410: 410}
POSITION_APPROVED = "position_approved"
AWAITING_REPRESENTATIVE = ("awaiting_representative", "position_awaiting_representative")


def _link_page(status: int) -> dict[str, str]:
    """Why a representative's link leads nowhere: used, expired, or not a link Jobbro made."""
    if status == 409:
        return {
            "title": labels.N_("The link has been used"),
            "text": labels.N_("An answer has already been given through this link. It can be used only once."),
        }
    if status == 410:
        return {
            "title": labels.N_("The link has expired"),
            "text": labels.N_(
                "The deadline for answering has passed. The jobcentre's caseworker now handles the application."
            ),
        }
    return {
        "title": labels.N_("The link does not work"),
        "text": labels.N_("Check that the whole link from the mail was copied into the address field."),
    }


def _representative_errors(answer: str, reason: str) -> dict[str, str]:
    errors = {}
    if answer not in ("approve", "decline"):
        errors["answer-approve"] = labels.N_("Choose whether you approve or decline.")
    elif answer == "decline" and not reason:
        errors["reason"] = labels.N_("Write why you decline: the employer and the jobcentre are told.")
    if len(reason) > _MAX_REASON:
        errors["reason"] = labels.N_("The remark can be at most 2,000 characters long.")
    return errors


_NOT_FOUND = {
    "title": labels.N_("Page not found"),
    "text": labels.N_(
        "The page does not exist, or it is not one you may see. Check the address, or go to the front page."
    ),
}
_FORBIDDEN = {
    "title": labels.N_("Not for your role"),
    "text": labels.N_("Your login does not give access to this page."),
}
_EXPIRED = {"title": labels.N_("The form has expired"), "text": labels.N_("Reload the page and try again.")}
_NO_LONGER_WAITING = labels.N_("The case no longer waits for a decision: it may have been decided.")
_CHANGED_MEANWHILE = labels.N_(
    "The case changed after you opened it. Read it again as it is now before you register your decision."
)
_UNAVAILABLE = {
    "title": labels.N_("Try again shortly"),
    "text": labels.N_("A service the portal needs does not answer right now. Please try again in a few minutes."),
}


def _step(name: str) -> steps.Step:
    if name not in steps.STEPS:
        raise _PageError(404, **_NOT_FOUND)
    return steps.STEPS[name]


def _require(session: Session, role: Role) -> None:
    assert session.principal is not None
    if not session.principal.has(role):
        raise _PageError(403, **_FORBIDDEN)


async def _read(call: Any) -> Any:
    """A service's answer, or the page that says why there is none (another CVR's application is not found)."""
    try:
        return await call
    except ApiRefused as exc:
        raise _page_for(exc) from None
    except httpx.HTTPError as exc:
        log.warning("service_unreachable", error=type(exc).__name__)
        raise _PageError(503, **_UNAVAILABLE) from None


def _form_step(name: str, draft: dict[str, str]) -> newapplication.FormStep:
    """The form's step by name, if this draft goes through it."""
    step = newapplication.BY_NAME.get(name)
    if step is None or step not in newapplication.steps_for(draft):
        raise _PageError(404, **_NOT_FOUND)
    return step


def _unfinished(session: Session) -> newapplication.FormStep | None:
    """The first step with the API's refusal on it or something left to fill in; none when all is ready."""
    if session.draft_errors:
        return newapplication.step_of(next(iter(session.draft_errors)))
    return newapplication.first_incomplete(session.draft)


def _indicator(session: Session, current: newapplication.FormStep) -> list[dict[str, Any]]:
    """DKFDS's step indicator: each step, whether it is the current one, reachable yet, or has errors on it."""
    order = newapplication.steps_for(session.draft)
    unfinished = _unfinished(session)
    reachable = order.index(unfinished) if unfinished in order else len(order) - 1
    erring = {newapplication.step_of(field).name for field in session.draft_errors}
    return [
        {
            "step": step,
            "number": index + 1,
            "current": step == current,
            "disabled": index > reachable and step != current,
            "error": step.name in erring,
        }
        for index, step in enumerate(order)
    ]


def _step_context(session: Session, step: newapplication.FormStep, errors: dict[str, str]) -> dict[str, Any]:
    """One step of the application form: its fields for the draft, its errors only, the way back and on."""
    fields = newapplication.fields_of(step, session.draft)
    ids = {field.id for field in fields}
    before, _after = newapplication.neighbours(step, session.draft)
    return {
        "step": step,
        "fields": fields,
        "before": before,
        "indicator": _indicator(session, step),
        "form_title": newapplication.TITLES[newapplication.scheme_of(session.draft.get("scheme", ""))],
        "entered": session.draft,
        "errors": {key: value for key, value in errors.items() if key in ids},
    }


def _review_context(session: Session, errors: dict[str, str]) -> dict[str, Any]:
    """The review: every step's answers as the employer gave them, and the document they make."""
    assert session.principal is not None and session.principal.cvr is not None
    review = newapplication.REVIEW
    answers = [
        (step, newapplication.fields_of(step, session.draft)) for step in newapplication.steps_for(session.draft)[:-1]
    ]
    document = newapplication.document(session.draft, session.principal.cvr)
    return _step_context(session, review, {}) | {"answers": answers, "document": document, "errors": errors}


def _confirmation(application: dict[str, Any]) -> dict[str, str]:
    """What the employer signs as final approval: the subsidy API's `confirmation_document`."""
    cvr = application["terms"]["employer_cvr"]
    return {"statement": "final_confirmation", "application_id": str(application["id"]), "employer_cvr": cvr}


def _citizen_errors(entered: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not re.fullmatch(r"\d{10}", entered["cpr"]):
        errors["cpr"] = labels.N_("Write the CPR number as 10 digits, for example 0101901234.")
    if not entered["consent"]:
        errors["consent"] = labels.N_("Fill in this field.")
    return errors


def _citizen_named(application: dict[str, Any], entered: dict[str, str]) -> dict[str, str]:
    """What the employer signs to name the citizen of an approved position: the subsidy API's `citizen_document`."""
    return {
        "statement": "citizen_named",
        "application_id": str(application["id"]),
        "employer_cvr": application["terms"]["employer_cvr"],
        "cpr": entered["cpr"],
        "consent_reference": entered["consent"],
    }


def _page_for(exc: ApiRefused) -> _PageError:
    """Not found for what the user may not see (403 too: whether it exists is not theirs to learn), else unavailable."""
    if exc.status in (403, 404):
        return _PageError(404, **_NOT_FOUND)
    log.warning("service_refused", status=exc.status, code=exc.code)
    return _PageError(503, **_UNAVAILABLE)


async def _check_csrf(request: Request, session: Session | None) -> dict[str, str]:
    """The posted form's fields, once its CSRF token is this session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    if session is None or not isinstance(sent, str) or not secrets.compare_digest(sent, session.csrf):
        raise _PageError(403, **_EXPIRED)
    return {name: value for name, value in form.items() if isinstance(value, str)}


_APPROVAL_REFUSALS = {
    "start_before_decision": (
        "start_exception",
        labels.N_("Write the justification for approving a start before the decision."),
    ),
    "subsidy_rate_unknown": (
        "verdict-approve",
        labels.N_("The rates for the placement's start are not in place, so it cannot be approved now."),
    ),
    "change_breaks_rule": (
        "verdict-approve",
        labels.N_("The change now breaks a rule, so it cannot be approved. Reject it with your reasons."),
    ),
}
"""Subsidy's refusals of a caseworker's approval, on the field that can put them right."""


def _decision_errors(verdict: str, remark: str) -> dict[str, str]:
    """The caseworker form's field errors, as message ids, by field id."""
    errors = {}
    if verdict not in ("approve", "reject"):
        errors["verdict-approve"] = labels.N_("Choose whether to approve or reject the application.")
    if not remark:
        errors["remark"] = labels.N_("Write the reasons for the decision: they are sent to the employer.")
    elif len(remark) > _MAX_REMARK:
        errors["remark"] = labels.N_("The reasons can be at most 4,000 characters long.")
    return errors


def _local_path(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def _safe_next(next_path: str) -> str:
    """Only a path on this site (no `//host`, no scheme): the login's return cannot be sent elsewhere."""
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return "/"
    return next_path


def _environment(catalogs: Catalogs) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(catalogs.gettext, catalogs.ngettext, newstyle=True)  # type: ignore[attr-defined]

    def day(value: str | None) -> str:
        return format_date(date.fromisoformat(value[:10]), format="long", locale=catalogs.language) if value else ""

    def moment(value: str | None) -> str:
        """A time as Danes read it: in Copenhagen's time zone, `4. dec. 2026 kl. 16.23`."""
        if not value:
            return ""
        pattern = _MOMENT_FORMATS.get(catalogs.language, _MOMENT_FORMATS["en"])
        return format_datetime(datetime.fromisoformat(value), pattern, tzinfo=_COPENHAGEN, locale=catalogs.language)

    def kroner(ore: int | None) -> str:
        return format_currency(ore / 100, "DKK", locale=catalogs.language) if ore is not None else ""

    def hours(value: Any) -> str:
        return format_decimal(float(value), locale=catalogs.language)

    def scheme_name(key: str) -> str:
        return catalogs.gettext(labels.SCHEMES.get(key, key))

    def group_name(key: str | None) -> str:
        return catalogs.gettext(labels.TARGET_GROUPS.get(key, key) if key else labels.N_("Not stated"))

    def group_counts(groups: list[dict[str, Any]]) -> dict[str | None, int]:
        return {group["target_group"]: sum(group["active_by_scheme"].values()) for group in groups}

    env.filters.update(day=day, moment=moment, kroner=kroner, hours=hours)

    def choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
        return [(key, catalogs.gettext(message)) for key, message in mapping.items()]

    env.globals.update(scheme_name=scheme_name, group_name=group_name, group_counts=group_counts, choices=choices)
    env.globals.update(end_reasons=steps.END_REASONS)
    return env
