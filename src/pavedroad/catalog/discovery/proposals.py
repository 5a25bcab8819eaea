"""Scanning targets and proposing one Component per repository that has no descriptor.

:func:`discover` opens every target, reads what its files say, names the repositories by the
clash rule in ``naming``, links them where one depends on a package another publishes, and
returns a :class:`Proposal` per target, in the order given. A target that cannot be read gets a
proposal with an ``error`` instead; the others are still proposed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog.descriptors import DescriptorSyntaxError, parse_documents
from pavedroad.catalog.discovery import inference
from pavedroad.catalog.discovery.ecosystems import READERS
from pavedroad.catalog.discovery.files import RepoFiles
from pavedroad.catalog.discovery.findings import Findings, Package
from pavedroad.catalog.discovery.naming import (
    FALLBACK_NAME,
    AssignedName,
    NameRequest,
    assign_names,
    entity_name,
)
from pavedroad.catalog.discovery.owners import OwnerGuess, guess_owner
from pavedroad.catalog.discovery.targets import Checkout, open_target
from pavedroad.catalog.models import Entity
from pavedroad.catalog.refs import DEFAULT_NAMESPACE
from pavedroad.catalog.sources import SourceError
from pavedroad.config import Settings
from pavedroad.core.db import chunks

SOURCE_LOCATION = "backstage.io/source-location"
PROJECT_SLUG = "github.com/project-slug"
DISCOVERED = "pavedroad.dev/discovered"
DEFAULT_LIFECYCLE = "experimental"
"""Nobody has vouched for a discovered component yet; its owner promotes it."""
MAX_DESCRIPTORS_READ = 20


@dataclass(slots=True)
class Proposal:
    """What discovery says about one target: a Component to add, or why there is none."""

    target: str
    entity: dict[str, Any] | None = None
    evidence: list[str] = field(default_factory=list)
    existing_descriptors: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str = ""
    checkout: Checkout | None = None

    @property
    def name(self) -> str | None:
        return None if self.entity is None else str(self.entity["metadata"]["name"])


@dataclass(slots=True)
class _Scan:
    proposal: Proposal
    checkout: Checkout
    files: RepoFiles
    findings: Findings
    owner: OwnerGuess
    described: list[str]


def discover(
    targets: Sequence[str],
    *,
    settings: Settings,
    session: Session | None = None,
    include_described: bool = False,
    on_target: Callable[[str], None] | None = None,
) -> list[Proposal]:
    """A proposal per target. With a ``session``, names the catalog already gives to other
    repositories are avoided; with ``include_described``, repositories that have descriptors
    get a proposal too. ``on_target`` is called after each target is read (progress bars)."""
    proposals: list[Proposal] = []
    scans: list[_Scan] = []
    seen: set[str] = set()
    for target in targets:
        proposal = Proposal(target)
        checkout = _open(proposal, settings)
        if checkout is None:
            proposals.append(proposal)
        elif checkout.key not in seen:  # the same repository spelt twice is read once
            seen.add(checkout.key)
            scans.append(_scan(proposal, checkout, settings))
            proposals.append(proposal)
        if on_target is not None:
            on_target(target)
    proposing = [s for s in scans if include_described or not s.proposal.existing_descriptors]
    names = _names(proposing, scans, session)
    publishers = _publishers(scans, names)
    for scan in scans:
        if scan.proposal.existing_descriptors:
            scan.proposal.evidence.append(_described(scan))
    for scan in proposing:
        _propose(scan, names[scan.checkout.key], publishers)
    return proposals


def _open(proposal: Proposal, settings: Settings) -> Checkout | None:
    """The target's checkout; None, with the proposal's error and hint set, if unreadable."""
    try:
        return open_target(proposal.target, settings)
    except SourceError as error:
        proposal.error, proposal.hint = error.message, error.hint
    except OSError as error:
        proposal.error = f"{proposal.target} cannot be read: {error.strerror or error}"
    return None


def _scan(proposal: Proposal, checkout: Checkout, settings: Settings) -> _Scan:
    files = RepoFiles(checkout.root)
    findings = Findings()
    for read in READERS:
        read(files, findings)
    if not findings.languages:
        inference.count_languages(files, findings)
    proposal.checkout = checkout
    proposal.existing_descriptors = files.glob(settings.catalog.descriptor_glob)
    described = _component_names(files, proposal.existing_descriptors)
    return _Scan(proposal, checkout, files, findings, guess_owner(files), described)


def _component_names(files: RepoFiles, descriptors: list[str]) -> list[str]:
    """Names of the Components (default namespace) the repository's descriptors declare."""
    names = []
    for path in descriptors[:MAX_DESCRIPTORS_READ]:
        try:
            documents = parse_documents(files.text(path) or "")
        except DescriptorSyntaxError:
            continue
        for document in documents:
            name = _component_name(document.data)
            if name is not None:
                names.append(name)
    return names


