"""Backstage's analyze-location: the descriptors a location already has, or the one to add.

Answers ``POST /api/catalog/analyze-location`` in Backstage's shape::

    {"existingEntityFiles": [{"location": {"type", "target"}, "isRegistered", "entity"}],
     "generateEntities": [{"entity": {...}, "fields": []}]}

A repository with descriptors lists every valid entity in them (as registering would read
them; invalid files are left out, ``register --dry-run`` says why); one without gets the
Component discovery proposes, named clear of what the catalog already holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.catalog.discovery.proposals import Proposal, discover
from pavedroad.catalog.processing import MANAGED_BY_LOCATION, ProcessedEntity
from pavedroad.catalog.reading import read_location_files
from pavedroad.catalog.sources import SourceTree, normalise_target, redact_url, split_git_target
from pavedroad.core.errors import InputError

REPOSITORY_TYPES = ("dir", "git")


def analyze_location(
    session: Session, catalog: service.Catalog, type_: str, target: str
) -> dict[str, Any]:
    """What registering ``type_:target`` would find, or what discovery proposes instead."""
    repository, path_spec = split_git_target(target)
    if type_ not in REPOSITORY_TYPES or path_spec:
        dry_run = service.dry_run_location(session, catalog, type_, target)
        return _answer(session, [(type_, target)], dry_run.entities)
    proposal = discover([repository], settings=catalog.settings, session=session)[0]
    if proposal.error is not None:
        raise InputError(
            f"Cannot read location {type_}:{target}: {proposal.error}", hint=proposal.hint
        )
    if proposal.entity is not None:
        return {
            "existingEntityFiles": [],
            "generateEntities": [{"entity": proposal.entity, "fields": []}],
        }
    return _answer(session, [(type_, repository)], _existing(catalog, type_, repository, proposal))


def _existing(
    catalog: service.Catalog, type_: str, repository: str, proposal: Proposal
) -> list[ProcessedEntity]:
    assert proposal.checkout is not None
    checkout = proposal.checkout
    prefix = f"git:{redact_url(repository)}#" if checkout.remote else f"file:{checkout.root}/"
    tree = SourceTree(checkout.root, prefix, catalog.settings.catalog.max_file_bytes)
    files = read_location_files(
        tree,
        proposal.existing_descriptors,
        catalog.pipeline,
        origin=f"{type_}:{repository}",
        max_depth=catalog.settings.catalog.max_location_depth,
    )
    return [entity for result in files for entity in result.entities]


def _answer(
    session: Session, registered_as: list[tuple[str, str]], entities: list[ProcessedEntity]
) -> dict[str, Any]:
    answer: list[dict[str, Any]] = []
    repository_registered = any(_is_registered(session, t, target) for t, target in registered_as)
    for processed in entities:
        where = str(processed.entity["metadata"]["annotations"][MANAGED_BY_LOCATION])
        file_type, _, file_target = where.partition(":")
        answer.append(
            {
                "location": {"type": file_type, "target": file_target},
                "isRegistered": repository_registered
                or _is_registered(session, file_type, file_target),
                "entity": processed.entity,
            }
        )
    return {"existingEntityFiles": answer, "generateEntities": []}


def _is_registered(session: Session, type_: str, target: str) -> bool:
    return service.find_location(session, type_, normalise_target(type_, target)) is not None
