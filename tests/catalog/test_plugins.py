"""Plugins: a separately installed package adds a kind and an entity provider by entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.catalog.hooks import EntityProcessor, EntityProvider
from pavedroad.catalog.models import Entity, EntityRelation, IngestionError
from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime, build_runtime
from tests.helpers import group, write_entities

ACTOR = Actor("user:default/t")


def product(name: str, owner: str | None = "team-a", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**spec}
    if owner is not None:
        body["owner"] = owner
    return {
        "apiVersion": "example.com/v1",
        "kind": "Product",
        "metadata": {"name": name},
        "spec": body,
    }


def refs(session: Session) -> set[str]:
    return set(session.scalars(select(Entity.ref)))


@pytest.fixture
def hr_file(tmp_path: Path) -> Path:
    return write_entities(tmp_path / "hr.yaml", group("team-a"), group("team-b"))


@pytest.fixture
def with_provider(runtime: Runtime, settings: Settings, hr_file: Path) -> Runtime:
    configured = settings.model_copy(
        update={"plugin_settings": {"example-provider": {"path": str(hr_file)}}}
    )
    return build_runtime(configured, db=runtime.db)


def test_the_plugin_is_found_by_its_entry_point(runtime: Runtime) -> None:
    assert runtime.plugins.get_plugin("example-provider") is not None


def test_every_processor_and_provider_honours_its_contract(with_provider: Runtime) -> None:
    unknown = {
        "apiVersion": "nowhere.example/v9",
        "kind": "Gizmo",
        "metadata": {"name": "g"},
        "spec": {},
    }
    for processor in with_provider.catalog.pipeline.processors:
        assert isinstance(processor, EntityProcessor)
        assert processor.validate(unknown) is None
        assert list(processor.relations(unknown, "gizmo:default/g")) == []
    for provider in with_provider.catalog.providers:
        assert isinstance(provider, EntityProvider)
        assert all(isinstance(entity, dict) for entity in provider.read())


class TestCustomKind:
    def test_a_plugin_kind_is_validated_and_related(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "p.yaml", product("checkout-suite", components=["cart"]))
        [result] = service.register_locations(
            session, runtime.catalog, [("file", str(path))], actor=ACTOR
        )
        assert result.report.errors == []
        relations = set(
            session.execute(
                select(EntityRelation.source_ref, EntityRelation.type, EntityRelation.target_ref)
            ).all()
        )
        assert ("product:default/checkout-suite", "hasPart", "component:default/cart") in relations
        assert ("product:default/checkout-suite", "ownedBy", "group:default/team-a") in relations

    def test_the_plugins_rules_give_line_precise_errors(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "p.yaml", product("no-owner", owner=None))
        [result] = service.register_locations(
            session, runtime.catalog, [("file", str(path))], actor=ACTOR
        )
        [error] = result.report.errors
        assert error.message == "spec.owner is required for kind Product"
        assert error.line == 5  # the spec that lacks it

    def test_without_the_plugin_the_kind_is_not_allowed(
        self, session: Session, runtime: Runtime, settings: Settings, tmp_path: Path
    ) -> None:
        bare = build_runtime(
            settings.model_copy(update={"plugins_disabled": ["example-provider"]}), db=runtime.db
        )
        path = write_entities(tmp_path / "p.yaml", product("checkout-suite"))
        [result] = service.register_locations(
            session, bare.catalog, [("file", str(path))], actor=ACTOR
        )
        assert [e.category for e in result.report.errors] == ["kind-not-allowed-by-catalog-rules"]


class TestProvider:
    def test_a_provider_snapshot_replaces_its_previous_one(
        self, session: Session, with_provider: Runtime, hr_file: Path
    ) -> None:
        service.refresh_provider(session, with_provider.catalog, "example-hr", actor=ACTOR)
        assert refs(session) == {"group:default/team-a", "group:default/team-b"}
        write_entities(hr_file, group("team-a"), group("team-c"))
        report = service.refresh_provider(session, with_provider.catalog, "example-hr", actor=ACTOR)
        assert refs(session) == {"group:default/team-a", "group:default/team-c"}
        assert (report.created, report.deleted, report.unchanged) == (1, 1, 1)

    def test_one_invalid_entity_refuses_the_whole_snapshot_and_keeps_the_last_good_one(
        self, session: Session, with_provider: Runtime, hr_file: Path
    ) -> None:
        service.refresh_provider(session, with_provider.catalog, "example-hr", actor=ACTOR)
        bad = group("team-d")
        del bad["spec"]["type"]
        write_entities(hr_file, group("team-c"), bad)
        report = service.refresh_provider(session, with_provider.catalog, "example-hr", actor=ACTOR)
        assert refs(session) == {"group:default/team-a", "group:default/team-b"}
        [error] = session.scalars(select(IngestionError)).all()
        assert (error.provider, error.document_index, error.field) == ("example-hr", 1, "spec.type")
        assert report.created == report.deleted == 0

    def test_a_provider_cannot_take_an_entity_a_location_owns(
        self, session: Session, with_provider: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "teams.yaml", group("team-a"))
        service.register_locations(
            session, with_provider.catalog, [("file", str(path))], actor=ACTOR
        )
        report = service.refresh_provider(session, with_provider.catalog, "example-hr", actor=ACTOR)
        assert [p.category for p in report.errors] == ["conflict"]
        assert "team-b" in {ref.split("/")[1] for ref in refs(session)}

    def test_entities_from_a_provider_are_refreshed_through_their_provider(
        self, session: Session, with_provider: Runtime
    ) -> None:
        service.refresh_provider(session, with_provider.catalog, "example-hr", actor=ACTOR)
        write_entities(
            Path(with_provider.settings.plugin_settings["example-provider"]["path"]),
            group("team-a"),
        )
        assert (
            service.refresh_entity(session, with_provider.catalog, "group:team-a", actor=ACTOR)
            is None
        )
        assert refs(session) == {"group:default/team-a"}
