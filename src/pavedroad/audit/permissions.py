"""The audit log's permissions beyond reading and exporting it (which the permission package
declares for every policy to name): applying retention on demand."""

from __future__ import annotations

from pavedroad.permissions import Permission, declare

APPLY_RETENTION = "audit.retention.apply"

declare(
    Permission(
        APPLY_RETENTION,
        "Delete audit events older than the retention now, possibly keeping fewer days.",
    )
)
