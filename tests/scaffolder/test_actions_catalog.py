"""catalog:write, catalog:fetch and catalog:register against a real catalog (SQLite and
PostgreSQL): a registration made by a run is the actor's, audited, and nothing is registered by
a dry run or by a run that failed before its register step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from pavedroad.audit.models import AuditEvent
from pavedroad.catalog import service as catalog_service
from pavedroad.catalog.models import Entity, Location
from pavedroad.runtime import Runtime
from tests.helpers import component, group, write_entities
from tests.scaffolder.test_engine_support import (
    TESTER,
    Run,
    one_step,
    run,
    template,
    write_template,
)

SKELETON = {
    "skeleton/catalog-info.yaml": """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: ${{ values.name }}
        spec: {type: service, lifecycle: experimental, owner: team-a}
        """,
}


def steps_to_register(repository: str) -> list[dict[str, Any]]:
    return [
        one_step(
            "fetch:template",
            {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}},
            "fetch",
        ),
        one_step("publish:git", {"repoUrl": repository}, "publish"),
        one_step(
            "catalog:register",
            {
                "repoContentsUrl": "${{ steps.publish.output.repoContentsUrl }}",
                "catalogInfoPath": "/catalog-info.yaml",
            },
            "register",
        ),
    ]


OUTPUT = {
    "links": [{"title": "Open in catalog", "entityRef": "${{ steps.register.output.entityRef }}"}]
}
PARAMETERS = {"properties": {"name": {"type": "string"}}}


def entity_count(runtime: Runtime) -> int:
    with runtime.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Entity)) or 0


def location_count(runtime: Runtime) -> int:
    with runtime.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Location)) or 0


def scaffold(runtime: Runtime, tmp_path: Path, steps: list[dict[str, Any]], **options: Any) -> Run:
    folder = write_template(
        tmp_path / "template", template(steps, parameters=PARAMETERS, output=OUTPUT), SKELETON
    )
    return run(runtime, folder, {"name": "ledger"}, workspace=tmp_path / "workspace", **options)


class TestRegister:
    def test_a_new_repository_is_registered_as_the_runs_actor(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = (runtime.settings.resolved_repositories_root / "ledger.git").as_uri()
        done = scaffold(runtime, tmp_path, steps_to_register(repository))
        assert done.result.status == "completed", done.result.error
        assert done.result.output == {
            "links": [{"title": "Open in catalog", "entityRef": "component:default/ledger"}]
        }
        register = done.result.steps[-1].output
        assert register["catalogInfoUrl"] == f"{repository}#catalog-info.yaml"
        with runtime.db.read_session() as session:
            [location] = session.scalars(select(Location)).all()
            assert (location.type, location.target) == ("git", f"{repository}#catalog-info.yaml")
            assert location.created_by == TESTER.ref
            assert session.scalar(select(Entity.ref)) == "component:default/ledger"
            audited = session.scalars(
                select(AuditEvent.actor).where(AuditEvent.event == "catalog.location.registered")
            ).all()
            assert audited == [TESTER.ref]

    def test_a_dry_run_registers_nothing(self, runtime: Runtime, tmp_path: Path) -> None:
        repository = (runtime.settings.resolved_repositories_root / "ledger.git").as_uri()
        done = scaffold(runtime, tmp_path, steps_to_register(repository), dry_run=True)
        assert done.statuses == {
            "fetch": "completed",
            "publish": "completed",
            "register": "skipped",
        }
        assert done.result.output == {"links": [{"title": "Open in catalog"}]}
        assert location_count(runtime) == 0
        assert not (runtime.settings.resolved_repositories_root / "ledger.git").exists()

    def test_a_run_failing_before_register_writes_nothing_into_the_catalog(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        outside = (tmp_path / "not-a-repository.git").as_uri()  # not under the root: refused
        done = scaffold(runtime, tmp_path, steps_to_register(outside))
        assert done.statuses == {"fetch": "completed", "publish": "failed"}
        assert entity_count(runtime) == 0 and location_count(runtime) == 0

    def test_an_invalid_descriptor_fails_the_step_and_stores_nothing(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = tmp_path / "workspace"
        workspace.mkdir()
        bad = component("Bad Name!")
        write_entities(workspace / "catalog-info.yaml", bad)
        steps = [
            one_step(
                "catalog:register",
                {"catalogInfoUrl": (workspace / "catalog-info.yaml").as_uri()},
                "register",
            )
        ]
        done = scaffold(runtime, tmp_path, steps)
        assert done.result.status == "failed"
        assert "the catalog refused" in str(done.result.error)
        assert location_count(runtime) == 0

    def test_registering_twice_fails_unless_optional(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "catalog-info.yaml", component("ledger"))
        step = one_step("catalog:register", {"catalogInfoUrl": path.as_uri()}, "register")
        assert scaffold(runtime, tmp_path, [step]).result.status == "completed"
        again = scaffold(runtime, tmp_path, [step])
        assert "already exists" in str(again.result.error)
        step["input"]["optional"] = True
        optional = scaffold(runtime, tmp_path, [step])
        assert optional.result.status == "completed", optional.result.error
        assert optional.result.steps[0].output["entityRef"] == "component:default/ledger"
        assert location_count(runtime) == 1

    def test_a_url_the_catalog_cannot_read_is_explained(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        step = one_step(
            "catalog:register",
            {"catalogInfoUrl": "https://github.com/acme/x/blob/main/catalog-info.yaml"},
        )
        done = scaffold(runtime, tmp_path, [step])
        assert "catalog:register cannot register" in str(done.result.error)
        assert "#catalog-info.yaml" in str(done.result.error)


class TestFetchAndWrite:
    def test_fetch_reads_entities_and_optional_ones_may_be_missing(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "org.yaml", group("team-a"))
        with runtime.db.session() as session:
            catalog_service.register_locations(
                session, runtime.catalog, [("file", str(path))], actor=TESTER
            )
        steps = [
            one_step("catalog:fetch", {"entityRef": "team-a", "defaultKind": "group"}, "one"),
            one_step(
                "catalog:fetch",
                {"entityRefs": ["group:team-a", "group:ghost"], "optional": True},
                "many",
            ),
            one_step(
                "debug:log",
                {
                    "message": "${{ steps.one.output.entity.metadata.name }} "
                    "${{ steps.many.output.entities | length }}"
                },
                "say",
            ),
            one_step("catalog:fetch", {"entityRef": "group:ghost"}, "strict"),
        ]
        done = scaffold(runtime, tmp_path, steps)
        assert ("say", "team-a 2") in done.events.lines
        assert done.result.steps[1].output["entities"][1] is None
        assert done.result.error == (
            "step 'strict' (catalog:fetch): group:default/ghost is not in the catalog — set "
            "optional: true to go on without it"
        )

    def test_write_adds_the_source_template(self, runtime: Runtime, tmp_path: Path) -> None:
        steps = [one_step("catalog:write", {"entity": component("${{ parameters.name }}")})]
        done = scaffold(runtime, tmp_path, steps)
        written = yaml.safe_load(done.read("catalog-info.yaml"))
        assert written["metadata"]["name"] == "ledger"
        assert written["metadata"]["annotations"] == {
            "backstage.io/source-template": "template:default/example"
        }
