"""Local accounts for small installs: created by an operator, each tied to a User entity, with
failed sign-ins counted per account and per address so that guessing is locked out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.config import AuthSettings
from pavedroad.core.actors import Actor
from pavedroad.core.clock import as_utc
from pavedroad.core.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PavedroadError,
    TooManyRequestsError,
)
from pavedroad.identity import passwords
from pavedroad.identity.models import LocalAccount, SignInFailure

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,254}$")
WRONG_CREDENTIALS = "The username or password is wrong."
ANONYMOUS = Actor(ref="anonymous", kind="anonymous")


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise InputError(
            f'"{username}" is not a usable username: use letters, digits and . _ @ - '
            "(at most 255), starting with a letter or digit, e.g. esi.mensah"
        )
    return name


def user_ref_of(value: str) -> str:
    """A User entity ref from ``esi.mensah``, ``user:esi.mensah`` or ``user:default/esi.mensah``."""
    try:
        ref = parse_ref(value, default_kind="user")
    except RefError as error:
        raise InputError(f"{error}; give a User, e.g. user:default/esi.mensah") from None
    if ref.kind.lower() != "user":
        raise InputError(f"{value} is a {ref.kind}; a local account signs in as a User")
    return str(ref).lower()


def find_account(session: Session, username: str) -> LocalAccount | None:
    return session.scalar(
        select(LocalAccount).where(LocalAccount.username == normalise_username(username))
    )


def list_accounts(session: Session) -> Sequence[LocalAccount]:
    return session.scalars(select(LocalAccount).order_by(LocalAccount.username)).all()


def count_accounts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LocalAccount)) or 0


def create_account(
    session: Session, *, username: str, user_ref: str, password: str, actor: Actor
) -> LocalAccount:
    """A new local account; the password is stored only as an argon2 hash."""
    name = normalise_username(username)
    if find_account(session, name) is not None:
        raise ConflictError(
            f"There is already a local account called {name}; choose another username or "
            f"change its password with `pavedroad users set-password {name}`"
        )
    now = datetime.now(UTC)
    account = LocalAccount(
        username=name,
        user_ref=user_ref_of(user_ref),
        password_hash=passwords.hash_password(password),
        created_at=now,
        password_changed_at=now,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="identity.account.created",
        target=f"account:{name}",
        details={"user_ref": account.user_ref},
    )
    return account


def set_password(session: Session, username: str, password: str, *, actor: Actor) -> None:
    account = _existing(session, username)
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = datetime.now(UTC)
    account.locked_until = None
    audit.record(
        session, actor=actor, event="identity.account.password-set", target=_target(account)
    )


def unlock_account(session: Session, username: str, *, actor: Actor) -> None:
    account = _existing(session, username)
    account.locked_until = None
    session.execute(delete(SignInFailure).where(SignInFailure.username == account.username))
    audit.record(session, actor=actor, event="identity.account.unlocked", target=_target(account))


def delete_account(session: Session, username: str, *, actor: Actor) -> None:
    account = _existing(session, username)
    session.delete(account)
    audit.record(
        session,
        actor=actor,
        event="identity.account.deleted",
        target=_target(account),
        details={"user_ref": account.user_ref},
    )


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """What a password sign-in came to. Failures are recorded either way, so the caller
    commits first and then shows ``error``."""

    account: LocalAccount | None
    error: PavedroadError | None = None


def sign_in_with_password(
    session: Session, settings: AuthSettings, *, username: str, password: str, client_ip: str | None
) -> SignInOutcome:
    """Check a username and password, counting failures and locking out guessing."""
    if not settings.local_accounts:
        return SignInOutcome(None, AuthenticationError("Local accounts are turned off here."))
    now = datetime.now(UTC)
    window = now - timedelta(minutes=settings.failure_window_minutes)
    name = username.strip().lower()[:255]
    if client_ip and _failures(session, SignInFailure.client_ip == client_ip, window) >= (
        settings.max_failed_sign_ins_per_ip
    ):
        _record_failure(session, name, client_ip, None, "rate-limited", now)
        return SignInOutcome(None, TooManyRequestsError(_wait(settings, "this address")))
    account = session.scalar(select(LocalAccount).where(LocalAccount.username == name))
    # Unknown usernames are locked by their count of failures just as accounts are, so the
    # answers do not tell which accounts exist.
    recent = _failures(session, SignInFailure.username == name, window)
    if recent >= settings.max_failed_sign_ins or (account and _is_locked(account, now)):
        _record_failure(session, name, client_ip, account, "locked", now)
        return SignInOutcome(None, TooManyRequestsError(_wait(settings, "this account")))
    if not passwords.verify_password(account.password_hash if account else None, password):
        _record_failure(session, name, client_ip, account, "wrong-credentials", now)
        if recent + 1 >= settings.max_failed_sign_ins:
            _lock(session, name, account, now + timedelta(minutes=settings.lockout_minutes))
        return SignInOutcome(None, AuthenticationError(WRONG_CREDENTIALS))
    assert account is not None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.last_sign_in_at = now
    session.execute(delete(SignInFailure).where(SignInFailure.username == name))
    return SignInOutcome(account)


def _failures(session: Session, condition: ColumnElement[bool], since: datetime) -> int:
    counted = select(func.count()).select_from(SignInFailure)
    return session.scalar(counted.where(condition, SignInFailure.at >= since)) or 0


def _record_failure(
    session: Session,
    username: str,
    client_ip: str | None,
    account: LocalAccount | None,
    reason: str,
    now: datetime,
) -> None:
    # A refusal for the address does not count against the account someone tried.
    counted_name = None if reason == "rate-limited" else username
    session.add(SignInFailure(at=now, username=counted_name, client_ip=client_ip))
    audit.record(
        session,
        actor=Actor(ref=account.user_ref) if account else ANONYMOUS,
        event="auth.failed",
        target=f"account:{username}",
        resource_type="identity-account",
        result="failed",
        details={"method": "local", "reason": reason, "ip_address": client_ip},
    )


def _lock(session: Session, name: str, account: LocalAccount | None, until: datetime) -> None:
    if account is not None:
        account.locked_until = until
    audit.record(
        session,
        actor=Actor(ref=account.user_ref) if account else ANONYMOUS,
        event="auth.locked",
        target=f"account:{name}",
        resource_type="identity-account",
        result="failed",
        details={"until": until.isoformat(), "reason": "too many failed sign-ins"},
    )


def _is_locked(account: LocalAccount, now: datetime) -> bool:
    return account.locked_until is not None and as_utc(account.locked_until) > now


def _wait(settings: AuthSettings, who: str) -> str:
    return (
        f"Too many failed sign-ins from {who}. Wait {settings.lockout_minutes} minutes and try "
        "again, or ask an administrator to unlock the account (`pavedroad users unlock NAME`)."
    )


def _existing(session: Session, username: str) -> LocalAccount:
    account = find_account(session, username)
    if account is None:
        raise NotFoundError(
            f"There is no local account called {username}; `pavedroad users list` shows them"
        )
    return account


def _target(account: LocalAccount) -> str:
    return f"account:{account.username}"
