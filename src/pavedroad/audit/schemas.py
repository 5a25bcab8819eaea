"""How an audit event reads outside the database: the API's JSON, exports and the CLI.

Field names follow the audit queries organisations already run (``action``, ``resourceRef``,
``metadata``) rather than the column names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pavedroad.audit.models import AuditEvent

FIELDS = (
    "id",
    "at",
    "actor",
    "action",
    "resourceType",
    "resourceRef",
    "result",
    "clientIp",
    "requestId",
    "metadata",
)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; SQLite hands back the UTC wall-clock time without its zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def event_json(event: AuditEvent) -> dict[str, Any]:
    """One event as the API and exports show it, keys in :data:`FIELDS` order."""
    return {
        "id": event.id,
        "at": utc(event.at).isoformat(),
        "actor": event.actor,
        "action": event.event,
        "resourceType": event.resource_type,
        "resourceRef": event.target,
        "result": event.result,
        "clientIp": event.client_ip,
        "requestId": event.request_id,
        "metadata": event.details,
    }
