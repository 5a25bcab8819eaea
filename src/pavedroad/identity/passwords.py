"""Password hashing for local accounts: argon2id with the library's recommended parameters."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pavedroad.core.errors import InputError

_hasher = PasswordHasher()
MIN_LENGTH = 12
# Verifying against this costs what a real verification costs, so that an unknown username
# takes as long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("pavedroad-timing-equaliser")


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InputError(
            f"The password has {len(password)} characters; use at least {MIN_LENGTH} "
            "(a few unrelated words are easy to remember and hard to guess)."
        )


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash, spend the same time and answer no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
