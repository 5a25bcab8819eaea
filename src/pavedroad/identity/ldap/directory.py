"""Reading people and groups from an LDAP server or Active Directory with ldap3.

One read is a simple bind (after StartTLS when configured) and one paged search each for users
and groups, so directories far larger than the server's size limit are read whole. Every failure
becomes an :class:`LdapSyncError` that says what failed, where and how to fix it.
"""

from __future__ import annotations

import math
import ssl
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import ldap3
from ldap3.core import exceptions as ldap_errors

from pavedroad.config import LdapSettings
from pavedroad.core.errors import ServiceUnavailableError

# OpenLDAP and most servers have entryUUID; Active Directory has the binary objectGUID.
UUID_ATTRIBUTES = ("entryUUID", "objectGUID")


class LdapSyncError(ServiceUnavailableError):
    """The directory could not be read; the message says what failed, where and how to fix it."""

    name = "LdapSyncError"


@dataclass(frozen=True, slots=True)
class LdapEntry:
    """One entry as the server sent it: its DN and raw values by lower-cased attribute name."""

    dn: str
    attributes: dict[str, list[bytes]]

    def texts(self, attribute: str) -> list[str]:
        return [value.decode("utf-8", "replace") for value in self._values(attribute)]

    def text(self, attribute: str) -> str | None:
        """The first value of ``attribute`` as text; ``None`` when missing or blank."""
        values = self.texts(attribute)
        first = values[0].strip() if values else ""
        return first or None

    def uuid(self) -> str | None:
        """The server's stable id of the entry (it survives renames), as a UUID string."""
        entry_uuid = self.text("entryUUID")
        if entry_uuid:
            return entry_uuid
        guid = self._values("objectGUID")
        if guid and len(guid[0]) == 16:  # AD sends the GUID's 16 bytes, little-endian
            return str(uuid.UUID(bytes_le=guid[0]))
        return None

    def _values(self, attribute: str) -> list[bytes]:
        return self.attributes.get(attribute.lower(), [])


@dataclass(frozen=True, slots=True)
class Directory:
    """Everything one read found: the users and the groups, in the server's order."""

    users: list[LdapEntry]
    groups: list[LdapEntry]


def read_directory(settings: LdapSettings) -> Directory:
    """Bind and read every user and group the settings describe; raises :class:`LdapSyncError`."""
    if not settings.users_base_dn:
        raise LdapSyncError(
            "auth.ldap.users_base_dn is empty: set it to the DN under which people are, "
            "e.g. ou=people,dc=example,dc=com"
        )
    with _bound_connection(settings) as connection:
        users = _search(
            connection,
            settings,
            _Search("users", settings.users_base_dn, settings.users_filter),
            _user_attributes(settings),
        )
        groups = (
            _search(
                connection,
                settings,
                _Search("groups", settings.groups_base_dn, settings.groups_filter),
                _group_attributes(settings),
            )
            if settings.groups_base_dn
            else []
        )
    return Directory(users, groups)


@dataclass(frozen=True, slots=True)
class _Search:
    """One subtree search: ``kind`` names its settings (``auth.ldap.<kind>_base_dn``)."""

    kind: str
    base: str
    filter: str


def _user_attributes(settings: LdapSettings) -> list[str]:
    return _unique(
        settings.user_name_attribute,
        settings.user_display_name_attribute,
        settings.user_email_attribute,
    )


def _group_attributes(settings: LdapSettings) -> list[str]:
    return _unique(
        settings.group_name_attribute,
        settings.group_display_name_attribute,
        settings.group_description_attribute,
        settings.group_member_attribute,
    )


def _unique(*names: str) -> list[str]:
    chosen = {name.lower(): name for name in (*names, *UUID_ATTRIBUTES) if name}
    return list(chosen.values())


@contextmanager
def _bound_connection(settings: LdapSettings) -> Iterator[Any]:
    """A read-only connection, bound as ``bind_dn`` (anonymous when empty), closed at the end."""
    where = settings.url
    connecting = f"connecting to the LDAP server {where}"
    with _failure(
        settings,
        connecting,
        _unreachable(settings),
        specific={ldap_errors.LDAPSSLConfigurationError: CA_FILE_FIX},
    ):
        connection = _connection(settings)
    try:
        with _failure(settings, connecting, _unreachable(settings)):
            connection.open()
        if settings.start_tls:
            with _failure(settings, f"StartTLS with {where}", TLS_FIX, network_fix=TLS_FIX):
                connection.start_tls()
        with _failure(
            settings,
            f"binding to {where} as {settings.bind_dn or 'anonymous'}",
            "check auth.ldap.bind_dn and auth.ldap.bind_password",
        ):
            connection.bind()
        yield connection
    finally:
        _close(connection)


