"""Storing SBOMs and reading them back: the only write path of :mod:`.models`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.errors import NotFoundError
from pavedroad.security.sbom.document import check_bom
from pavedroad.security.sbom.models import Sbom, SbomPackage
from pavedroad.security.sbom.packages import LockedPackage


def store_sbom(
    session: Session,
    *,
    component_ref: str,
    commit: str | None,
    version: str | None,
    document: dict[str, Any],
    packages: Sequence[LockedPackage],
    run_id: str | None = None,
    actor: Actor,
) -> Sbom:
    """Store a component's SBOM (checked against the CycloneDX schema first: an invalid one
    raises :class:`~.document.InvalidSbomError` and nothing is stored) as its latest."""
    check_bom(document)
    component_ref = component_ref.lower()
    if session.get_bind().dialect.name == "postgresql":
        # Two runs of one component storing at once would both see no latest SBOM to retire.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:ref))"), {"ref": component_ref}
        )
    session.execute(
        update(Sbom)
        .where(Sbom.component_ref == component_ref, Sbom.latest.is_(True))
        .values(latest=False)
    )
    unique = {package.purl: package for package in packages}
    sbom = Sbom(
        id=str(uuid.uuid4()),
        component_ref=component_ref,
        commit=commit,
        version=version,
        created_at=datetime.now(UTC),
        run_id=run_id,
        created_by=actor.ref,
        latest=True,
        package_count=len(unique),
        document=document,
    )
    session.add(sbom)
    session.flush()
    if unique:
        session.execute(
            insert(SbomPackage),
            [
                {
                    "sbom_id": sbom.id,
                    "ecosystem": package.ecosystem,
                    "name": package.name,
                    "version": package.version,
                    "purl": package.purl,
                    "direct": package.direct,
                }
                for package in unique.values()
            ],
        )
    audit.record(
        session,
        actor=actor,
        event="security.sbom.stored",
        target=f"sbom:{sbom.id}",
        resource_type="sbom",
        details={
            "component_ref": component_ref,
            "commit": commit,
            "version": version,
            "run_id": run_id,
            "packages": len(unique),
        },
    )
    return sbom


def latest_sbom(session: Session, component_ref: str) -> Sbom | None:
    """The component's most recently stored SBOM."""
    return session.scalar(
        select(Sbom).where(Sbom.component_ref == component_ref.lower(), Sbom.latest.is_(True))
    )


def sboms_of(session: Session, component_ref: str, *, limit: int = 100) -> list[Sbom]:
    """The component's SBOMs, newest first."""
    return list(
        session.scalars(
            select(Sbom)
            .where(Sbom.component_ref == component_ref.lower())
            .order_by(Sbom.created_at.desc())
            .limit(limit)
        )
    )


def get_sbom(session: Session, sbom_id: str) -> Sbom:
    sbom = session.get(Sbom, sbom_id)
    if sbom is None:
        raise NotFoundError(f"no SBOM {sbom_id}")
    return sbom


def sbom_of_run(session: Session, run_id: str) -> Sbom | None:
    """The SBOM a pipeline run stored, if any (its latest, should it have stored several)."""
    return session.scalar(
        select(Sbom).where(Sbom.run_id == run_id).order_by(Sbom.created_at.desc()).limit(1)
    )


def packages_of_sbom(session: Session, sbom_id: str) -> list[SbomPackage]:
    return list(
        session.scalars(
            select(SbomPackage)
            .where(SbomPackage.sbom_id == sbom_id)
            .order_by(SbomPackage.ecosystem, SbomPackage.name, SbomPackage.version)
        )
    )
