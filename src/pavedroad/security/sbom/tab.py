"""The Dependencies tab of a component's page: its latest SBOM's packages (searchable, a page at
a time) with their known vulnerabilities and fixes, and the CycloneDX JSON to download."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pavedroad.catalog.hooks import EntityPageTab, TabContext
from pavedroad.catalog.refs import entity_path
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.security.advisories.matching import PackageVersion, Vulnerability, vulnerabilities_of
from pavedroad.security.permissions import READ_SBOM
from pavedroad.security.sbom.models import Sbom, SbomPackage
from pavedroad.security.sbom.service import latest_sbom
from pavedroad.web.templating import templates

PAGE = 50


@dataclass(frozen=True, slots=True)
class PackageRow:
    package: SbomPackage
    vulnerabilities: Sequence[Vulnerability]


def _offset(query: dict[str, str]) -> int:
    text = query.get("deps_offset", "")
    return int(text) if text.isdigit() else 0


def packages_page(
    session: Session, sbom: Sbom, *, search: str, offset: int, limit: int = PAGE
) -> tuple[list[SbomPackage], int]:
    """A page of the SBOM's packages whose name or purl contains ``search``, and how many match."""
    condition = SbomPackage.sbom_id == sbom.id
    statement = select(SbomPackage).where(condition)
    count = select(func.count()).select_from(SbomPackage).where(condition)
    if search:
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        matches = or_(
            func.lower(SbomPackage.name).like(pattern, escape="\\"),
            func.lower(SbomPackage.purl).like(pattern, escape="\\"),
        )
        statement, count = statement.where(matches), count.where(matches)
    rows = session.scalars(
        statement.order_by(
            SbomPackage.direct.is_(True).desc(), SbomPackage.ecosystem, SbomPackage.name
        )
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(session.scalar(count) or 0)


def dependencies_context(context: TabContext) -> dict[str, Any]:
    session, ref = context.session, context.ref
    base: dict[str, Any] = {"ref": ref, "page_url": entity_path(ref)}
    principal = context.principal
    if (
        principal is None
        or context.runtime.permissions.decide(principal, READ_SBOM).result.name == "DENY"
    ):
        return {**base, "refused": True}
    sbom = latest_sbom(session, ref)
    if sbom is None:
        return {**base, "refused": False, "sbom": None}
    search = context.query.get("deps_q", "").strip()[:100]
    offset = _offset(context.query)
    packages, total = packages_page(session, sbom, search=search, offset=offset)
    wanted = {row.id: PackageVersion(row.ecosystem, row.name, row.version) for row in packages}
    found = vulnerabilities_of(session, wanted.values())
    rows = [PackageRow(row, found.get(wanted[row.id], [])) for row in packages]
    return {
        **base,
        "refused": False,
        "sbom": sbom,
        "rows": rows,
        "search": search,
        "total": total,
        "offset": offset,
        "previous_offset": max(offset - PAGE, 0) if offset else None,
        "next_offset": offset + PAGE if offset + PAGE < total else None,
        "download_url": f"/api/security/v1/sboms/{sbom.id}",
        "vulnerable_on_page": sum(1 for row in rows if row.vulnerabilities),
    }


@dataclass(frozen=True, slots=True)
class DependenciesTab:
    id: str = "dependencies"
    title: str = "Dependencies"
    order: int = 45

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return str(entity.get("kind", "")).lower() == "component"

    def render(self, context: TabContext) -> str:
        template = templates.get_template("security/tabs/dependencies.html")
        return template.render(**dependencies_context(context))


class SbomTabs:
    """The SBOMs' contribution to entity pages, through the same hook as any plugin."""

    @hookimpl
    def pavedroad_entity_page_tabs(self, settings: Settings) -> Sequence[EntityPageTab]:
        return [DependenciesTab()]