def _connection(settings: LdapSettings) -> Any:
    server = ldap3.Server(
        settings.url,
        connect_timeout=settings.timeout_seconds,
        get_info=ldap3.NONE,
        tls=_tls(settings),
    )
    return ldap3.Connection(
        server,
        user=settings.bind_dn or None,
        password=settings.bind_password.get_secret_value() or None,
        read_only=True,
        raise_exceptions=True,  # without it a missing base DN reads as an empty directory
        auto_referrals=False,
        receive_timeout=math.ceil(settings.timeout_seconds),  # ldap3 wants whole seconds
    )


def _close(connection: Any) -> None:
    # A failed unbind must not hide why the read failed; and ldap3 leaves the socket of a failed
    # connect open, so close it as well.
    with suppress(Exception):
        connection.unbind()
    with suppress(Exception):
        if connection.socket is not None:
            connection.socket.close()


CA_FILE_FIX = "check that auth.ldap.ca_file is a readable file of PEM certificates"
TLS_FIX = (
    "check that the server's certificate names this host and is signed by auth.ldap.ca_file "
    "(or a system CA), or turn auth.ldap.start_tls off"
)


def _tls(settings: LdapSettings) -> ldap3.Tls:
    # ldap3 does not verify certificates unless told to; an unverified directory could feed
    # anyone into the catalog.
    ca_file = str(settings.ca_file) if settings.ca_file else None
    return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)


def _unreachable(settings: LdapSettings) -> str:
    fix = (
        f"check auth.ldap.url and that the server answers from here within "
        f"{settings.timeout_seconds:g} s (auth.ldap.timeout_seconds)"
    )
    if settings.url.lower().startswith("ldaps:"):
        fix += (
            "; for ldaps:// also that its certificate is signed by auth.ldap.ca_file or a system CA"
        )
    return fix


def _search(
    connection: Any, settings: LdapSettings, search: _Search, attributes: list[str]
) -> list[LdapEntry]:
    kind = search.kind
    with _failure(
        settings,
        f"searching {kind} under {search.base} on {settings.url}",
        f"check that auth.ldap.bind_dn may read under auth.ldap.{kind}_base_dn",
        specific={
            ldap_errors.LDAPNoSuchObjectResult: (
                f"the base DN does not exist or auth.ldap.bind_dn may not see it; "
                f"check auth.ldap.{kind}_base_dn"
            ),
            ldap_errors.LDAPInvalidFilterError: f"check auth.ldap.{kind}_filter",
        },
    ):
        results = connection.extend.standard.paged_search(
            search.base,
            search.filter,
            search_scope=ldap3.SUBTREE,
            attributes=attributes,
            paged_size=settings.page_size,
            generator=True,
        )
        return [_entry(result) for result in results if result.get("type") == "searchResEntry"]


def _entry(result: dict[str, Any]) -> LdapEntry:
    raw: dict[str, list[bytes]] = result["raw_attributes"]
    return LdapEntry(str(result["dn"]), {name.lower(): list(raw[name]) for name in raw})


@contextmanager
def _failure(
    settings: LdapSettings,
    what: str,
    fix: str,
    *,
    specific: Mapping[type[Exception], str] | None = None,
    network_fix: str | None = None,
) -> Iterator[None]:
    """Turn any error inside the block into "<what> failed: <why>; <how to fix it>".

    ``specific`` fixes win; then a network failure gets ``network_fix`` (default: check the URL
    and the timeout), an answer that is not LDAP a hint at the URL, anything else ``fix``.
    """
    try:
        yield
    except Exception as error:  # ldap3 raises KeyError and the like on answers that are not LDAP
        chosen = next(
            (text for kind, text in (specific or {}).items() if isinstance(error, kind)), None
        )
        if chosen is None and isinstance(error, ldap_errors.LDAPCommunicationError | OSError):
            chosen = network_fix or _unreachable(settings)
        if chosen is None and not isinstance(error, ldap_errors.LDAPException):
            chosen = "check that auth.ldap.url names an LDAP server (ldap:// or ldaps://, port)"
        raise LdapSyncError(f"{what} failed: {_reason(error)}; {chosen or fix}") from error


def _reason(error: Exception) -> str:
    if isinstance(error, ldap_errors.LDAPOperationResult):
        # The result code's name ("invalidCredentials", "noSuchObject") plus the server's text.
        message = (error.message or "").strip()
        return f"{error.description}{f' ({message})' if message else ''}"
    if isinstance(error, ldap_errors.LDAPException | OSError):
        parts: tuple[Any, ...] = error.args
        while len(parts) == 1 and isinstance(parts[0], tuple):  # ldap3 nests the TLS errors
            parts = parts[0]
        return " ".join(str(part) for part in parts) or type(error).__name__
    return f"the answer is not LDAP ({type(error).__name__}: {error})"
