"""Which stored advisories affect a package at a version, and the version that fixes each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from pavedroad.core.db import chunks
from pavedroad.security.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage
from pavedroad.security.advisories.ranges import evaluate
from pavedroad.security.advisories.versions import normalise_package_name


@dataclass(frozen=True, slots=True)
class PackageVersion:
    ecosystem: str
    name: str
    version: str

    @property
    def key(self) -> tuple[str, str]:
        return self.ecosystem, normalise_package_name(self.ecosystem, self.name)


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """An advisory that affects a package version."""

    advisory_id: str
    aliases: tuple[str, ...]
    summary: str
    severity: str | None
    score: float | None
    fixed: str | None  # the version to upgrade to; None when no fix is known
    package: PackageVersion

    @property
    def fix_text(self) -> str:
        if self.fixed is None:
            return f"no fixed version of {self.package.name} is known"
        return f"upgrade {self.package.name} {self.package.version} → {self.fixed}"


def vulnerabilities_of(
    session: Session, packages: Iterable[PackageVersion]
) -> dict[PackageVersion, list[Vulnerability]]:
    """Every package's vulnerabilities (withdrawn advisories left out), most severe first."""
    wanted = list(dict.fromkeys(packages))
    by_key: dict[tuple[str, str], list[PackageVersion]] = defaultdict(list)
    for package in wanted:
        by_key[package.key].append(package)
    found: dict[PackageVersion, list[Vulnerability]] = {package: [] for package in wanted}
    rows = _affected_rows(session, list(by_key))
    aliases = _aliases(session, {row.advisory_id for row in rows})
    for row in rows:
        for package in by_key[(row.ecosystem, row.name)]:
            verdict = evaluate(package.ecosystem, package.version, row.ranges, row.versions)
            if verdict.affected:
                found[package].append(
                    Vulnerability(
                        advisory_id=row.advisory_id,
                        aliases=aliases.get(row.advisory_id, ()),
                        summary=row.summary or row.details[:200],
                        severity=row.severity,
                        score=row.score,
                        fixed=verdict.fixed,
                        package=package,
                    )
                )
    for vulnerabilities in found.values():
        vulnerabilities.sort(
            key=lambda v: (-(v.score or _SEVERITY_ORDER.get(v.severity or "", 0.0)), v.advisory_id)
        )
    return found


_SEVERITY_ORDER = {"critical": 9.0, "high": 7.0, "medium": 4.0, "low": 0.1}


def _affected_rows(session: Session, keys: list[tuple[str, str]]) -> list[_Row]:
    rows: list[_Row] = []
    for batch in chunks(keys, 400):
        result = session.execute(
            select(
                AdvisoryPackage.advisory_id,
                AdvisoryPackage.ecosystem,
                AdvisoryPackage.name,
                AdvisoryPackage.ranges,
                AdvisoryPackage.versions,
                Advisory.summary,
                Advisory.details,
                Advisory.severity,
                Advisory.score,
            )
            .join(Advisory, Advisory.id == AdvisoryPackage.advisory_id)
            .where(
                tuple_(AdvisoryPackage.ecosystem, AdvisoryPackage.name).in_(batch),
                Advisory.withdrawn.is_(None),
            )
        )
        rows.extend(_Row(*row) for row in result)
    return rows


@dataclass(frozen=True, slots=True)
class _Row:
    advisory_id: str
    ecosystem: str
    name: str
    ranges: list[dict[str, object]]
    versions: list[str]
    summary: str
    details: str
    severity: str | None
    score: float | None


def _aliases(session: Session, ids: set[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = defaultdict(list)
    for batch in chunks(sorted(ids), 500):
        for alias, advisory_id in session.execute(
            select(AdvisoryAlias.alias, AdvisoryAlias.advisory_id)
            .where(AdvisoryAlias.advisory_id.in_(batch))
            .order_by(AdvisoryAlias.alias)
        ):
            found[advisory_id].append(alias)
    return {key: tuple(value) for key, value in found.items()}
