"""OSV records read into what matching needs, with every problem named.

A record's ``affected`` entries for ecosystems whose version ordering is not known here are
left out and reported (an OSV export of every ecosystem has many); a record with nothing left,
without an id or ``modified`` time, or with a range that does not evaluate is refused whole,
so what is stored always matches correctly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pavedroad.security.advisories.cvss import CvssError, base_score, rating
from pavedroad.security.advisories.ranges import RangeError, check_range
from pavedroad.security.advisories.versions import (
    SUPPORTED_ECOSYSTEMS,
    normalise_package_name,
)

# Databases' own words for severity (GitHub: MODERATE) in the ratings used everywhere here.
_DATABASE_SEVERITIES = {
    "low": "low",
    "moderate": "medium",
    "medium": "medium",
    "high": "high",
    "important": "high",
    "critical": "critical",
}


class RecordError(ValueError):
    """A record that cannot be stored, and why."""


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    ecosystem: str
    name: str  # normalised for the ecosystem
    purl: str | None
    ranges: list[dict[str, Any]]
    versions: list[str]


@dataclass(slots=True)
class AdvisoryRecord:
    id: str
    modified: datetime
    published: datetime | None
    withdrawn: datetime | None
    summary: str
    details: str
    aliases: list[str]
    severity: str | None  # none, low, medium, high, critical; None when nothing says
    score: float | None  # CVSS base score, when a vector was given
    vector: str | None
    packages: list[AffectedPackage]
    raw: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # entries left out, and why


def parse_record(data: Any) -> AdvisoryRecord:
    """The record ``data`` (a parsed OSV JSON/YAML document); RecordError when it is refused."""
    if not isinstance(data, dict):
        raise RecordError("an OSV record is a mapping (JSON object)")
    record_id = data.get("id")
    if not isinstance(record_id, str) or not record_id.strip():
        raise RecordError("the record has no id")
    modified = _moment(data.get("modified"), "modified", required=True)
    assert modified is not None
    notes: list[str] = []
    packages = _packages(data.get("affected"), notes)
    if not packages:
        raise RecordError(
            f"{record_id}: no affected package in a supported ecosystem"
            + (f" ({'; '.join(notes)})" if notes else "")
        )
    vector, score = _cvss(data)
    return AdvisoryRecord(
        id=record_id.strip(),
        modified=modified,
        published=_moment(data.get("published"), "published"),
        withdrawn=_moment(data.get("withdrawn"), "withdrawn"),
        summary=str(data.get("summary") or "").strip(),
        details=str(data.get("details") or "").strip(),
        aliases=[str(alias) for alias in data.get("aliases") or [] if alias],
        severity=rating(score) if score is not None else _database_severity(data),
        score=score,
        vector=vector,
        packages=packages,
        raw=data,
        notes=notes,
    )


def _packages(affected: Any, notes: list[str]) -> list[AffectedPackage]:
    if not isinstance(affected, list):
        raise RecordError("affected is missing or not a list")
    packages = []
    for number, entry in enumerate(affected):
        package = (entry or {}).get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or not package.get("name"):
            raise RecordError(f"affected[{number}] has no package name")
        ecosystem = str(package.get("ecosystem") or "")
        if ecosystem not in SUPPORTED_ECOSYSTEMS:
            notes.append(f"affected[{number}]: ecosystem {ecosystem!r} is not supported")
            continue
        ranges = entry.get("ranges") or []
        versions = entry.get("versions") or []
        if not isinstance(ranges, list) or not isinstance(versions, list):
            raise RecordError(f"affected[{number}]: ranges and versions must be lists")
        ranges = _usable_ranges(ecosystem, ranges, f"affected[{number}]", notes)
        if not ranges and not versions:
            raise RecordError(
                f"affected[{number}] has no range or version that can be evaluated"
                + (f" ({notes[-1]})" if notes else "")
            )
        packages.append(
            AffectedPackage(
                ecosystem=ecosystem,
                name=normalise_package_name(ecosystem, str(package["name"])),
                purl=package.get("purl"),
                ranges=ranges,
                versions=[str(version) for version in versions],
            )
        )
    return packages


def _usable_ranges(
    ecosystem: str, ranges: list[Any], where: str, notes: list[str]
) -> list[dict[str, Any]]:
    """The ranges that evaluate; a malformed one is left out with a note, so the record's
    other ranges and explicit versions still match."""
    usable = []
    for index, range_ in enumerate(ranges):
        try:
            if not isinstance(range_, dict):
                raise RangeError("is not a mapping")
            check_range(ecosystem, range_)
        except RangeError as error:
            notes.append(f"{where} ranges[{index}] left out: {error}")
        else:
            usable.append(range_)
    return usable


def _cvss(data: dict[str, Any]) -> tuple[str | None, float | None]:
    """The highest-scoring CVSS v3/v2 vector of the record (or of its affected entries)."""
    found: list[tuple[float, str]] = []
    entries = [data, *[a for a in data.get("affected") or [] if isinstance(a, dict)]]
    for entry in entries:
        for severity in entry.get("severity") or []:
            vector = str((severity or {}).get("score") or "")
            if (severity or {}).get("type") in ("CVSS_V3", "CVSS_V2") and vector:
                try:
                    found.append((base_score(vector), vector))
                except CvssError:
                    continue
    if not found:
        return None, None
    score, vector = max(found)
    return vector, score


def _database_severity(data: dict[str, Any]) -> str | None:
    specific = data.get("database_specific") or {}
    value = specific.get("severity") if isinstance(specific, dict) else None
    return _DATABASE_SEVERITIES.get(str(value).lower()) if value else None


def _moment(value: Any, name: str, *, required: bool = False) -> datetime | None:
    if value in (None, ""):
        if required:
            raise RecordError(f"the record has no {name} time")
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise RecordError(f"{name} {value!r} is not an RFC 3339 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
