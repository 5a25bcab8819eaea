"""Moments in time as the database hands them back."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """``moment`` with its zone: SQLite drops it, and every moment pavedroad stores is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
