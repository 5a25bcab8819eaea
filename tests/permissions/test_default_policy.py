"""The default policy, case by case, as the organisations' guide describes it."""

from __future__ import annotations

from typing import Any

import pytest

from pavedroad.permissions import Result
from tests.permissions.conftest import (
    ADMIN,
    APP_OWNER,
    AUDITOR,
    DEVELOPER,
    PAYMENTS_DEVELOPER,
    TEAM_LEAD,
    Organisation,
)

OURS = "component:default/order-service"  # owned by team-checkout
THEIRS = "component:default/payment-service"  # owned by team-payments
DANAS = "component:default/dana-scratch"  # owned by dev.dana herself

Target = tuple[str, str] | None


def deploy(environment: str) -> Target:
    return ("deployment", environment)


def entity(ref: str) -> Target:
    return ("entity", ref)


def location_of(registrant: str) -> Target:
    return ("location", registrant)


CASES: list[tuple[str, str, Target, bool]] = [
    # admins may do everything
    (ADMIN, "deployment.trigger", deploy("production"), True),
    (ADMIN, "catalog.entity.delete", entity(THEIRS), True),
    (ADMIN, "secret.read", None, True),
    (ADMIN, "identity.account.manage", None, True),
    (ADMIN, "permissions.explain", None, True),
    # anyone deploys to dev, team leads to staging, application owners to production
    (DEVELOPER, "deployment.trigger", deploy("dev"), True),
    (DEVELOPER, "deployment.trigger", deploy("staging"), False),
    (DEVELOPER, "deployment.trigger", deploy("production"), False),
    (TEAM_LEAD, "deployment.trigger", deploy("dev"), True),
    (TEAM_LEAD, "deployment.trigger", deploy("staging"), True),
    (TEAM_LEAD, "deployment.trigger", deploy("production"), False),
    (APP_OWNER, "deployment.trigger", deploy("production"), True),
    (APP_OWNER, "deployment.trigger", deploy("staging"), False),
    (AUDITOR, "deployment.trigger", deploy("qa"), False),
    # everyone reads the catalog and its locations
    (DEVELOPER, "catalog.entity.read", entity(THEIRS), True),
    (AUDITOR, "catalog.entity.read", entity(OURS), True),
    (PAYMENTS_DEVELOPER, "catalog.location.read", location_of(DEVELOPER), True),
    # owners refresh and delete what they own, through a group or themselves
    (DEVELOPER, "catalog.entity.delete", entity(OURS), True),
    (DEVELOPER, "catalog.entity.refresh", entity(OURS), True),
    (DEVELOPER, "catalog.entity.delete", entity(DANAS), True),
    (DEVELOPER, "catalog.entity.delete", entity(THEIRS), False),
    (DEVELOPER, "catalog.entity.refresh", entity(THEIRS), False),
    (PAYMENTS_DEVELOPER, "catalog.entity.delete", entity(THEIRS), True),
    (PAYMENTS_DEVELOPER, "catalog.entity.delete", entity(OURS), False),
    # whoever registered a location refreshes or unregisters it
    (DEVELOPER, "catalog.location.delete", location_of(DEVELOPER), True),
    (DEVELOPER, "catalog.location.refresh", location_of(DEVELOPER), True),
    (DEVELOPER, "catalog.location.delete", location_of(TEAM_LEAD), False),
    (TEAM_LEAD, "catalog.location.refresh", location_of(TEAM_LEAD), True),
    # everyone registers locations, stars, runs templates, manages their own tokens and sessions
    (DEVELOPER, "catalog.location.create", None, True),
    (AUDITOR, "catalog.entity.star", entity(THEIRS), True),
    (DEVELOPER, "scaffolder.template.run", None, True),
    (DEVELOPER, "identity.self.read", None, True),
    (DEVELOPER, "identity.token.create", None, True),
    (DEVELOPER, "identity.token.revoke", None, True),
    (DEVELOPER, "identity.session.revoke", None, True),
    # auditors read and export the audit log; nobody else but admins
    (AUDITOR, "audit.read", None, True),
    (AUDITOR, "audit.export", None, True),
    (DEVELOPER, "audit.read", None, False),
    (TEAM_LEAD, "audit.export", None, False),
    # everything else is denied
    (DEVELOPER, "secret.read", None, False),
    (AUDITOR, "secret.read", None, False),
    (APP_OWNER, "secret.read", None, False),
    (DEVELOPER, "identity.service-token.create", None, False),
    (TEAM_LEAD, "identity.account.manage", None, False),
    (DEVELOPER, "permissions.explain", None, False),
]


