"""The LDAP entity provider and its registration through the catalog's provider hook."""

from __future__ import annotations

import logging
import time
from typing import Any

from pavedroad.catalog.hooks import EntityProvider
from pavedroad.config import LdapSettings, Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.identity.ldap.directory import read_directory
from pavedroad.identity.ldap.entities import Snapshot, build_snapshot

log = logging.getLogger(__name__)


class LdapProvider:
    """Feeds the catalog every User and Group of an LDAP directory or Active Directory.

    Each :meth:`read` is a complete snapshot; the catalog replaces what the previous one gave.
    ``interval_seconds`` makes the scheduler refresh it on its own clock (0: only on demand).
    """

    name: str = "ldap"

    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings

    @property
    def interval_seconds(self) -> int:
        return self.settings.interval_seconds

    def read(self) -> list[dict[str, Any]]:
        """Bind, read all users and groups; raises :class:`LdapSyncError` if that fails."""
        started = time.perf_counter()
        directory = read_directory(self.settings)
        snapshot = build_snapshot(directory, self.settings)
        log.info(
            "LDAP directory read: %d users, %d groups",
            len(directory.users),
            len(directory.groups),
            extra={
                "provider": self.name,
                "url": self.settings.url,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        _log_left_out(snapshot)
        return snapshot.entities


def _log_left_out(snapshot: Snapshot) -> None:
    """One line per reason, with a count: a large directory must not flood the log."""
    if snapshot.unknown_members:
        log.warning(
            "LDAP sync skipped %d group members whose DNs are not among the users or groups read "
            "(outside the base DNs or the filters)",
            snapshot.unknown_members,
            extra={"provider": LdapProvider.name, "count": snapshot.unknown_members},
        )
    if snapshot.unnamed:
        log.warning(
            "LDAP sync skipped %d entries without a usable name attribute",
            snapshot.unnamed,
            extra={"provider": LdapProvider.name, "count": snapshot.unnamed},
        )
    if snapshot.duplicates:
        log.warning(
            "LDAP sync skipped %d entries whose name another entry of the same kind already has",
            snapshot.duplicates,
            extra={"provider": LdapProvider.name, "count": snapshot.duplicates},
        )


class LdapProviders:
    """Adds the LDAP provider to the catalog when ``auth.ldap.url`` is set."""

    @hookimpl
    def pavedroad_catalog_providers(self, settings: Settings) -> list[EntityProvider]:
        ldap = settings.auth.ldap
        return [LdapProvider(ldap)] if ldap.url else []
