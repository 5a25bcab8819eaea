"""Whether a version falls in an OSV record's affected ranges, and what fixes it.

OSV's rule: within one range, events are read in version order; ``introduced`` starts an
affected interval, ``fixed`` ends it before that version, ``last_affected`` ends it after
that version; ``limit`` events bound the whole range from above. Explicit ``versions`` lists
are affected too. ``GIT`` ranges name commits, not versions, so they never match a version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pavedroad.security.advisories.versions import VersionError, parse_version

VERSION_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


class RangeError(ValueError):
    """A range that cannot be evaluated: an unknown event, or a version the ecosystem cannot
    read. Raised when a record is imported, so a stored range always evaluates."""


@dataclass(frozen=True, slots=True)
class Verdict:
    affected: bool
    fixed: str | None = None  # the version that ends the affected interval, if any


NOT_AFFECTED = Verdict(False)


def check_ranges(ecosystem: str, ranges: Sequence[Mapping[str, Any]]) -> None:
    """Raise RangeError when any range of ``ranges`` is malformed for ``ecosystem``."""
    for number, range_ in enumerate(ranges):
        try:
            check_range(ecosystem, range_)
        except RangeError as error:
            raise RangeError(f"ranges[{number}] {error}") from None


def check_range(ecosystem: str, range_: Mapping[str, Any]) -> None:
    """Raise RangeError when one range's events are malformed for ``ecosystem``."""
    events = range_.get("events")
    if not isinstance(events, list) or not events:
        raise RangeError("has no events")
    for event in events:
        kind, value = _event(event)
        if range_.get("type") in VERSION_RANGE_TYPES and not (
            kind == "introduced" and value == "0"
        ):
            try:
                parse_version(ecosystem, value)
            except VersionError as error:
                raise RangeError(f"{kind}: {error}") from None


def evaluate(
    ecosystem: str,
    version: str,
    ranges: Sequence[Mapping[str, Any]],
    versions: Sequence[str] = (),
) -> Verdict:
    """Whether ``version`` of a package is affected, with the fix to upgrade to."""
    try:
        parsed = parse_version(ecosystem, version)
    except VersionError:
        return Verdict(version in versions)
    fixes = []
    for range_ in ranges:
        if range_.get("type") not in VERSION_RANGE_TYPES:
            continue
        verdict = _in_range(ecosystem, parsed, range_["events"])
        if verdict.affected:
            if verdict.fixed is None:
                return verdict
            fixes.append(verdict.fixed)
    if fixes:
        return Verdict(True, min(fixes, key=lambda text: parse_version(ecosystem, text)))
    if any(_same(ecosystem, parsed, listed) for listed in versions):
        return Verdict(True)
    return NOT_AFFECTED


def _in_range(ecosystem: str, version: Any, events: Sequence[Mapping[str, str]]) -> Verdict:
    limits = [parse_version(ecosystem, e["limit"]) for e in events if "limit" in e]
    if limits and not any(version < limit for limit in limits):
        return NOT_AFFECTED
    ordered = sorted(
        (_pair(event) for event in events if "limit" not in event),
        key=lambda pair: _order_of(ecosystem, pair[1]),
    )
    affected = False
    fixed: str | None = None
    for kind, value in ordered:
        at = None if value == "0" else parse_version(ecosystem, value)
        if kind == "introduced" and (at is None or version >= at):
            affected, fixed = True, None
        elif kind == "fixed" and affected and at is not None:
            if version >= at:
                affected = False
            elif fixed is None:
                fixed = value
        elif kind == "last_affected" and affected and at is not None and version > at:
            affected = False
    return Verdict(affected, fixed if affected else None)


def _order_of(ecosystem: str, value: str) -> tuple[Any, ...]:
    """Events in version order; ``introduced: "0"`` before everything."""
    return (0,) if value == "0" else (1, parse_version(ecosystem, value))


def _pair(event: Mapping[str, str]) -> tuple[str, str]:
    return _event(event)


def _event(event: Any) -> tuple[str, str]:
    if not isinstance(event, Mapping) or len(event) != 1:
        raise RangeError(f"has an event that is not one key: {event!r}")
    ((kind, value),) = event.items()
    if kind not in _EVENT_KINDS:
        raise RangeError(f"has an unknown event {kind!r} (expected {', '.join(_EVENT_KINDS)})")
    if not isinstance(value, str) or not value:
        raise RangeError(f"{kind} is not a version string: {value!r}")
    return str(kind), value


def _same(ecosystem: str, version: Any, listed: str) -> bool:
    try:
        return bool(version == parse_version(ecosystem, listed))
    except VersionError:
        return False
