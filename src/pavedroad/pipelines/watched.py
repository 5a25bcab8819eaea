"""The repositories pavedroad polls for new commits: every catalog component whose repository is
a local (``file://``) one, with no setup (a service generated from a template is one), and the
repositories registered by hand (``pavedroad pipeline watch URL``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.models import Entity
from pavedroad.core.actors import Actor
from pavedroad.core.errors import ConflictError, InputError, NotFoundError
from pavedroad.pipelines.models import WatchedRepository
from pavedroad.pipelines.repositories import (
    component_for_repository,
    local_component_repositories,
    normalise_repository,
)

RESOURCE_TYPE = "pipeline-repository"


def watched_json(row: WatchedRepository) -> dict[str, Any]:
    return {
        "url": row.url,
        "component": row.component_ref,
        "heads": dict(row.heads or {}),
        "checkedAt": row.checked_at.isoformat() if row.checked_at else None,
        "error": row.error,
    }


def list_watched(session: Session) -> Sequence[WatchedRepository]:
    return session.scalars(select(WatchedRepository).order_by(WatchedRepository.url)).all()


def watch_repository(
    session: Session, url: str, *, component_ref: str | None = None, actor: Actor
) -> WatchedRepository:
    """Poll ``url`` (a local path, ``file://`` or git URL) from now on; its component is the one
    given, else the catalog component whose source location it is (it may be none)."""
    if not url.strip():
        raise InputError("Give the repository to watch: a path, file:// URL or git URL")
    normalised = normalise_repository(url)
    if component_ref is not None:
        component_ref = component_ref.strip().lower()
        if session.scalar(select(Entity.ref).where(Entity.ref == component_ref)) is None:
            raise NotFoundError(
                f"No catalog entity {component_ref}",
                hint="give the ref of a registered component, e.g. component:default/payments",
            )
    else:
        component_ref = component_for_repository(session, normalised)
    row = session.get(WatchedRepository, normalised)
    if row is None:
        row = WatchedRepository(url=normalised, component_ref=component_ref, heads={})
        session.add(row)
    else:
        row.component_ref = component_ref
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="pipeline.repository.watched",
        target=normalised,
        resource_type=RESOURCE_TYPE,
        details={"component": component_ref},
    )
    return row


def unwatch_repository(session: Session, url: str, *, actor: Actor) -> None:
    """Stop polling ``url``; a repository watched because a component names it stays."""
    normalised = normalise_repository(url)
    row = session.get(WatchedRepository, normalised)
    if row is None:
        raise NotFoundError(
            f"{normalised} is not watched", hint="pavedroad pipeline watched lists the watched ones"
        )
    by_catalog = dict(local_component_repositories(session)).get(normalised)
    if by_catalog is not None:
        raise ConflictError(
            f"{normalised} is watched because {by_catalog} names it as its source location; "
            "change or remove that component to stop watching it"
        )
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        event="pipeline.repository.unwatched",
        target=normalised,
        resource_type=RESOURCE_TYPE,
    )


def sync_catalog_repositories(session: Session) -> None:
    """Watch the repository of every component with a local one; forget the watches of
    components that left the catalog. The caller commits."""
    local: dict[str, str] = {}
    for repository, ref in local_component_repositories(session):
        local.setdefault(repository, ref)  # a monorepo: the first component by ref
    rows = {row.url: row for row in list_watched(session)}
    for url, ref in local.items():
        row = rows.get(url)
        if row is None:
            session.add(WatchedRepository(url=url, component_ref=ref, heads={}))
        elif row.component_ref is None:
            row.component_ref = ref
    bound = {row.component_ref for row in rows.values() if row.component_ref}
    existing = set(session.scalars(select(Entity.ref).where(Entity.ref.in_(bound))))
    gone = [
        url for url, row in rows.items() if row.component_ref and row.component_ref not in existing
    ]
    if gone:
        session.execute(delete(WatchedRepository).where(WatchedRepository.url.in_(gone)))
