"""Vulnerability advisories, imported offline from OSV records, and matching packages to them."""

from pavedroad.security.advisories.importer import ImportReport, import_advisories
from pavedroad.security.advisories.matching import PackageVersion, Vulnerability, vulnerabilities_of

__all__ = [
    "ImportReport",
    "PackageVersion",
    "Vulnerability",
    "import_advisories",
    "vulnerabilities_of",
]
