"""The contract every rule keeps: ``apply`` on each resource and ``to_sql`` over the table select
the same resources, for every example parameter set and several people, on the demo catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pavedroad import demo
from pavedroad.catalog import service
from pavedroad.catalog.models import Entity, Location, StitchedRelations
from pavedroad.catalog.permission_rules import location_resource
from pavedroad.core.actors import Actor
from pavedroad.identity.resolution import resolve_identity
from pavedroad.identity.schemas import Principal
from pavedroad.permissions import Rule, get_resource_type
from pavedroad.runtime import Runtime
from tests.helpers import component, write_entities

PEOPLE = [
    "user:default/esi.mensah",  # team-checkout, team-leads, up to fernhollow
    "user:default/ingrid.solberg",  # the organisation's top group only
    "user:default/lukas.brandt",  # team-developer-experience
    "user:default/nobody.at.all",  # not in the catalog: owns only what names them
]
REGISTRANT = "user:default/esi.mensah"

Resources = dict[str, dict[str, Any]]


def entities(session: Session) -> tuple[Resources, Select[Any]]:
    rows = session.execute(
        select(Entity.ref, Entity.body, StitchedRelations.relations).outerjoin(
            StitchedRelations, StitchedRelations.entity_id == Entity.id
        )
    )
    found = {}
    for ref, body, relations in rows:
        entity = orjson.loads(body)
        entity["relations"] = orjson.loads(relations or "[]")
        found[ref] = entity
    return found, select(Entity.ref)


def locations(session: Session) -> tuple[Resources, Select[Any]]:
    found = {loc.id: location_resource(loc) for loc in session.scalars(select(Location))}
    return found, select(Location.id)


# The resource types kept in tables: all their resources as the rules read them, and the
# statement selecting their keys. A table-backed rule of any other type fails the contract.
TABLES = {"catalog-entity": entities, "catalog-location": locations}


@pytest.fixture
def demo_catalog(runtime: Runtime, session: Session, tmp_path: Path) -> Session:
    demo.load(session, runtime.catalog)
    extra = write_entities(tmp_path / "catalog-info.yaml", component("esis-experiment"))
    service.register_locations(
        session, runtime.catalog, [("file", str(extra))], actor=Actor(REGISTRANT)
    )
    session.commit()
    return session


def rules_with_sql(runtime: Runtime) -> list[Rule[Any]]:
    return [rule for rule in runtime.permissions.rules if rule.has_sql]


def test_every_rule_declares_examples_and_a_known_resource_type(runtime: Runtime) -> None:
    for rule in runtime.permissions.rules:
        assert rule.examples, f"{rule.name} has no examples for this contract"
        for example in rule.examples:
            rule.parse_params(example)
        if rule.resource_type is None:
            assert not rule.has_sql, f"{rule.name} is about the user: it has no table"
        else:
            get_resource_type(rule.resource_type)
        if rule.has_sql:
            assert rule.resource_type in TABLES, f"{rule.name}: add its table to TABLES"


def test_apply_and_to_sql_select_the_same_resources(
    runtime: Runtime, demo_catalog: Session
) -> None:
    session = demo_catalog
    principals = [Principal(ref, "session", resolve_identity(session, ref)) for ref in PEOPLE]
    checked = 0
    for rule in rules_with_sql(runtime):
        assert rule.resource_type is not None
        resources, keys = TABLES[rule.resource_type](session)
        for example in rule.examples:
            params = rule.parse_params(example)
            for principal in principals:
                by_sql = set(session.scalars(keys.where(rule.to_sql(params, principal))))
                by_apply = {
                    key
                    for key, resource in resources.items()
                    if rule.apply(resource, params, principal)
                }
                assert by_sql == by_apply, (rule.name, example, principal.ref)
                checked += 1
    assert {rule.name for rule in rules_with_sql(runtime)} >= {
        "is_entity_owner",
        "has_annotation",
        "is_entity_kind",
        "is_registrant",
    }
    assert checked == sum(len(r.examples) for r in rules_with_sql(runtime)) * len(PEOPLE)


def test_the_examples_tell_resources_apart(runtime: Runtime, demo_catalog: Session) -> None:
    """A contract over examples that select everything or nothing would prove little."""
    esi = Principal(REGISTRANT, "session", resolve_identity(demo_catalog, REGISTRANT))
    for rule in rules_with_sql(runtime):
        assert rule.resource_type is not None
        resources, keys = TABLES[rule.resource_type](demo_catalog)
        sizes = {
            len(demo_catalog.scalars(keys.where(rule.to_sql(rule.parse_params(e), esi))).all())
            for e in rule.examples
        }
        assert any(0 < size < len(resources) for size in sizes), rule.name
