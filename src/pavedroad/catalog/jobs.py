"""Scheduled catalog work: read due locations and providers again."""

from __future__ import annotations

import logging

from pavedroad.catalog import service
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
REFRESHER = Actor.system("catalog-refresh")


def refresh_due_locations(runtime: Runtime) -> int:
    """Refresh every location whose turn has come; returns how many were read."""
    with runtime.db.session() as session:
        refreshed = service.refresh_due_locations(session, runtime.catalog, actor=REFRESHER)
    for item in refreshed:
        if item.report.errors:
            log.warning(
                "location refreshed with errors",
                extra={"location": item.location.target, "errors": len(item.report.errors)},
            )
    return len(refreshed)


def refresh_providers(runtime: Runtime) -> None:
    for provider in runtime.catalog.providers:
        with runtime.db.session() as session:
            service.refresh_provider(session, runtime.catalog, provider.name, actor=REFRESHER)
