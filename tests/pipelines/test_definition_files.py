"""The pipeline file's published pieces: the JSON Schema in docs/, the golden skeletons'
pipelines (valid as generated), and ``pavedroad pipeline validate | schema``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.pipelines.cli_definition import schema_text, step_types
from pavedroad.pipelines.definition import load_pipeline, pipeline_json_schema
from pavedroad.pipelines.definition.loading import SHIPPED_GOLDEN
from pavedroad.pipelines.schemas import Pipeline, PipelineProblem
from pavedroad.scaffolder.engine.environment import template_environment
from pavedroad.scaffolder.engine.rendering import render_text
from tests.pipelines.definition_support import plain_settings

ROOT = Path(__file__).resolve().parents[2]
SKELETONS = ROOT / "src/pavedroad/scaffolder/golden"
SKELETON_PIPELINES = sorted(SKELETONS.glob("*/skeleton/.pavedroad/pipeline.yaml"))
VALUES = {"name": "energy-quotes", "owner": "group:default/team-a", "package": "energy_quotes"}


def rendered(path: Path) -> str:
    return render_text(template_environment(), path.read_text(), {"values": VALUES})


def load_rendered(path: Path, tmp_path: Path) -> tuple[Pipeline | None, list[PipelineProblem]]:
    """A skeleton's pipeline as generated, with the installed (built-in) step types."""
    settings = plain_settings(tmp_path)
    return load_pipeline(rendered(path), settings=settings, step_types=step_types(settings))


class TestTheJsonSchema:
    def test_the_published_file_is_the_schema_the_code_gives(self) -> None:
        published = (ROOT / "docs/pipeline.schema.json").read_text()
        assert published == schema_text(), (
            "run: pavedroad pipeline schema > docs/pipeline.schema.json"
        )
        Draft202012Validator.check_schema(json.loads(published))

    @pytest.mark.parametrize("path", SKELETON_PIPELINES, ids=lambda p: p.parts[-4])
    def test_the_skeleton_pipelines_validate_against_it(self, path: Path) -> None:
        validator = Draft202012Validator(pipeline_json_schema())
        errors = list(validator.iter_errors(yaml.safe_load(rendered(path))))
        assert errors == []

    def test_the_golden_pipeline_validates_against_it(self) -> None:
        validator = Draft202012Validator(pipeline_json_schema())
        assert list(validator.iter_errors(yaml.safe_load(SHIPPED_GOLDEN.read_text()))) == []

    def test_it_refuses_what_the_validator_refuses_field_by_field(self) -> None:
        validator = Draft202012Validator(pipeline_json_schema())
        for bad in (
            {"stages": [{"name": "a", "steps": [{"run": "x", "timout": 3}]}]},
            {"stages": [{"name": "a", "steps": [{"run": "x", "uses": "tests"}]}]},
            {"stages": [{"name": "a", "steps": [{"run": "x", "timeout": "ten"}]}]},
            {"stages": [{"name": "Bad Name", "steps": [{"run": "x"}]}]},
            {"extends": "silver"},
        ):
            assert not validator.is_valid(bad), bad

    def test_fields_carry_descriptions_for_editors(self) -> None:
        step = pipeline_json_schema()["$defs"]["step"]["properties"]
        assert all(field.get("description") for field in step.values())


class TestTheSkeletonPipelines:
    @pytest.mark.parametrize("path", SKELETON_PIPELINES, ids=lambda p: p.parts[-4])
    def test_a_generated_repositorys_pipeline_has_no_problems(
        self, path: Path, tmp_path: Path
    ) -> None:
        pipeline, problems = load_rendered(path, tmp_path)
        assert problems == [], "\n".join(str(p) for p in problems)
        assert pipeline is not None
        assert pipeline.extends == "golden"
        assert {"test", "security"} <= {stage.name for stage in pipeline.stages}

    def test_the_service_overrides_the_golden_tests_step_with_its_make_targets(
        self, tmp_path: Path
    ) -> None:
        path = SKELETONS / "python-service/skeleton/.pavedroad/pipeline.yaml"
        pipeline, _ = load_rendered(path, tmp_path)
        assert pipeline is not None
        tests = next(step for step in pipeline.steps if step.id == "test.tests")
        assert tests.with_ == {
            "command": "make install test",
            "junit": "reports/junit.xml",
            "coverage": "reports/coverage.xml",
        }
        makefile = (SKELETONS / "python-service/skeleton/Makefile").read_text()
        assert "--junitxml=reports/junit.xml" in makefile
        assert "xml:reports/coverage.xml" in makefile
        assert [s.stage for s in pipeline.steps][-3:] == [
            "deploy-dev", "deploy-staging", "deploy-production",
        ]  # fmt: skip


runner = CliRunner()


class TestValidateCommand:
    def test_a_valid_file_prints_its_stages_and_exits_0(self, tmp_path: Path) -> None:
        path = tmp_path / "pipeline.yaml"
        path.write_text("extends: golden\nstages:\n  - name: test\n    steps: [{run: make lint}]\n")
        result = runner.invoke(app, ["pipeline", "validate", str(path)])
        assert result.exit_code == 0, result.output
        assert "test (mandatory): tests, make-lint" in result.stdout
        assert "valid" in result.output

    def test_problems_print_file_line_column_path_message_and_hint_and_exit_1(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "pipeline.yaml"
        path.write_text(
            "stages:\n  - name: test\n    steps:\n      - run: make\n        timout: 1\n"
        )
        result = runner.invoke(app, ["pipeline", "validate", str(path)])
        assert result.exit_code == 1
        assert (
            f"{path}:5:9: stages[0].steps[0].timout: unknown key 'timout' — did you mean `timeout`?"
        ) in result.stdout

    def test_json_output_lists_the_problems(self, tmp_path: Path) -> None:
        path = tmp_path / "pipeline.yaml"
        path.write_text("stages:\n  - name: test\n    steps: [{uses: nothing}]\n")
        result = runner.invoke(app, ["pipeline", "validate", str(path), "--format", "json"])
        assert result.exit_code == 1
        body = json.loads(result.stdout)
        assert body["valid"] is False
        (problem,) = body["problems"]
        assert (problem["line"], problem["path"]) == (3, "stages[0].steps[0].uses")
        assert "tests" in problem["hint"]  # the built-in step types are offered

    def test_the_default_path_is_the_repositorys_pipeline_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(app, ["pipeline", "validate"])
        assert result.exit_code == 1
        assert ".pavedroad/pipeline.yaml: cannot read the file" in result.stdout

    def test_step_types_come_from_the_plugin_hook(self) -> None:
        types = step_types(plain_settings(Path("/nonexistent")))
        assert {
            "tests",
            "build",
            "sbom",
            "sast",
            "secrets-scan",
            "vuln-scan",
            "dast",
            "deploy",
        } <= set(types)


class TestSchemaCommand:
    def test_prints_the_published_schema(self) -> None:
        result = runner.invoke(app, ["pipeline", "schema"])
        assert result.exit_code == 0
        assert result.stdout == schema_text()