def _component_name(data: Any) -> str | None:
    if not isinstance(data, dict) or str(data.get("kind", "")).lower() != "component":
        return None
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return None
    if metadata.get("namespace", DEFAULT_NAMESPACE) != DEFAULT_NAMESPACE:
        return None
    return str(metadata["name"]).lower()


def _described(scan: _Scan) -> str:
    files = ", ".join(scan.proposal.existing_descriptors)
    return (
        f"already described by {files}: register it with "
        f"'pavedroad catalog register {scan.proposal.target}'"
    )


def _names(
    proposing: list[_Scan], scans: list[_Scan], session: Session | None
) -> dict[str, AssignedName]:
    requests = [
        NameRequest(
            key=scan.checkout.key,
            base=entity_name(scan.checkout.repository) or FALLBACK_NAME,
            qualifier=scan.checkout.qualifier,
            source=scan.checkout.source_location,
        )
        for scan in proposing
    ]
    held: dict[str, str] = {}
    if session is not None:
        held.update(held_in_catalog(session, {n for r in requests for n in r.candidates()}))
    for scan in scans:
        if scan not in proposing:
            for name in scan.described:
                held.setdefault(name, scan.checkout.source_location)
    return assign_names(requests, held)


def held_in_catalog(session: Session, names: Collection[str]) -> dict[str, str]:
    """Which of ``names`` the catalog's Components use, each with its source location ("" if
    the entity does not say where it comes from)."""
    by_ref = {f"component:{DEFAULT_NAMESPACE}/{name}".lower(): name for name in names}
    held: dict[str, str] = {}
    for chunk in chunks(sorted(by_ref)):
        rows = session.execute(select(Entity.ref, Entity.body).where(Entity.ref.in_(chunk)))
        for ref, body in rows:
            annotations = (orjson.loads(body).get("metadata") or {}).get("annotations") or {}
            held[by_ref[ref]] = str(annotations.get(SOURCE_LOCATION, ""))
    return held


def _publishers(
    scans: list[_Scan], names: dict[str, AssignedName]
) -> dict[Package, dict[str, str]]:
    """For each package a discovered repository publishes: component name → manifest file."""
    publishers: dict[Package, dict[str, str]] = {}
    for scan in scans:
        assigned = names.get(scan.checkout.key)
        name = (
            assigned.name if assigned else (scan.described[0] if len(scan.described) == 1 else None)
        )
        if name is None:
            continue
        for package, file in scan.findings.publishes.items():
            publishers.setdefault(package, {})[name] = file
    return publishers


def _propose(
    scan: _Scan, assigned: AssignedName, publishers: dict[Package, dict[str, str]]
) -> None:
    findings, checkout = scan.findings, scan.checkout
    name = assigned.name
    type_, type_reason = inference.spec_type(findings)
    tags = inference.tags(findings)
    evidence = [f"name {name}: from the repository name {checkout.repository!r}"]
    if assigned.reason:
        evidence[0] += f" ({assigned.reason})"
    evidence += [type_reason, *findings.evidence]
    if tags:
        evidence.append(f"tags {', '.join(tags)}")
    metadata: dict[str, Any] = {"name": name}
    described = inference.description(findings, scan.files)
    if described is not None:
        metadata["description"], reason = described
        evidence.append(reason)
    if tags:
        metadata["tags"] = tags
    annotations = {SOURCE_LOCATION: checkout.source_location}
    if checkout.project_slug:
        annotations[PROJECT_SLUG] = checkout.project_slug
    annotations[DISCOVERED] = "true"
    metadata["annotations"] = annotations
    spec: dict[str, Any] = {"type": type_, "lifecycle": DEFAULT_LIFECYCLE, "owner": scan.owner.ref}
    evidence.append(f"lifecycle {DEFAULT_LIFECYCLE}: discovered, nobody has vouched for it yet")
    evidence.append(scan.owner.reason)
    depends = _depends_on(findings, name, publishers, evidence)
    if depends:
        spec["dependsOn"] = depends
    scan.proposal.entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": metadata,
        "spec": spec,
    }
    scan.proposal.evidence = evidence + scan.proposal.evidence


def _depends_on(
    findings: Findings, name: str, publishers: dict[Package, dict[str, str]], evidence: list[str]
) -> list[str]:
    depends: set[str] = set()
    for package, file in sorted(findings.requires.items()):
        others = {n: f for n, f in publishers.get(package, {}).items() if n != name}
        if len(others) == 1:
            ((other, published_in),) = others.items()
            depends.add(f"component:{other}")
            evidence.append(
                f"dependsOn component:{other}: {file} names {package.ecosystem} package "
                f"{package.name}, which {other} publishes ({published_in})"
            )
        elif others:
            evidence.append(
                f"no dependsOn for {package.name}: {len(others)} repositories publish it "
                f"({', '.join(sorted(others))})"
            )
    return sorted(depends)
