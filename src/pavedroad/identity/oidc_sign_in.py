"""An OIDC sign-in from the redirect to the provider to a session: the flow's secrets kept in
the database between the two requests (so any replica can finish it), single use, and the
person matched to a User entity of the catalog by a claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.models import Entity, EntitySearch
from pavedroad.config import OidcSettings
from pavedroad.core.clock import as_utc
from pavedroad.core.errors import AuthenticationError
from pavedroad.identity.accounts import ANONYMOUS
from pavedroad.identity.models import OidcSignIn
from pavedroad.identity.oidc import AuthorizationRequest

FLOW_LIFETIME = timedelta(minutes=10)


def remember_flow(session: Session, request: AuthorizationRequest, next_path: str) -> None:
    """Keep what the callback needs; flows older than their lifetime are dropped here."""
    now = datetime.now(UTC)
    session.execute(delete(OidcSignIn).where(OidcSignIn.created_at < now - FLOW_LIFETIME))
    session.add(
        OidcSignIn(
            state=request.state,
            nonce=request.nonce,
            code_verifier=request.code_verifier,
            next_path=next_path,
            created_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class PendingFlow:
    state: str
    nonce: str
    code_verifier: str
    next_path: str


def take_flow(session: Session, state: str) -> PendingFlow:
    """The flow ``state`` names, removed so it cannot be finished twice."""
    row = session.get(OidcSignIn, state[:64]) if state else None
    if row is None or as_utc(row.created_at) < datetime.now(UTC) - FLOW_LIFETIME:
        raise AuthenticationError(
            "This sign-in has expired or was already used. Start again from the sign-in page."
        )
    flow = PendingFlow(row.state, row.nonce, row.code_verifier, row.next_path)
    session.delete(row)
    return flow


def match_user(session: Session, settings: OidcSettings, claims: dict[str, Any]) -> str:
    """The User entity ref the provider's claims name; refused with the reason if none."""
    value = claims.get(settings.match_claim)
    if not isinstance(value, str) or not value.strip():
        raise AuthenticationError(
            f"The identity provider did not send the `{settings.match_claim}` claim, which "
            "names people in the catalog here. Ask an administrator to check auth.oidc.scopes "
            "and auth.oidc.match_claim."
        )
    wanted = value.strip().lower()
    if settings.match_field == "email":
        refs = session.scalars(
            select(Entity.ref)
            .join(EntitySearch, EntitySearch.entity_id == Entity.id)
            .where(
                Entity.kind_key == "user",
                EntitySearch.key == "spec.profile.email",
                EntitySearch.value == wanted,  # search values are stored lower-cased
            )
            .order_by(Entity.ref)
        ).all()
    else:
        refs = session.scalars(
            select(Entity.ref).where(Entity.kind_key == "user", Entity.name_key == wanted)
        ).all()
    if len(refs) != 1:
        problem = "no User" if not refs else f"{len(refs)} Users ({', '.join(refs[:3])})"
        raise AuthenticationError(
            f"You signed in at the identity provider as {value}, but {problem} in the catalog "
            f"{'has' if not refs else 'have'} that {_field_label(settings)}. Ask your platform "
            "team to add you to the catalog (or fix the duplicate), then sign in again."
        )
    return str(refs[0])


def record_failure(session: Session, reason: str, client_ip: str | None) -> None:
    audit.record(
        session,
        actor=ANONYMOUS,
        event="auth.failed",
        target="oidc",
        resource_type="identity-session",
        result="failed",
        details={"method": "oidc", "reason": reason, "ip_address": client_ip},
    )


def _field_label(settings: OidcSettings) -> str:
    return "email (spec.profile.email)" if settings.match_field == "email" else "name"
