"""Package URLs (``pkg:pypi/django@2.2.0``) and OSV ecosystems: one package, two spellings."""

from __future__ import annotations

from packageurl import PackageURL

from pavedroad.core.errors import InputError

_ECOSYSTEM_OF_TYPE = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "maven": "Maven",
    "cargo": "crates.io",
}
_TYPE_OF_ECOSYSTEM = {ecosystem: type_ for type_, ecosystem in _ECOSYSTEM_OF_TYPE.items()}


def ecosystem_of_purl(purl: str) -> tuple[str, str, str | None]:
    """``(ecosystem, OSV package name, version)`` of a package URL."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError as error:
        raise InputError(f"{purl!r} is not a package URL: {error}") from None
    ecosystem = _ECOSYSTEM_OF_TYPE.get(parsed.type)
    if ecosystem is None:
        raise InputError(
            f"{purl!r}: package type {parsed.type!r} is not supported "
            f"(supported: {', '.join(_ECOSYSTEM_OF_TYPE)})"
        )
    return ecosystem, osv_name(ecosystem, parsed.namespace, parsed.name), parsed.version


def osv_name(ecosystem: str, namespace: str | None, name: str) -> str:
    """How OSV names a package: ``group:artifact`` for Maven, ``@scope/name`` for npm, the
    module path for Go."""
    if not namespace:
        return name
    if ecosystem == "Maven":
        return f"{namespace}:{name}"
    return f"{namespace}/{name}"


def purl_of(ecosystem: str, name: str, version: str | None) -> str:
    """The package URL of an OSV package name at a version."""
    type_ = _TYPE_OF_ECOSYSTEM[ecosystem]
    namespace: str | None = None
    if ecosystem == "Maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif ecosystem in ("npm", "Go") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    return str(PackageURL(type=type_, namespace=namespace, name=name, version=version))
