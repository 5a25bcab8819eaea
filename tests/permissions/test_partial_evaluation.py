"""Deciding without a resource: user rules at once, resource rules left as a condition that
``allows`` checks on one resource and ``to_sql`` applies to a whole list in the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, select

from pavedroad.catalog.models import Entity, Location
from pavedroad.config import Settings
from pavedroad.permissions import Decision, Result, RuleWithoutSqlError
from pavedroad.permissions.conditions import describe
from pavedroad.permissions.engine import PolicyEngine
from tests.helpers import write
from tests.permissions.conftest import (
    ADMIN,
    DEVELOPER,
    PAYMENTS_DEVELOPER,
    TEAM_LEAD,
    Organisation,
)

MIXED_POLICY = """
rules:
  - name: documentation-stays
    permissions: [catalog.entity.delete]
    if: {has_annotation: backstage.io/techdocs-ref}
    decision: deny
  - name: owners-or-payments-components
    permissions: [catalog.entity.delete]
    if:
      any:
        - is_entity_owner: {}
        - all:
            - user_in_group: "group:*/team-payments"
            - is_entity_kind: [component]
    decision: allow
default: deny
"""


def selected(org: Organisation, condition: ColumnElement[bool] | None) -> set[str]:
    statement = select(Entity.ref)
    if condition is not None:
        statement = statement.where(condition)
    return set(org.session.scalars(statement))


def allowed_one_by_one(org: Organisation, decision: Decision) -> set[str]:
    refs = org.session.scalars(select(Entity.ref)).all()
    return {ref for ref in refs if decision.allows(org.entity(ref))}


class TestConditionalDecisions:
    def test_a_developer_may_delete_only_what_they_own(self, org: Organisation) -> None:
        decision = org.runtime.permissions.decide(org.principal(DEVELOPER), "catalog.entity.delete")
        assert decision.result is Result.CONDITIONAL
        assert decision.rule == "owners-edit-what-they-own"
        assert decision.condition is not None and describe(decision.condition) == (
            "is_entity_owner"
        )
        rows = selected(org, decision.to_sql("catalog-entity"))
        assert rows == {"component:default/order-service", "component:default/dana-scratch"}
        assert rows == allowed_one_by_one(org, decision)

    def test_an_admin_is_allowed_outright_and_lists_are_not_filtered(
        self, org: Organisation
    ) -> None:
        decision = org.runtime.permissions.decide(org.principal(ADMIN), "catalog.entity.delete")
        assert decision.result is Result.ALLOW
        assert decision.to_sql("catalog-entity") is None

    def test_a_denied_list_selects_nothing(self, org: Organisation) -> None:
        decision = org.runtime.permissions.decide(org.principal(DEVELOPER), "secret.read")
        assert decision.result is Result.DENY
        assert selected(org, decision.to_sql("catalog-entity")) == set()

    def test_a_filtered_page_holds_the_first_allowed_rows(self, org: Organisation) -> None:
        decision = org.runtime.permissions.decide(
            org.principal(PAYMENTS_DEVELOPER), "catalog.entity.refresh"
        )
        condition = decision.to_sql("catalog-entity")
        assert condition is not None
        page = org.session.scalars(
            select(Entity.ref).where(condition).order_by(Entity.ref).limit(1)
        ).all()
        assert page == ["component:default/docs-site"]

    def test_locations_filter_on_who_registered_them(self, org: Organisation) -> None:
        decision = org.runtime.permissions.decide(
            org.principal(TEAM_LEAD), "catalog.location.delete"
        )
        condition = decision.to_sql("catalog-location")
        assert condition is not None
        ids = set(org.session.scalars(select(Location.id).where(condition)))
        assert ids == {org.locations[TEAM_LEAD]}

    def test_deployments_are_checked_one_by_one_having_no_table(self, org: Organisation) -> None:
        decision = org.runtime.permissions.decide(org.principal(TEAM_LEAD), "deployment.trigger")
        assert decision.result is Result.CONDITIONAL
        assert decision.condition is not None
        assert describe(decision.condition) == "environment_is(dev) or environment_is(staging)"
        assert decision.allows({"environment": "staging"})
        assert not decision.allows({"environment": "production"})
        assert not decision.allows(None)
        with pytest.raises(RuleWithoutSqlError):
            decision.to_sql("deployment")


class TestMixedConditions:
    @pytest.fixture
    def engine(self, org: Organisation, settings: Settings, tmp_path: Path) -> PolicyEngine:
        path = write(tmp_path / "policy.yaml", MIXED_POLICY)
        configured = settings.model_copy(
            update={"permissions": settings.permissions.model_copy(update={"policy_file": path})}
        )
        return PolicyEngine(configured, plugins=org.runtime.plugins)

    @pytest.mark.parametrize(
        ("who", "remaining"),
        [
            (
                PAYMENTS_DEVELOPER,
                "not has_annotation(backstage.io/techdocs-ref) and "
                "(is_entity_owner or is_entity_kind(component))",
            ),
            (DEVELOPER, "not has_annotation(backstage.io/techdocs-ref) and is_entity_owner"),
        ],
    )
    def test_user_rules_are_decided_and_the_rest_selects_what_apply_allows(
        self, org: Organisation, engine: PolicyEngine, who: str, remaining: str
    ) -> None:
        decision = engine.decide(org.principal(who), "catalog.entity.delete")
        assert decision.result is Result.CONDITIONAL
        assert decision.condition is not None and describe(decision.condition) == remaining
        rows = selected(org, decision.to_sql("catalog-entity"))
        assert rows == allowed_one_by_one(org, decision)
        assert "component:default/docs-site" not in rows
        assert "component:default/order-service" in rows

    def test_with_a_resource_the_answer_is_yes_or_no(
        self, org: Organisation, engine: PolicyEngine
    ) -> None:
        principal = org.principal(PAYMENTS_DEVELOPER)
        docs = engine.decide(principal, "catalog.entity.delete", org.entity("docs-site"))
        assert (docs.result, docs.rule) == (Result.DENY, "documentation-stays")
        assert docs.explanation == (
            "Denied by rule 'documentation-stays': it is annotated backstage.io/techdocs-ref"
        )
        other = engine.decide(principal, "catalog.entity.delete", org.entity("order-service"))
        assert other.result is Result.ALLOW
        assert other.explanation == (
            "Allowed by rule 'owners-or-payments-components': you are in "
            "group:default/team-payments and component:default/order-service is a component"
        )
