"""From a folder to a checked CycloneDX document: discovery, the BOM, the schema check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavedroad.security.sbom.discovery import read_inventory
from pavedroad.security.sbom.document import build_bom, schema_errors
from pavedroad.security.sbom.packages import Inventory


@dataclass(slots=True)
class GeneratedSbom:
    """An inventory and, when every lockfile parsed, its document. ``problems`` lists what
    went wrong (a lockfile that does not parse, a document the schema refuses): with any,
    there is no document, never an empty one."""

    inventory: Inventory
    document: dict[str, Any] | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.problems


def generate_sbom(
    path: Path,
    *,
    component_ref: str,
    version: str | None = None,
    commit: str | None = None,
    exclude: Sequence[str] = (),
) -> GeneratedSbom:
    inventory = read_inventory(path, exclude=exclude)
    if inventory.problems:
        return GeneratedSbom(inventory, None, [str(problem) for problem in inventory.problems])
    document = build_bom(
        inventory.packages, component_ref=component_ref, version=version, commit=commit
    )
    errors = schema_errors(document)
    if errors:
        return GeneratedSbom(
            inventory, None, [f"the SBOM fails the CycloneDX 1.6 schema: {e}" for e in errors]
        )
    return GeneratedSbom(inventory, document, [])
