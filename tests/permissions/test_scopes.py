"""Token scopes: a permission outside them is denied whatever the policy says; a service token,
having no identity, is decided by its scopes alone."""

from __future__ import annotations

from dataclasses import replace

from pavedroad.identity.schemas import Principal
from pavedroad.permissions import Result
from tests.permissions.conftest import ADMIN, DEVELOPER, Organisation

OURS = "component:default/order-service"
THEIRS = "component:default/payment-service"


class TestPersonalTokens:
    def test_a_permission_outside_the_scopes_is_denied_naming_them(self, org: Organisation) -> None:
        token = replace(org.principal(ADMIN), method="token", scopes=("catalog.*",))
        decision = org.runtime.permissions.decide(token, "secret.read")
        assert (decision.result, decision.rule) == (Result.DENY, "token-scopes")
        assert decision.explanation == (
            "Denied: the token's scopes (catalog.*) do not include secret.read"
        )

    def test_within_the_scopes_the_policy_still_decides(self, org: Organisation) -> None:
        token = replace(org.principal(DEVELOPER), method="token", scopes=("catalog.entity.*",))
        engine = org.runtime.permissions
        assert engine.decide(token, "catalog.entity.delete", org.entity(OURS)).allowed
        refused = engine.decide(token, "catalog.entity.delete", org.entity(THEIRS))
        assert (refused.result, refused.rule) == (Result.DENY, "default")
        assert engine.decide(token, "catalog.entity.delete").result is Result.CONDITIONAL

    def test_the_trace_starts_with_the_scopes(self, org: Organisation) -> None:
        token = replace(org.principal(DEVELOPER), method="token", scopes=("catalog.*", "audit.*"))
        steps = org.runtime.permissions.explain(token, "catalog.entity.read")
        assert steps[0] == "token scopes (catalog.*, audit.*): include catalog.entity.read"

    def test_empty_scopes_allow_nothing(self, org: Organisation) -> None:
        token = replace(org.principal(ADMIN), method="token", scopes=())
        decision = org.runtime.permissions.decide(token, "catalog.entity.read")
        assert decision.explanation == (
            "Denied: the token's scopes (none) do not include catalog.entity.read"
        )


class TestServiceTokens:
    def test_a_service_token_may_do_what_its_scopes_name_and_nothing_else(
        self, org: Organisation
    ) -> None:
        ci = Principal("service:ci", "token", None, scopes=("deployment.trigger",))
        engine = org.runtime.permissions
        production = {"environment": "production", "component": OURS}
        allowed = engine.decide(ci, "deployment.trigger", production)
        assert (allowed.result, allowed.rule) == (Result.ALLOW, "token-scopes")
        assert engine.decide(ci, "secret.read").result is Result.DENY

    def test_a_principal_with_neither_identity_nor_scopes_is_denied(
        self, org: Organisation
    ) -> None:
        stranger = Principal("service:unknown", "token", None)
        decision = org.runtime.permissions.decide(stranger, "catalog.entity.read")
        assert decision.result is Result.DENY

    def test_the_platform_itself_is_allowed(self, org: Organisation) -> None:
        system = Principal("system:scheduler", "system", None)
        assert org.runtime.permissions.decide(system, "catalog.location.refresh").allowed
