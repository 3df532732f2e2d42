"""Sessions held server-side, in the portal's memory: the browser's cookie carries only a random id.

The tokens never reach the browser. A restart of the portal forgets every session (users log in again, which the
identity provider's own session makes a single redirect). One portal process per deployment; several would need
a shared store behind this same interface.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from jobbro.principal import Principal
from services.portal.oidc import PendingLogin, Tokens

COOKIE = "jobbro_portal_session"
_MAX_PENDING = 5
MAX_SESSIONS = 100_000
"""Anonymous sessions cost a visitor one request each: beyond this many, the longest unused are forgotten."""


@dataclass
class Session:
    id: str
    csrf: str
    used_at: float
    pending: dict[str, PendingLogin] = field(default_factory=dict)
    """Logins started from this browser and not yet returned, by their `state`."""
    tokens: Tokens | None = None
    principal: Principal | None = None
    name: str = ""
    draft: dict[str, str] = field(default_factory=dict)
    """The application being filled in, step by step: what was typed, by field path."""
    draft_errors: dict[str, str] = field(default_factory=dict)
    """The API's refusals of the draft's last submission, by field id, until their step is sent again."""
    draft_key: str = ""
    """The Idempotency-Key of the draft as it stands; a change to the draft makes a new one."""

    @property
    def signed_in(self) -> bool:
        return self.tokens is not None and self.principal is not None


class SessionStore:
    """Sessions by id; one idle for `idle_seconds` is gone."""

    def __init__(self, idle_seconds: int, max_sessions: int = MAX_SESSIONS) -> None:
        self._idle = idle_seconds
        self._max = max_sessions
        self._sessions: dict[str, Session] = {}

    def get(self, session_id: str | None) -> Session | None:
        self._forget_idle()
        session = self._sessions.get(session_id or "")
        if session is not None:
            session.used_at = time.monotonic()
        return session

    def new(self) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.monotonic())
        self._sessions[session.id] = session
        if len(self._sessions) > self._max:
            for stale in sorted(self._sessions.values(), key=lambda found: found.used_at)[: len(self._sessions) // 10]:
                del self._sessions[stale.id]
        return session

    def remember(self, session: Session, login: PendingLogin) -> None:
        session.pending[login.state] = login
        while len(session.pending) > _MAX_PENDING:
            session.pending.pop(next(iter(session.pending)))

    def renew(self, old: Session) -> Session:
        """A fresh id and CSRF token for a session that just logged in (no fixation of a known id)."""
        self.drop(old)
        return self.new()

    def drop(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def _forget_idle(self) -> None:
        cutoff = time.monotonic() - self._idle
        for session_id in [key for key, session in self._sessions.items() if session.used_at < cutoff]:
            del self._sessions[session_id]
