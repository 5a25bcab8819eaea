"""Organisation-wide impact: which components ship a package (in a version range), and which
are affected by an advisory — answered from every component's latest SBOM and the catalog in
one pass, without rescanning anything.

"Which services ship log4j-core < 2.17.1?" reads the package rows of the latest SBOMs through
their (ecosystem, name, version) index, keeps the versions in range (by the ecosystem's own
ordering), and joins the catalog for owner, system and lifecycle.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity
from pavedroad.catalog.queries.restriction import Restriction
from pavedroad.core.db import chunks
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.security.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage
from pavedroad.security.advisories.purls import ecosystem_of_purl
from pavedroad.security.advisories.ranges import evaluate
from pavedroad.security.advisories.versions import (
    SUPPORTED_ECOSYSTEMS,
    VersionError,
    normalise_package_name,
    parse_version,
)
from pavedroad.security.sbom.models import Sbom, SbomPackage

_COMPARISON = re.compile(r"^\s*(<=|>=|==|!=|<|>|=)?\s*([^\s,]+)\s*$")


@dataclass(slots=True)
class AffectedComponent:
    ref: str
    owner: str | None
    system: str | None
    lifecycle: str | None
    packages: list[tuple[str, str]] = field(default_factory=list)  # (name, version)
    advisories: list[str] = field(default_factory=list)
    fixed: str | None = None  # the version to upgrade to, when an advisory was asked
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "component": self.ref,
            "owner": self.owner,
            "system": self.system,
            "lifecycle": self.lifecycle,
            "packages": [{"name": n, "version": v} for n, v in self.packages],
            "advisories": self.advisories,
            "fixed": self.fixed,
            "commit": self.commit,
            "environments": [],  # filled once the deployments capability records them
        }


@dataclass(slots=True)
class ImpactAnswer:
    question: str
    components: list[AffectedComponent]

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "count": len(self.components),
            "items": [component.to_json() for component in self.components],
        }


@dataclass(frozen=True, slots=True)
class PackageQuestion:
    ecosystem: str
    name: str
    constraints: tuple[tuple[str, str], ...] = ()  # ("<", "2.17.1"), ...

    def admits(self, version: str) -> bool:
        try:
            parsed = parse_version(self.ecosystem, version)
            return all(
                _holds(parsed, op, parse_version(self.ecosystem, bound))
                for op, bound in self.constraints
            )
        except VersionError:
            return False

    def describe(self) -> str:
        spec = ",".join(f"{op}{bound}" for op, bound in self.constraints)
        return f"{self.ecosystem} {self.name}{' ' + spec if spec else ''}"


def parse_package_question(
    package: str, versions: str | None = None, ecosystem: str | None = None
) -> PackageQuestion:
    """``pkg:maven/org.apache.logging.log4j/log4j-core`` (or a name with ``ecosystem``) and a
    version spec such as ``<2.17.1`` or ``>=2.0,<2.17.1``."""
    if package.startswith("pkg:"):
        found_ecosystem, name, _ = ecosystem_of_purl(package)
    elif ecosystem:
        found_ecosystem, name = ecosystem, package
    else:
        raise InputError(
            f"say which ecosystem {package!r} is in",
            hint="give a package URL (pkg:pypi/django, pkg:maven/group/artifact) or --ecosystem",
        )
    if found_ecosystem not in SUPPORTED_ECOSYSTEMS:
        raise InputError(
            f"ecosystem {found_ecosystem!r} is not supported "
            f"(supported: {', '.join(SUPPORTED_ECOSYSTEMS)})"
        )
    constraints = []
    for part in (versions or "").split(","):
        if not part.strip():
            continue
        match = _COMPARISON.match(part)
        if match is None:
            raise InputError(f"{part!r} is not a version constraint such as <2.17.1")
        operator, bound = match.group(1) or "==", match.group(2)
        try:
            parse_version(found_ecosystem, bound)
        except VersionError as error:
            raise InputError(str(error)) from None
        constraints.append(("==" if operator == "=" else operator, bound))
    return PackageQuestion(
        found_ecosystem, normalise_package_name(found_ecosystem, name), tuple(constraints)
    )


def components_shipping(
    session: Session, question: PackageQuestion, *, restriction: Restriction | None = None
) -> ImpactAnswer:
    """Components whose latest SBOM ships the package in the asked range."""
    rows = latest_package_rows(session, question.ecosystem, [question.name])
    admitted = {v for v in {row[2] for row in rows} if question.admits(v)}
    hits: dict[str, AffectedComponent] = {}
    for ref, commit, version, name in rows:
        if version in admitted:
            hit = hits.setdefault(ref, AffectedComponent(ref, None, None, None, commit=commit))
            hit.packages.append((name, version))
    return ImpactAnswer(
        f"which components ship {question.describe()}",
        _with_catalog(session, hits, restriction),
    )


def components_affected_by(
    session: Session, identifier: str, *, restriction: Restriction | None = None
) -> ImpactAnswer:
    """Components whose latest SBOM ships a version an advisory (by id or alias) affects."""
    advisory_ids = _advisory_ids(session, identifier)
    packages = session.execute(
        select(
            AdvisoryPackage.advisory_id,
            AdvisoryPackage.ecosystem,
            AdvisoryPackage.name,
            AdvisoryPackage.ranges,
            AdvisoryPackage.versions,
        )
        .join(Advisory, Advisory.id == AdvisoryPackage.advisory_id)
        .where(AdvisoryPackage.advisory_id.in_(advisory_ids), Advisory.withdrawn.is_(None))
    ).all()
    hits: dict[str, AffectedComponent] = {}
    for advisory_id, ecosystem, name, ranges, versions in packages:
        rows = latest_package_rows(session, ecosystem, [name])
        verdicts = {v: evaluate(ecosystem, v, ranges, versions) for v in {row[2] for row in rows}}
        for ref, commit, version, package_name in rows:
            verdict = verdicts[version]
            if not verdict.affected:
                continue
            hit = hits.setdefault(ref, AffectedComponent(ref, None, None, None, commit=commit))
            hit.packages.append((package_name, version))
            if advisory_id not in hit.advisories:
                hit.advisories.append(advisory_id)
            hit.fixed = verdict.fixed or hit.fixed
    return ImpactAnswer(
        f"which components are affected by {identifier}",
        _with_catalog(session, hits, restriction),
    )


def _advisory_ids(session: Session, identifier: str) -> list[str]:
    wanted = identifier.strip()
    found = set(session.scalars(select(Advisory.id).where(Advisory.id == wanted)))
    found.update(
        session.scalars(select(AdvisoryAlias.advisory_id).where(AdvisoryAlias.alias == wanted))
    )
    if not found:
        raise NotFoundError(
            f"no advisory is known as {wanted}",
            hint="import advisories first: pavedroad advisories import PATH",
        )
    return sorted(found)


def latest_package_rows(
    session: Session, ecosystem: str, names: Iterable[str]
) -> list[tuple[str, str | None, str, str]]:
    """(component, commit, version, name) of the package in every latest SBOM."""
    query = (
        select(Sbom.component_ref, Sbom.commit, SbomPackage.version, SbomPackage.name)
        .join(Sbom, Sbom.id == SbomPackage.sbom_id)
        .where(
            SbomPackage.ecosystem == ecosystem,
            SbomPackage.name.in_(list(names)),
            Sbom.latest.is_(True),
        )
    )
    return [(ref, commit, version, name) for ref, commit, version, name in session.execute(query)]


def _with_catalog(
    session: Session, hits: dict[str, AffectedComponent], restriction: Restriction | None
) -> list[AffectedComponent]:
    """The hits the asker may see, with owner, system and lifecycle from the catalog."""
    visible: ColumnElement[bool] = restriction.condition if restriction is not None else true()
    shown: list[AffectedComponent] = []
    bodies: dict[str, dict[str, Any]] = {}
    for batch in chunks(sorted(hits), 500):
        for row in session.execute(
            select(Entity.ref, Entity.body).where(Entity.ref.in_(batch), visible)
        ):
            bodies[row.ref] = orjson.loads(row.body)
    unknown_allowed = restriction is None  # components no longer in the catalog
    for ref in sorted(hits):
        hit = hits[ref]
        entity = bodies.get(ref)
        if entity is None and not unknown_allowed:
            continue
        spec = (entity or {}).get("spec") or {}
        hit.owner, hit.system, hit.lifecycle = (
            spec.get("owner"),
            spec.get("system"),
            spec.get("lifecycle"),
        )
        hit.packages.sort()
        shown.append(hit)
    return shown


def by_owner(answer: ImpactAnswer) -> dict[str, list[AffectedComponent]]:
    """The answer grouped by owning team (components without an owner under "")."""
    groups: dict[str, list[AffectedComponent]] = defaultdict(list)
    for component in answer.components:
        groups[component.owner or ""].append(component)
    return dict(sorted(groups.items()))


def _holds(version: Any, operator: str, bound: Any) -> bool:
    return bool(
        {
            "<": version < bound,
            "<=": version <= bound,
            ">": version > bound,
            ">=": version >= bound,
            "==": version == bound,
            "!=": version != bound,
        }[operator]
    )


def answer_question(
    session: Session,
    *,
    advisory: str | None = None,
    package: str | None = None,
    versions: str | None = None,
    ecosystem: str | None = None,
    restriction: Restriction | None = None,
) -> ImpactAnswer:
    """The impact question as the API, the CLI and the page ask it: by advisory, or by package
    with an optional version spec."""
    if advisory and package:
        raise InputError("ask about an advisory or a package, not both")
    if advisory:
        return components_affected_by(session, advisory, restriction=restriction)
    if package:
        question = parse_package_question(package, versions, ecosystem)
        return components_shipping(session, question, restriction=restriction)
    raise InputError(
        "say what to look for",
        hint="advisory=CVE-2021-44228, or package=pkg:maven/org.apache.logging.log4j/log4j-core"
        "&versions=<2.17.1",
    )


CSV_COLUMNS = (
    "component",
    "owner",
    "system",
    "lifecycle",
    "packages",
    "advisories",
    "fixed",
    "commit",
)


def csv_rows(answer: ImpactAnswer) -> Iterable[list[str]]:
    yield list(CSV_COLUMNS)
    for component in answer.components:
        yield [
            component.ref,
            component.owner or "",
            component.system or "",
            component.lifecycle or "",
            " ".join(f"{name}@{version}" for name, version in component.packages),
            " ".join(component.advisories),
            component.fixed or "",
            component.commit or "",
        ]
