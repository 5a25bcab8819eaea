"""What security asks of the permission policy."""

from __future__ import annotations

from pavedroad.permissions import Permission, declare

READ_ADVISORIES = "security.advisory.read"
IMPORT_ADVISORIES = "security.advisory.import"

declare(
    Permission(READ_ADVISORIES, "See advisories and which package versions they affect."),
    Permission(IMPORT_ADVISORIES, "Import OSV advisory records into the platform."),
)

READ_GATE = "security.gate.read"
READ_EXCEPTIONS = "security.exception.read"
GRANT_EXCEPTION = "security.exception.create"
REVOKE_EXCEPTION = "security.exception.revoke"

declare(
    Permission(READ_GATE, "See the security gate's decisions: what blocks a commit and why."),
    Permission(READ_EXCEPTIONS, "See the exceptions granted to the security policy."),
    Permission(GRANT_EXCEPTION, "Accept a finding of a component until a date, with a reason."),
    Permission(REVOKE_EXCEPTION, "Revoke an exception to the security policy."),
)

READ_IMPACT = "security.impact.read"

declare(
    Permission(READ_IMPACT, "Ask which components an advisory or a package affects."),
)

READ_SBOM = "security.sbom.read"

declare(
    Permission(READ_SBOM, "See and download the SBOMs of the components one may see."),
)
