"""Entity providers: finding one by name, and replacing its entities with a fresh snapshot."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.catalog.hooks import EntityProvider
from pavedroad.catalog.ingestion import IngestReport, Owner, Reconciler
from pavedroad.catalog.processing import ProcessedEntity
from pavedroad.catalog.reading import FileProblem
from pavedroad.catalog.service.catalog import Catalog, location_names
from pavedroad.core.actors import Actor
from pavedroad.core.errors import NotFoundError


def provider_by_name(catalog: Catalog, name: str) -> EntityProvider:
    for provider in catalog.providers:
        if provider.name == name:
            return provider
    raise NotFoundError(
        f"No entity provider named {name}; installed: "
        f"{', '.join(p.name for p in catalog.providers) or 'none'}"
    )


def refresh_provider(
    session: Session, catalog: Catalog, name: str, *, actor: Actor
) -> IngestReport:
    """Replace a provider's entities with its current snapshot, or keep all if it is invalid."""
    provider = provider_by_name(catalog, name)
    owner = Owner(provider=name)
    problems: list[FileProblem] = []
    processed: list[ProcessedEntity] = []
    try:
        snapshot = list(provider.read())
    except Exception as error:  # a plugin's failure must not take the catalog down
        snapshot = []
        problems.append(
            FileProblem("provider-read-failed", f"provider {name} failed: {error}", "read")
        )
    for index, document in enumerate(snapshot):
        outcome = catalog.pipeline.process(
            document,
            index,
            read_placeholder=None,
            annotations={
                "backstage.io/managed-by-location": f"provider:{name}",
                "backstage.io/managed-by-origin-location": f"provider:{name}",
            },
        )
        problems.extend(
            FileProblem(
                p.category,
                p.message,
                "validation",
                document_index=index,
                entity_ref=outcome.ref,
                field=p.field_path if p.path else None,
                hint=p.hint,
            )
            for p in outcome.problems
        )
        if outcome.entity is not None:
            processed.append(outcome.entity)
    reconciler = Reconciler(session, owner, actor=actor, owner_names=location_names(session))
    if problems:
        return reconciler.refuse(problems)
    for entity in processed:
        reconciler.add_entity(entity, None)
    report = reconciler.finish()
    audit.record(
        session,
        actor=actor,
        event="catalog.provider.refreshed",
        target=f"provider:{name}",
        details={"created": report.created, "updated": report.updated, "deleted": report.deleted},
    )
    return report
