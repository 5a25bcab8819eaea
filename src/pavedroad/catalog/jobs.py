"""Scheduled catalog work: read due locations again, and each provider on its own schedule."""

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


def refresh_provider(runtime: Runtime, name: str) -> None:
    """Replace one provider's entities with its current snapshot (its errors are stored)."""
    with runtime.db.session() as session:
        report = service.refresh_provider(session, runtime.catalog, name, actor=REFRESHER)
    if report.errors:
        log.warning(
            "provider refreshed with errors",
            extra={"provider": name, "errors": len(report.errors)},
        )


def provider_schedule(runtime: Runtime) -> dict[str, float]:
    """Seconds between scheduled refreshes of each provider that has a schedule.

    A provider with an ``interval_seconds`` attribute runs on that clock, others at the catalog's
    refresh interval; 0 means only on demand (``pavedroad catalog refresh --provider NAME``).
    """
    default = runtime.settings.catalog.refresh_interval_seconds
    schedule: dict[str, float] = {}
    for provider in runtime.catalog.providers:
        own = getattr(provider, "interval_seconds", None)
        interval = default if own is None else own
        if interval > 0:
            schedule[provider.name] = float(interval)
    return schedule
