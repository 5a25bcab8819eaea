"""Templates from the catalog: read from the file their location read (file, directory and git
locations), refused when unknown or not readable, and refused at registration when a step
names an action nobody installed or a parameter page is not JSON Schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from pavedroad.catalog import service as catalog_service
from pavedroad.catalog.hooks import EntityProcessor
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.runtime import Runtime
from pavedroad.scaffolder import engine
from pavedroad.scaffolder.engine.registration import TemplateActionsProcessor
from tests.conftest import git
from tests.helpers import component, write_entities
from tests.scaffolder.test_engine_support import TESTER, one_step, template, write_template

STEPS = [one_step("fetch:template", {"url": "./skeleton"}, "fetch")]


def register(session: Session, runtime: Runtime, type_: str, target: str) -> None:
    catalog_service.register_locations(session, runtime.catalog, [(type_, target)], actor=TESTER)
    session.commit()


def errors(session: Session) -> list[tuple[str | None, str, str | None, str]]:
    return [
        (e.field, e.category, e.entity_ref, e.hint) for e in catalog_service.list_errors(session)
    ]


class TestLoadTemplate:
    def test_a_file_location_gives_the_templates_folder_and_version(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        folder = write_template(
            tmp_path / "templates" / "svc",
            template(STEPS, name="svc"),
            {"skeleton/README.md": "hi"},
        )
        register(session, runtime, "file", str(folder / "template.yaml"))
        source = engine.load_template(runtime, session, "template:default/svc")
        assert source.ref == "template:default/svc"
        assert source.directory == folder.resolve()
        assert source.entity["spec"]["steps"] == STEPS
        assert source.version == engine.template_from_directory(folder).version
        assert engine.load_template(runtime, session, "svc").ref == source.ref  # kind defaults

    def test_a_directory_location_finds_the_template_below_it(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        folder = write_template(
            tmp_path / "repo" / "templates" / "svc", template(STEPS, name="svc")
        )
        (folder / "template.yaml").rename(folder / "catalog-info.yaml")
        register(session, runtime, "dir", str(tmp_path / "repo"))
        assert engine.load_template(runtime, session, "svc").directory == folder.resolve()

    def test_a_git_location_reads_the_catalogs_checkout(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        repository = write_template(
            tmp_path / "origin", template(STEPS, name="svc"), {"skeleton/a.txt": "a"}
        )
        git("init", "--quiet", "-b", "main", cwd=repository)
        git("add", ".", cwd=repository)
        git("commit", "--quiet", "-m", "template", cwd=repository)
        register(session, runtime, "git", f"{repository.as_uri()}#template.yaml")
        source = engine.load_template(runtime, session, "svc")
        assert source.directory.is_relative_to(runtime.settings.data_dir.resolve())
        assert (source.directory / "skeleton" / "a.txt").read_text() == "a"

    def test_unknown_refs_and_other_kinds_are_not_found(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        register(
            session, runtime, "file", str(write_entities(tmp_path / "c.yaml", component("ledger")))
        )
        with pytest.raises(NotFoundError, match="No template template:default/nope"):
            engine.load_template(runtime, session, "nope")
        with pytest.raises(NotFoundError, match="is a Component, not a Template"):
            engine.load_template(runtime, session, "component:default/ledger")

    def test_files_gone_since_registration_are_explained(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        folder = write_template(tmp_path / "svc", template(STEPS, name="svc"))
        register(session, runtime, "file", str(folder / "template.yaml"))
        (folder / "template.yaml").unlink()
        with pytest.raises(InputError, match="not readable"):
            engine.load_template(runtime, session, "svc")


class TestVersion:
    def test_the_version_changes_with_any_file_and_only_then(self, tmp_path: Path) -> None:
        folder = write_template(tmp_path / "svc", template(STEPS), {"skeleton/a.txt": "a"})
        first = engine.template_from_directory(folder).version
        assert engine.template_from_directory(folder).version == first
        (folder / "skeleton" / "a.txt").write_text("b")
        assert engine.template_from_directory(folder).version != first


class TestRegistrationCheck:
    def test_an_unknown_action_is_refused_with_the_field_and_close_names(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        steps = [
            *STEPS,
            one_step("fetch:plain", {"url": "./x"}, "plain"),
            one_step("publish:gitub", {"repoUrl": "x"}, "publish"),
        ]
        folder = write_template(tmp_path / "svc", template(steps, name="svc"))
        register(session, runtime, "file", str(folder / "template.yaml"))
        [(field, category, ref, hint)] = errors(session)
        assert (field, category, ref) == (
            "spec.steps[2].action",
            "scaffolder:unknown-action",
            "template:default/svc",
        )
        assert "publish:github" in hint and "publish:git" in hint
        with pytest.raises(NotFoundError):
            engine.load_template(runtime, session, "svc")

    def test_an_invalid_parameter_schema_is_refused(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        parameters = [{"properties": {"name": {"type": "text"}}}]
        folder = write_template(tmp_path / "svc", template(STEPS, parameters=parameters))
        register(session, runtime, "file", str(folder / "template.yaml"))
        [(field, category, _, _)] = errors(session)
        assert (field, category) == (
            "spec.parameters[0].properties.name.type",
            "scaffolder:invalid-parameter-schema",
        )

    def test_a_good_template_is_ingested_with_its_owner(
        self, runtime: Runtime, session: Session, tmp_path: Path
    ) -> None:
        folder = write_template(tmp_path / "svc", template(STEPS, name="svc"))
        [result] = catalog_service.register_locations(
            session, runtime.catalog, [("file", str(folder / "template.yaml"))], actor=TESTER
        )
        assert result.report.errors == [] and result.report.entity_refs == ["template:default/svc"]

    def test_the_processor_knows_every_installed_action_and_keeps_the_contract(
        self, runtime: Runtime
    ) -> None:
        [processor] = [
            p
            for p in runtime.catalog.pipeline.processors
            if isinstance(p, TemplateActionsProcessor)
        ]
        assert isinstance(processor, EntityProcessor)
        assert processor.action_ids == set(runtime.scaffolder_actions)
        assert processor.validate(component("x")) is None
        assert list(processor.relations(component("x"), "component:default/x")) == []
