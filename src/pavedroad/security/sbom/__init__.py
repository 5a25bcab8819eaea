"""SBOMs: lockfiles of Python, JavaScript, Java and Go read into packages with purls, a
CycloneDX 1.6 document checked against the schema, and each component's SBOMs stored."""

from pavedroad.security.sbom.discovery import find_lockfiles, read_inventory
from pavedroad.security.sbom.document import (
    InvalidSbomError,
    build_bom,
    check_bom,
    packages_of_bom,
    schema_errors,
)
from pavedroad.security.sbom.generate import GeneratedSbom, generate_sbom
from pavedroad.security.sbom.packages import (
    Inventory,
    LockedPackage,
    LockfileProblem,
    LockfileRead,
    Unpinned,
)
from pavedroad.security.sbom.service import latest_sbom, sboms_of, store_sbom

__all__ = [
    "GeneratedSbom",
    "InvalidSbomError",
    "Inventory",
    "LockedPackage",
    "LockfileProblem",
    "LockfileRead",
    "Unpinned",
    "build_bom",
    "check_bom",
    "find_lockfiles",
    "generate_sbom",
    "latest_sbom",
    "packages_of_bom",
    "read_inventory",
    "sboms_of",
    "schema_errors",
    "store_sbom",
]
