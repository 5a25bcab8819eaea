"""What an auditor asks for, as typed (URL, command line) and as parsed for the query.

The API, the CLI and the portal page all take a :class:`FilterInput` of strings and turn it
into an :class:`AuditFilter` with :func:`parse_filters`; a bad value raises
:class:`FilterError` naming the parameter, so each surface can answer with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pavedroad.audit.presets import PRESETS, Preset
from pavedroad.audit.service import RESULTS, is_entity_ref
from pavedroad.core.errors import InputError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
METADATA_PREFIXES = ("details.", "metadata.")
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ACTION = re.compile(r"[A-Za-z0-9_.:-]+")
_METADATA_KEY = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


class FilterError(InputError):
    """A filter value that cannot be used; ``parameter`` is its query parameter's name."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"Invalid {parameter}: {reason}", parameter=parameter)
        self.parameter = parameter
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FilterInput:
    """The filters as typed, named by their query parameters (``resourceType`` in URLs)."""

    actor: str | None = None
    action: str | None = None
    resource: str | None = None
    resource_type: str | None = None
    result: str | None = None
    since: str | None = None
    until: str | None = None
    where: tuple[str, ...] = ()
    preset: str | None = None

    def cleaned(self) -> FilterInput:
        """Blank values dropped (an empty form field means no filter)."""
        values: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "where":
                values["where"] = tuple(item.strip() for item in value if item.strip())
            else:
                values[field.name] = (value.strip() or None) if value else None
        return FilterInput(**values)

    def params(self) -> list[tuple[str, str]]:
        """Query parameters that ask for these filters again (for links and exports)."""
        pairs: list[tuple[str, str]] = []
        for field in fields(self):
            value = getattr(self, field.name)
            name = "resourceType" if field.name == "resource_type" else field.name
            if field.name == "where":
                pairs += [(name, item) for item in value]
            elif value:
                pairs.append((name, value))
        return pairs

    def as_details(self) -> dict[str, Any]:
        """The filters for an audit row's details (``audit.exported`` says what was taken)."""
        details: dict[str, Any] = {name: value for name, value in self.params() if name != "where"}
        if self.where:
            details["where"] = list(self.where)
        return details


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Parsed filters; every one given must hold. ``details`` pairs a key path with a value."""

    actor: str | None = None
    action: str | None = None
    action_prefix: str | None = None
    resource: str | None = None
    resource_type: str | None = None
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    details: tuple[tuple[tuple[str, ...], str], ...] = ()


def parse_filters(raw: FilterInput, *, now: datetime | None = None) -> AuditFilter:
    """Check and parse ``raw``, a preset's filters first, the explicit ones over them."""
    raw = apply_preset(raw.cleaned())
    now = now or datetime.now(UTC)
    action, prefix = parse_action(raw.action)
    parsed = AuditFilter(
        actor=_ref(raw.actor),
        action=action,
        action_prefix=prefix,
        resource=_ref(raw.resource),
        resource_type=raw.resource_type,
        result=parse_result(raw.result),
        since=parse_moment("since", raw.since, now),
        until=parse_moment("until", raw.until, now),
        details=tuple(parse_where(item) for item in raw.where),
    )
    if parsed.since and parsed.until and parsed.since > parsed.until:
        raise FilterError("since", f"{raw.since} is after until ({raw.until})")
    return parsed


def _ref(value: str | None) -> str | None:
    # Entity refs are stored lower-cased, as the catalog compares them.
    return value.lower() if value and is_entity_ref(value) else value


def parse_action(value: str | None) -> tuple[str | None, str | None]:
    """``deployment.trigger`` is one action; ``deployment.*`` every action under ``deployment.``."""
    if not value or value == "*":
        return None, None
    prefix = value.endswith(".*")
    name = value[:-2] if prefix else value
    if not _ACTION.fullmatch(name):
        raise FilterError(
            "action", f'"{value}" is not an action name like deployment.trigger or deployment.*'
        )
    return (None, f"{name}.") if prefix else (name, None)


def parse_result(value: str | None) -> str | None:
    if value is None or value in RESULTS:
        return value
    raise FilterError("result", f'"{value}" is not one of {", ".join(RESULTS)}')


def parse_moment(parameter: str, value: str | None, now: datetime) -> datetime | None:
    """A moment in UTC: ``7d``, ``24h``, ``30m`` (that long before ``now``) or an ISO 8601
    timestamp or date (UTC unless it says otherwise)."""
    if value is None:
        return None
    duration = _DURATION.fullmatch(value.strip().lower())
    if duration:
        amount, unit = int(duration.group(1)), _UNITS[duration.group(2)]
        try:
            return now - timedelta(**{unit: amount})
        except OverflowError:
            raise FilterError(parameter, f'"{value}" reaches too far back') from None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(
            parameter,
            f'"{value}" is neither a duration such as 7d, 24h or 30m '
            "nor a timestamp such as 2026-12-01T09:00:00Z",
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def parse_where(value: str) -> tuple[tuple[str, ...], str]:
    """``details.environment=production`` as the key path ``("environment",)`` and its value."""
    key, equals, expected = value.partition("=")
    key = key.strip()
    prefix = next((p for p in METADATA_PREFIXES if key.startswith(p)), None)
    path = key[len(prefix) :] if prefix else ""
    if not equals or prefix is None or not _METADATA_KEY.fullmatch(path):
        raise FilterError(
            "where", f'"{value}" is not a metadata condition like details.environment=production'
        )
    return tuple(path.split(".")), expected.strip()


def page_size(limit: int | None) -> int:
    """The number of events a page holds: the default, or ``limit`` within the maximum."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise FilterError("limit", f"{limit} is not between 1 and {MAX_PAGE_SIZE}")
    return limit


def apply_preset(raw: FilterInput) -> FilterInput:
    """``raw`` with its preset's filters filled in where ``raw`` gives none (conditions on
    metadata add up)."""
    if raw.preset is None:
        return raw
    preset = preset_named(raw.preset)
    return replace(
        raw,
        action=raw.action or preset.action,
        since=raw.since or preset.since,
        where=(*preset.where, *raw.where),
    )


def preset_named(name: str) -> Preset:
    preset = PRESETS.get(name)
    if preset is None:
        raise FilterError("preset", f'"{name}" is not one of {", ".join(PRESETS)}')
    return preset
