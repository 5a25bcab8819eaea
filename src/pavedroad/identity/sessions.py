"""Sign-in sessions of browsers: a random token in an HttpOnly cookie, its SHA-256 in the
database, a CSRF token per session, expiry, and sign-out here or everywhere."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.clock import as_utc
from pavedroad.identity.models import UserSession

SESSION_COOKIE = "pavedroad_session"
# Writing last_seen on every request would turn every page view into a write.
TOUCH_EVERY = timedelta(minutes=5)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(
    session: Session,
    *,
    user_ref: str,
    method: str,
    hours: int,
    client_ip: str | None,
    user_agent: str | None,
) -> tuple[str, UserSession]:
    """A new session (always a new token: a session from before sign-in is never reused)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = UserSession(
        id=digest(token),
        user_ref=user_ref,
        method=method,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        last_seen_at=now,
        client_ip=client_ip,
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(row)
    audit.record(
        session,
        actor=Actor(ref=user_ref),
        event="auth.signed-in",
        target=user_ref,
        resource_type="identity-session",
        details={"method": method, "ip_address": client_ip},
    )
    return token, row


def find_session(session: Session, token: str) -> UserSession | None:
    """The live session behind a cookie value; None when unknown, expired or revoked."""
    if not token or len(token) > 128:
        return None
    row = session.get(UserSession, digest(token))
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= datetime.now(UTC):
        return None
    return row


def needs_touch(row: UserSession) -> bool:
    return datetime.now(UTC) - as_utc(row.last_seen_at) >= TOUCH_EVERY


def touch_session(session: Session, session_id: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .values(last_seen_at=datetime.now(UTC))
    )


def end_session(session: Session, session_id: str, *, actor: Actor) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    audit.record(
        session,
        actor=actor,
        event="auth.signed-out",
        target=actor.ref,
        resource_type="identity-session",
    )


def end_all_sessions(session: Session, user_ref: str, *, actor: Actor) -> int:
    """Sign ``user_ref`` out everywhere; the number of sessions ended."""
    ended = session.execute(
        update(UserSession)
        .where(UserSession.user_ref == user_ref, UserSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    ).rowcount  # type: ignore[attr-defined]
    audit.record(
        session,
        actor=actor,
        event="auth.signed-out-everywhere",
        target=user_ref,
        resource_type="identity-session",
        details={"sessions": ended},
    )
    return int(ended)


def live_sessions(session: Session, user_ref: str) -> Sequence[UserSession]:
    return session.scalars(
        select(UserSession)
        .where(
            UserSession.user_ref == user_ref,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > datetime.now(UTC),
        )
        .order_by(UserSession.last_seen_at.desc())
    ).all()
