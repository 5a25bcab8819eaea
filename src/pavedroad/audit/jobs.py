"""Scheduled audit work: apply retention once a day."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pavedroad.audit.retention import prune_audit_log

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
DAILY = 24 * 3600


def prune_expired_events(runtime: Runtime) -> int:
    """Delete the events older than the configured retention; returns how many went."""
    days = runtime.settings.audit.retention_days
    with runtime.db.session() as session:
        deleted = prune_audit_log(session, retention_days=days)
    if deleted:
        log.info("audit retention applied", extra={"deleted": deleted, "retention_days": days})
    return deleted
