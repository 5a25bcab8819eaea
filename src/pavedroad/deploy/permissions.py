"""What deployments ask of the permission policy (``deployment.trigger`` is declared with the
built-in rules, since the default policy's environment rules are about it)."""

from __future__ import annotations

from pavedroad.permissions import Permission, declare

TRIGGER = "deployment.trigger"  # resource: {environment, component}; also rollbacks
READ = "deployment.read"
MANAGE_FREEZES = "deployment.freeze.manage"

declare(
    # About deployments too, so a policy may say "deployment.*" with environment_is.
    Permission(
        READ, "See deployments, their health analysis and DORA metrics.", resource_type="deployment"
    ),
    Permission(MANAGE_FREEZES, "Add or lift deploy freeze windows.", resource_type="deployment"),
)
