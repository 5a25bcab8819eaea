"""The platform's own permissions and rules, for domains that do not exist yet as packages
(scaffolder, deployments, secrets, audit, identity), and the rule every policy needs:
``user_in_group``."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.registry import Permission, ResourceType, declare
from pavedroad.permissions.rules import LowerStrings, Resource, Rule, RuleParams

ADMINS = "admins"

declare(
    ResourceType(
        "deployment",
        "A deployment of a component to an environment: {environment, component}.",
    ),
    Permission("scaffolder.template.run", "Run a software template to create something new."),
    Permission(
        "deployment.trigger", "Deploy a component to an environment.", resource_type="deployment"
    ),
    Permission("secret.read", "Read the value of a stored secret."),
    Permission("audit.read", "Read the audit log."),
    Permission("audit.export", "Export the audit log as a file."),
    Permission("identity.self.read", "See your own profile, groups, tokens and sessions."),
    Permission("identity.token.create", "Create a personal API token that acts as yourself."),
    Permission(
        "identity.service-token.create", "Create a service token that acts as an automation."
    ),
    Permission("identity.token.revoke", "Revoke one of your own API tokens."),
    Permission("identity.session.revoke", "Sign out one of your own sessions."),
    Permission(
        "identity.account.manage", "Create, lock, unlock and remove local sign-in accounts."
    ),
    Permission("api.docs.read", "Read the OpenAPI description of the API and its docs page."),
    Permission("permissions.explain", "Ask why someone else may or may not do something."),
)


class GroupParams(RuleParams):
    refs: LowerStrings


class UserInGroup(Rule[GroupParams]):
    """The principal is, or belongs to, one of the refs (fnmatch patterns allowed).

    Matched against the principal's ownership refs: the user and every group they are in,
    through parent groups too. ``admins`` stands for ``permissions.admins`` in the settings.
    """

    name = "user_in_group"
    description = "The user is, or is a member of, one of these refs (patterns allowed)."
    params_model = GroupParams
    shorthand = "refs"
    examples = ("admins", "group:*/*team-lead*", ["group:default/team-a", "user:default/x"])

    def __init__(self, admins: Sequence[str] = ()) -> None:
        self.admins = tuple(ref.lower() for ref in admins)

    def patterns(self, params: GroupParams) -> tuple[str, ...]:
        return tuple(
            ref for given in params.refs for ref in (self.admins if given == ADMINS else (given,))
        )

    def matches(self, params: GroupParams, principal: Principal) -> list[str]:
        patterns = self.patterns(params)
        return [
            ref
            for ref in (r.lower() for r in principal.ownership_refs)
            if any(fnmatchcase(ref, pattern) for pattern in patterns)
        ]

    def apply(self, resource: Resource, params: GroupParams, principal: Principal) -> bool:
        return bool(self.matches(params, principal))

    def reason(
        self, resource: Resource, params: GroupParams, principal: Principal, matched: bool
    ) -> str:
        if matched:
            ref = self.matches(params, principal)[0]
            return f"you are {ref}" if ref == principal.ref.lower() else f"you are in {ref}"
        return f"applies only to members of {_named(params.refs, self.admins)}"


def _named(refs: tuple[str, ...], admins: tuple[str, ...]) -> str:
    words = [f"admins ({', '.join(admins) or 'none set'})" if r == ADMINS else r for r in refs]
    return " or ".join(words)


class EnvironmentParams(RuleParams):
    environments: LowerStrings


class EnvironmentIs(Rule[EnvironmentParams]):
    """The deployment goes to one of these environments (no table yet: checked per resource)."""

    name = "environment_is"
    description = "The deployment's environment is one of these names."
    resource_type = "deployment"
    params_model = EnvironmentParams
    shorthand = "environments"
    examples = ("dev", ["staging", "production"])

    def apply(self, resource: Resource, params: EnvironmentParams, principal: Principal) -> bool:
        return str(resource.get("environment", "")).lower() in params.environments

    def reason(
        self, resource: Resource, params: EnvironmentParams, principal: Principal, matched: bool
    ) -> str:
        if matched:
            return f"the environment is {str(resource.get('environment')).lower()}"
        return f"applies only to deployments to {' or '.join(params.environments)}"


class BuiltinPermissionRules:
    """The built-in rules, registered through the same hook as any plugin's rules."""

    @hookimpl
    def pavedroad_permission_rules(self, settings: Settings) -> Sequence[Rule[Any]]:
        return [UserInGroup(settings.permissions.admins), EnvironmentIs()]
