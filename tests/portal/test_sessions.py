"""Server-side sessions: forgotten when idle, capped in number, a fresh id after login."""

from __future__ import annotations

import time

from services.portal.sessions import SessionStore


def test_past_the_cap_the_longest_unused_sessions_are_forgotten() -> None:
    store = SessionStore(idle_seconds=3600, max_sessions=20)
    first = store.new()
    made = [store.new() for _ in range(25)]
    assert store.get(first.id) is None, "the oldest went first"
    assert store.get(made[-1].id) is made[-1]


def test_an_idle_session_is_forgotten() -> None:
    store = SessionStore(idle_seconds=1)
    session = store.new()
    session.used_at = time.monotonic() - 5
    assert store.get(session.id) is None


def test_logging_in_gives_a_new_id_and_csrf_token() -> None:
    store = SessionStore(idle_seconds=3600)
    before = store.new()
    after = store.renew(before)
    assert after.id != before.id and after.csrf != before.csrf
    assert store.get(before.id) is None
