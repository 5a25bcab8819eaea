"""API tokens for the CLI and automation: random, shown once, stored as a SHA-256 hash, scoped
to permissions, with an expiry and revocation.

A token reads ``prt_<id8>_<secret>``: the prefix makes leaked tokens easy to find with secret
scanners, and ``id8`` lets lists show which token is which without the secret.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.clock import as_utc
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.identity.models import ApiToken
from pavedroad.identity.sessions import digest

TOKEN_PREFIX = "prt_"
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SCOPE = re.compile(r"^[a-z*][a-z0-9.*-]*$")
MAX_DAYS = 366
LAST_USED_EVERY = timedelta(minutes=5)


def create_token(
    session: Session,
    *,
    name: str,
    owner_ref: str,
    kind: str = "personal",
    scopes: Sequence[str] = ("*",),
    expires_in_days: int | None = 90,
    actor: Actor,
) -> tuple[str, ApiToken]:
    """A new token and its secret, which is not stored and cannot be shown again."""
    if kind not in ("personal", "service"):
        raise InputError(f'Token kind "{kind}" is unknown; use personal or service')
    label = name.strip()
    if not label or len(label) > 128:
        raise InputError("Give the token a name of 1 to 128 characters, e.g. ci-deploys")
    token_id = str(uuid.uuid4())
    secret = f"{TOKEN_PREFIX}{token_id[:8]}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    row = ApiToken(
        id=token_id,
        name=label,
        kind=kind,
        owner_ref=owner_ref if kind == "personal" else service_ref(owner_ref),
        prefix=secret[: len(TOKEN_PREFIX) + 8],
        secret_hash=digest(secret),
        scopes=_checked_scopes(scopes),
        created_at=now,
        created_by=actor.ref,
        expires_at=_expiry(now, expires_in_days),
    )
    session.add(row)
    audit.record(
        session,
        actor=actor,
        event="identity.token.created",
        target=f"token:{token_id}",
        details={"name": label, "kind": kind, "owner": row.owner_ref, "scopes": row.scopes},
    )
    return secret, row


def service_ref(name: str) -> str:
    bare = name.removeprefix("service:")
    if not SERVICE_NAME.match(bare):
        raise InputError(
            f'"{name}" is not a service name: use lower-case letters, digits and dashes, '
            "e.g. ci-deployer"
        )
    return f"service:{bare}"


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The live token for ``secret``; None when unknown, expired or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.secret_hash == digest(secret)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and as_utc(row.expires_at) <= datetime.now(UTC):
        return None
    return row


def needs_note(row: ApiToken) -> bool:
    """Whether the token's last use is old enough to write again (not on every request)."""
    last = row.last_used_at
    return last is None or datetime.now(UTC) - as_utc(last) >= LAST_USED_EVERY


def note_use_by_id(session: Session, token_id: str) -> None:
    session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=datetime.now(UTC))
    )


def revoke_token(session: Session, token_id: str, *, actor: Actor) -> ApiToken:
    row = get_token(session, token_id)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        audit.record(
            session,
            actor=actor,
            event="identity.token.revoked",
            target=f"token:{row.id}",
            details={"name": row.name, "owner": row.owner_ref},
        )
    return row


def get_token(session: Session, token_id: str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError(f"There is no token {token_id}; `pavedroad tokens list` shows them")
    return row


def list_tokens(
    session: Session, *, owner_ref: str | None = None, include_ended: bool = False
) -> Sequence[ApiToken]:
    statement = select(ApiToken).order_by(ApiToken.created_at.desc())
    if owner_ref is not None:
        statement = statement.where(ApiToken.owner_ref == owner_ref)
    if not include_ended:
        statement = statement.where(
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > datetime.now(UTC)),
        )
    return session.scalars(statement).all()


def _checked_scopes(scopes: Sequence[str]) -> list[str]:
    cleaned = sorted({scope.strip() for scope in scopes if scope.strip()})
    if not cleaned:
        raise InputError('A token needs at least one scope, e.g. "catalog.*" or "*" for all')
    for scope in cleaned:
        if not SCOPE.match(scope):
            raise InputError(
                f'"{scope}" is not a scope: use a permission name or a pattern such as '
                "catalog.entity.read, catalog.* or *"
            )
    return cleaned


def _expiry(now: datetime, days: int | None) -> datetime | None:
    if days is None:
        return None
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"A token lasts 1 to {MAX_DAYS} days; {days} is outside that")
    return now + timedelta(days=days)