def _resource(org: Organisation, target: Target) -> dict[str, Any] | None:
    if target is None:
        return None
    kind, value = target
    if kind == "deployment":
        return {"environment": value, "component": OURS}
    if kind == "entity":
        return org.entity(value)
    return org.location(value)


def _case_id(case: tuple[str, str, Target, bool]) -> str:
    who, permission, target, allowed = case
    on = f"-{target[1].split('/')[-1]}" if target else ""
    return f"{who.split('/')[-1]}-{permission}{on}-{'allowed' if allowed else 'denied'}"


@pytest.mark.parametrize(
    ("who", "permission", "target", "allowed"),
    [pytest.param(*case, id=_case_id(case)) for case in CASES],
)
def test_the_default_policy(
    org: Organisation, who: str, permission: str, target: Target, allowed: bool
) -> None:
    decision = org.runtime.permissions.decide(
        org.principal(who), permission, _resource(org, target)
    )
    assert decision.result is (Result.ALLOW if allowed else Result.DENY), decision.explanation


class TestExplanations:
    def test_an_owner_is_told_which_group_makes_them_one(self, org: Organisation) -> None:
        decision = org.runtime.permissions.decide(
            org.principal(DEVELOPER), "catalog.entity.delete", org.entity(OURS)
        )
        assert decision.rule == "owners-edit-what-they-own"
        assert decision.explanation == (
            "Allowed by rule 'owners-edit-what-they-own': "
            "you own it through group:default/team-checkout"
        )

    def test_a_refusal_names_the_resource_the_user_and_who_owns_it(self, org: Organisation) -> None:
        decision = org.runtime.permissions.decide(
            org.principal(DEVELOPER), "catalog.entity.delete", org.entity(THEIRS)
        )
        assert decision.rule == "default"
        assert decision.explanation == (
            "Denied: no rule allows catalog.entity.delete on component:default/payment-service "
            "to user:default/dev.dana; rule 'owners-edit-what-they-own' applies only to its "
            "owners (group:default/team-payments)"
        )

    def test_a_deployment_refusal_is_decided_by_the_rule_that_stops_everyone_else(
        self, org: Organisation
    ) -> None:
        decision = org.runtime.permissions.decide(
            org.principal(TEAM_LEAD), "deployment.trigger", {"environment": "production"}
        )
        assert (decision.result, decision.rule) == (Result.DENY, "no-one-else-deploys")

    def test_the_trace_names_every_rule_and_the_default(self, org: Organisation) -> None:
        steps = org.runtime.permissions.explain(
            org.principal(TEAM_LEAD), "deployment.trigger", {"environment": "staging"}
        )
        assert steps[0].startswith("policy: ") and steps[0].endswith("default_policy.yaml")
        assert steps[1] == (
            "rule 1 'admins-may-do-everything' (allow *): does not match (applies only to "
            "members of admins (group:default/admins, user:default/tester))"
        )
        assert steps[2].endswith("does not match (applies only to deployments to dev)")
        assert steps[3].endswith(
            "matches (the environment is staging and you are in "
            "group:default/checkout-team-leads) — decides allow"
        )
        assert steps[4].endswith("not reached (an earlier rule decided)")
        assert "not about deployment.trigger" in steps[6]
        assert steps[-2] == "default: deny"
        assert steps[-1].startswith("decision: Allowed by rule 'team-leads-deploy-to-staging'")
