"""Plugins add Python policies (asked before the policy file) and rules (used in it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ColumnElement, select

from pavedroad.catalog.models import Entity, EntitySearch
from pavedroad.config import Settings
from pavedroad.core.errors import ConflictError
from pavedroad.core.plugins import hookimpl
from pavedroad.identity.schemas import Principal
from pavedroad.permissions import (
    Decision,
    LowerStrings,
    NoParams,
    Permission,
    PermissionPolicy,
    Result,
    Rule,
    RuleCondition,
    RuleParams,
)
from pavedroad.permissions.engine import PolicyEngine
from tests.helpers import write
from tests.permissions.conftest import DEVELOPER, PAYMENTS_DEVELOPER, Organisation

LIFECYCLE_POLICY = """
rules:
  - name: production-is-everyones-to-refresh
    permissions: [catalog.entity.refresh]
    if: {is_lifecycle: production}
    decision: allow
default: deny
"""


class LifecycleParams(RuleParams):
    lifecycles: LowerStrings


class IsLifecycle(Rule[LifecycleParams]):
    name = "is_lifecycle"
    description = "The entity's spec.lifecycle is one of these."
    resource_type = "catalog-entity"
    params_model = LifecycleParams
    shorthand = "lifecycles"
    examples = ("production", ["experimental", "deprecated"])

    def apply(self, resource: Mapping[str, Any], params: LifecycleParams, principal: Any) -> bool:
        return str((resource.get("spec") or {}).get("lifecycle", "")).lower() in params.lifecycles

    def to_sql(self, params: LifecycleParams, principal: Principal) -> ColumnElement[bool]:
        rows = select(EntitySearch.entity_id).where(
            EntitySearch.key == "spec.lifecycle", EntitySearch.value.in_(params.lifecycles)
        )
        return Entity.id.in_(rows)


class OnCallReadsSecrets:
    """team-checkout is on call this week: it may read secrets; no opinion on anything else."""

    name = "on-call-reads-secrets"

    def decide(
        self, principal: Principal, permission: Permission, resource: Mapping[str, Any] | None
    ) -> Decision | None:
        if permission.name != "secret.read":
            return None
        if "group:default/team-checkout" not in principal.ownership_refs:
            return None
        return Decision.allow(permission.name, self.name, "Allowed: team-checkout is on call")


class ProductionStarsOnly:
    """Stars only on production entities: a conditional answer from Python."""

    name = "production-stars-only"

    def decide(
        self, principal: Principal, permission: Permission, resource: Mapping[str, Any] | None
    ) -> Decision | None:
        if permission.name != "catalog.entity.star":
            return None
        condition = RuleCondition(IsLifecycle(), LifecycleParams(lifecycles=("production",)))
        return Decision.conditional(permission.name, self.name, condition, principal)


class OnCallPlugin:
    @hookimpl
    def pavedroad_permission_policies(self, settings: Settings) -> Sequence[PermissionPolicy]:
        return [OnCallReadsSecrets(), ProductionStarsOnly()]

    @hookimpl
    def pavedroad_permission_rules(self, settings: Settings) -> Sequence[Rule[Any]]:
        return [IsLifecycle()]


class ImpostorOwner(Rule[NoParams]):
    name = "is_entity_owner"
    description = "Everyone owns everything."
    resource_type = "catalog-entity"
    params_model = NoParams

    def apply(self, resource: Mapping[str, Any], params: NoParams, principal: Any) -> bool:
        return True


class ClashingPlugin:
    @hookimpl
    def pavedroad_permission_rules(self, settings: Settings) -> Sequence[Rule[Any]]:
        return [ImpostorOwner()]


def engine_with(
    org: Organisation, settings: Settings, plugin: object, policy: Path | None = None
) -> PolicyEngine:
    org.runtime.plugins.register(plugin)
    permissions = settings.permissions.model_copy(update={"policy_file": policy})
    return PolicyEngine(
        settings.model_copy(update={"permissions": permissions}), plugins=org.runtime.plugins
    )


class TestPythonPolicies:
    def test_a_python_policy_decides_before_the_policy_file(
        self, org: Organisation, settings: Settings
    ) -> None:
        engine = engine_with(org, settings, OnCallPlugin())
        decision = engine.decide(org.principal(DEVELOPER), "secret.read")
        assert (decision.result, decision.rule) == (Result.ALLOW, "on-call-reads-secrets")
        assert "policy 'on-call-reads-secrets' decides: allow" in engine.explain(
            org.principal(DEVELOPER), "secret.read"
        )

    def test_without_an_opinion_the_policy_file_decides(
        self, org: Organisation, settings: Settings
    ) -> None:
        engine = engine_with(org, settings, OnCallPlugin())
        principal = org.principal(PAYMENTS_DEVELOPER)
        assert engine.decide(principal, "secret.read").result is Result.DENY
        steps = engine.explain(principal, "secret.read")
        assert steps[:2] == [
            "policy 'on-call-reads-secrets': no opinion",
            "policy 'production-stars-only': no opinion",
        ]

    def test_token_scopes_limit_what_a_python_policy_allows(
        self, org: Organisation, settings: Settings
    ) -> None:
        engine = engine_with(org, settings, OnCallPlugin())
        token = replace(org.principal(DEVELOPER), method="token", scopes=("catalog.*",))
        assert engine.decide(token, "secret.read").rule == "token-scopes"

    def test_a_conditional_answer_is_checked_on_the_resource_when_there_is_one(
        self, org: Organisation, settings: Settings
    ) -> None:
        engine = engine_with(org, settings, OnCallPlugin())
        principal = org.principal(DEVELOPER)
        listed = engine.decide(principal, "catalog.entity.star")
        assert listed.result is Result.CONDITIONAL
        assert listed.allows(org.entity("component:default/order-service"))
        one = engine.decide(principal, "catalog.entity.star", org.entity("group:default/admins"))
        assert one.result is Result.DENY
        assert one.explanation == (
            "Denied by policy rule 'production-stars-only': is_lifecycle(production) does not "
            "hold on group:default/admins"
        )

    def test_the_policies_satisfy_the_protocol(self) -> None:
        assert isinstance(OnCallReadsSecrets(), PermissionPolicy)
        assert isinstance(ProductionStarsOnly(), PermissionPolicy)


class TestPluginRules:
    def test_a_plugin_rule_can_be_used_in_the_policy_file_and_in_sql(
        self, org: Organisation, settings: Settings, tmp_path: Path
    ) -> None:
        path = write(tmp_path / "policy.yaml", LIFECYCLE_POLICY)
        engine = engine_with(org, settings, OnCallPlugin(), path)
        decision = engine.decide(org.principal(DEVELOPER), "catalog.entity.refresh")
        condition = decision.to_sql("catalog-entity")
        assert condition is not None
        rows = set(org.session.scalars(select(Entity.ref).where(condition)))
        every = org.session.scalars(select(Entity.ref)).all()
        assert rows == {ref for ref in every if decision.allows(org.entity(ref))}
        assert rows == {
            "component:default/order-service",
            "component:default/payment-service",
            "component:default/dana-scratch",
            "component:default/docs-site",
        }

    def test_two_different_rules_may_not_share_a_name(
        self, org: Organisation, settings: Settings
    ) -> None:
        with pytest.raises(ConflictError, match="two rules are named is_entity_owner"):
            engine_with(org, settings, ClashingPlugin())
