"""The CycloneDX 1.6 JSON document of an inventory, and its check against the schema.

The metadata component is the component scanned (its catalog ref as ``bom-ref``, its version or
commit); every package is a ``library`` component whose ``bom-ref`` is its purl, with the
lockfile and line it came from as evidence; the dependency graph starts at the metadata
component (the direct packages) and follows the edges the lockfiles record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from pavedroad import __version__
from pavedroad.core.errors import InputError
from pavedroad.security.advisories.matching import PackageVersion
from pavedroad.security.advisories.purls import ecosystem_of_purl
from pavedroad.security.sbom.packages import LockedPackage

SPEC_VERSION = "1.6"
MAX_SHOWN_ERRORS = 20


class InvalidSbomError(InputError):
    """A CycloneDX document the schema refuses: never stored, never reported as empty."""

    def __init__(self, errors: Sequence[str]) -> None:
        shown = "; ".join(errors[:MAX_SHOWN_ERRORS])
        super().__init__(
            f"the SBOM fails the CycloneDX {SPEC_VERSION} schema: {shown}", errors=list(errors)
        )
        self.errors = list(errors)


def build_bom(
    packages: Sequence[LockedPackage],
    *,
    component_ref: str,
    version: str | None = None,
    commit: str | None = None,
) -> dict[str, Any]:
    """The CycloneDX JSON (as a dict) of ``packages`` shipped by ``component_ref``."""
    bom = Bom()
    root = Component(
        name=component_ref.rpartition("/")[2] or component_ref,
        version=version or commit or None,
        type=ComponentType.APPLICATION,
        bom_ref=component_ref,
        properties=[
            Property(name="pavedroad:component-ref", value=component_ref),
            *([Property(name="pavedroad:commit", value=commit)] if commit else []),
        ],
    )
    bom.metadata.component = root
    bom.metadata.tools.components.add(
        Component(name="pavedroad", version=__version__, type=ComponentType.APPLICATION)
    )
    components: dict[str, Component] = {}
    for package in sorted(packages, key=lambda p: p.purl):
        components[package.purl] = _component(package)
        bom.components.add(components[package.purl])
    depended_on = {edge for package in packages for edge in package.dependencies}
    top = [
        components[p.purl]
        for p in packages
        if p.direct or (p.direct is None and p.purl not in depended_on)
    ]
    bom.register_dependency(root, top)
    for package in packages:
        targets = [components[edge] for edge in package.dependencies if edge in components]
        if targets:
            bom.register_dependency(components[package.purl], targets)
    document: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    return document


def _component(package: LockedPackage) -> Component:
    purl = PackageURL.from_string(package.purl)
    properties = [Property(name="pavedroad:ecosystem", value=package.ecosystem)]
    if package.direct is not None:
        properties.append(Property(name="pavedroad:direct", value=str(package.direct).lower()))
    if package.scope:
        properties.append(Property(name="pavedroad:scope", value=package.scope))
    return Component(
        name=purl.name,
        group=purl.namespace,
        version=package.version,
        purl=purl,
        bom_ref=package.purl,
        type=ComponentType.LIBRARY,
        properties=properties,
        evidence=ComponentEvidence(
            occurrences=[Occurrence(location=package.file, line=package.line)]
        ),
    )


def schema_errors(document: dict[str, Any] | str) -> list[str]:
    """Every way ``document`` breaks the CycloneDX 1.6 JSON schema (strict: no unknown
    fields), each as ``path: message``; empty when it is valid."""
    text = document if isinstance(document, str) else json.dumps(document)
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    try:
        errors = validator.validate_str(text, all_errors=True)
    except json.JSONDecodeError as broken:
        return [f"not JSON: {broken.msg} (line {broken.lineno})"]
    found: list[str] = []
    for error in errors or ():
        detail = error.data
        path = "/".join(str(part) for part in getattr(detail, "absolute_path", ())) or "(root)"
        found.append(f"{path}: {getattr(detail, 'message', detail)}")
    return found


def check_bom(document: dict[str, Any] | str) -> None:
    """Raise :class:`InvalidSbomError` unless ``document`` passes the schema."""
    errors = schema_errors(document)
    if errors:
        raise InvalidSbomError(errors)


def packages_of_bom(document: dict[str, Any]) -> list[PackageVersion]:
    """The package versions a CycloneDX document lists (by purl), for matching advisories;
    components of ecosystems that advisories do not cover are left out."""
    found: list[PackageVersion] = []
    for component in document.get("components") or []:
        purl = component.get("purl") if isinstance(component, dict) else None
        if not isinstance(purl, str):
            continue
        try:
            ecosystem, name, version = ecosystem_of_purl(purl)
        except InputError:
            continue
        if version:
            found.append(PackageVersion(ecosystem, name, version))
    return found
