"""The pipeline file: what ``.pavedroad/pipeline.yaml`` means once read, merged with the golden
pipeline and resolved, and the problems (with line, column, field path and hint) of bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavedroad.pipelines.cli_definition import step_types
from pavedroad.pipelines.definition import load_pipeline
from tests.pipelines.definition_support import (
    STEP_TYPES,
    load,
    loaded,
    only_problem,
    plain_settings,
)

SECURITY = ("security.sbom", "security.sast", "security.secrets-scan", "security.vuln-scan")


class TestARepositoryWithoutAFile:
    def test_runs_the_golden_pipeline_as_it_is(self, tmp_path: Path) -> None:
        pipeline = loaded(None, tmp_path)
        assert pipeline.source == "golden"
        assert [s.name for s in pipeline.stages] == [
            "test", "security", "gate", "build", "deploy-dev", "deploy-staging",
            "deploy-production",
        ]  # fmt: skip
        assert [s.name for s in pipeline.stages if s.mandatory] == ["test", "security", "gate"]
        assert [step.id for step in pipeline.stages[1].steps] == list(SECURITY)

    def test_stage_order_becomes_needs_and_a_parallel_stage_runs_together(
        self, tmp_path: Path
    ) -> None:
        steps = {step.id: step for step in loaded(None, tmp_path).steps}
        assert steps["test.tests"].needs == ()
        for scan in SECURITY:
            assert steps[scan].needs == ("test.tests",)
        assert steps["gate.security-gate"].needs == SECURITY
        assert steps["gate.security-gate"].condition == "always()"
        assert steps["build.build"].needs == ("gate.security-gate",)
        assert steps["deploy-dev.deploy"].needs == ("build.build",)

    def test_deploys_happen_only_on_the_default_branch(self, tmp_path: Path) -> None:
        steps = {step.id: step for step in loaded(None, tmp_path).steps}
        assert steps["deploy-production.deploy"].condition == "branch == default"
        assert steps["deploy-production.deploy"].with_ == {"environment": "production"}
        assert steps["build.build"].condition is None

    def test_steps_get_the_configured_default_timeout(self, tmp_path: Path) -> None:
        pipeline = loaded(None, tmp_path, default_timeout_seconds=77)
        assert {step.timeout_seconds for step in pipeline.steps} == {77}

    def test_the_organisation_can_configure_its_own_golden_pipeline(self, tmp_path: Path) -> None:
        golden = tmp_path / "golden.yaml"
        golden.write_text(
            "stages:\n  - name: check\n    mandatory: true\n    steps: [{run: make}]\n"
        )
        pipeline = loaded(None, tmp_path, golden_file=golden)
        assert [step.id for step in pipeline.steps] == ["check.make"]
        assert pipeline.stages[0].mandatory

    def test_a_broken_golden_file_gives_problems_naming_that_file(self, tmp_path: Path) -> None:
        golden = tmp_path / "golden.yaml"
        golden.write_text("stages:\n  - name: check\n    steps: [{run: make, timeout: soon}]\n")
        problem = only_problem("extends: golden\n", tmp_path, golden_file=golden)
        assert problem.file == str(golden)
        assert (problem.line, problem.path) == (3, "stages[0].steps[0].timeout")

    def test_the_shipped_golden_pipeline_resolves_with_the_built_in_step_types(
        self, tmp_path: Path
    ) -> None:
        settings = plain_settings(tmp_path)
        pipeline, problems = load_pipeline(None, settings=settings, step_types=step_types(settings))
        assert problems == []
        assert pipeline is not None
        assert {step.uses for step in pipeline.steps} == {
            "tests", "sbom", "sast", "secrets-scan", "vuln-scan", "security-gate", "build",
            "deploy",
        }  # fmt: skip

    def test_a_missing_golden_file_is_a_problem_naming_it(self, tmp_path: Path) -> None:
        problem = only_problem(None, tmp_path, golden_file=tmp_path / "nowhere.yaml")
        assert problem.file == str(tmp_path / "nowhere.yaml")
        assert "cannot be read" in problem.message
        assert "golden_file" in problem.hint


class TestTheFileFormat:
    def test_a_file_without_extends_is_taken_alone(self, tmp_path: Path) -> None:
        pipeline = loaded("stages:\n  - name: test\n    steps:\n      - run: make test\n", tmp_path)
        assert [step.id for step in pipeline.steps] == ["test.make-test"]
        assert pipeline.extends is None
        assert pipeline.source == ".pavedroad/pipeline.yaml"

    def test_every_field_of_a_step_is_resolved(self, tmp_path: Path) -> None:
        text = """\
env: {LANG: C.UTF-8}
stages:
  - name: test
    steps:
      - name: unit
        run: make test
        timeout: 1h30m
        retries: 2
        env: {CI: true, WORKERS: 4}
        secrets: {PYPI_TOKEN: pypi-token}
        reports:
          junit: reports/junit.xml
          coverage: [reports/coverage.xml, other/*.xml]
        artifacts: dist/
"""
        pipeline = loaded(text, tmp_path)
        (step,) = pipeline.steps
        assert pipeline.env == {"LANG": "C.UTF-8"}
        assert step.timeout_seconds == 5400
        assert step.retries == 2
        assert step.env == {"CI": "true", "WORKERS": "4"}
        assert step.secrets == {"PYPI_TOKEN": "pypi-token"}
        assert step.reports.junit == ("reports/junit.xml",)
        assert step.reports.coverage == ("reports/coverage.xml", "other/*.xml")
        assert step.artifacts == ("dist/",)
        assert step.line == 5

    def test_timeouts_are_seconds_or_durations(self, tmp_path: Path) -> None:
        for written, seconds in (
            ("90", 90),
            ("30s", 30),
            ("10m", 600),
            ("1h30m", 5400),
            ("'45'", 45),
        ):
            text = f"stages:\n  - name: a\n    steps: [{{run: x, timeout: {written}}}]\n"
            assert loaded(text, tmp_path).steps[0].timeout_seconds == seconds

    def test_a_step_is_named_after_its_type_or_its_command_unless_it_says(
        self, tmp_path: Path
    ) -> None:
        text = """\
stages:
  - name: a
    steps:
      - uses: sast
      - run: "python -m pytest -q tests/"
      - {name: custom, run: make}
"""
        names = [step.name for step in loaded(text, tmp_path).steps]
        assert names == ["sast", "python-m-pytest-q-tests", "custom"]

    def test_steps_of_a_sequential_stage_follow_each_other(self, tmp_path: Path) -> None:
        text = """\
stages:
  - name: a
    steps: [{name: one, run: x}, {name: two, run: x}, {name: three, run: x}]
  - name: b
    parallel: true
    steps: [{name: left, run: x}, {name: right, run: x}]
  - name: c
    steps: [{name: last, run: x}]
"""
        needs = {step.id: step.needs for step in loaded(text, tmp_path).steps}
        assert needs["a.one"] == ()
        assert needs["a.two"] == ("a.one",)
        assert needs["a.three"] == ("a.two",)
        assert needs["b.left"] == needs["b.right"] == ("a.one", "a.two", "a.three")
        assert needs["c.last"] == ("b.left", "b.right")

    def test_explicit_needs_add_edges_in_the_stage_and_across_stages(self, tmp_path: Path) -> None:
        text = """\
stages:
  - name: build
    parallel: true
    steps: [{name: image, run: x}, {name: docs, run: x}]
  - name: check
    parallel: true
    steps:
      - {name: lint, run: x}
      - {name: scan, run: x, needs: [lint, build.image]}
"""
        needs = {step.id: step.needs for step in loaded(text, tmp_path).steps}
        assert needs["check.scan"] == ("build.image", "build.docs", "check.lint")

    def test_a_stage_condition_and_a_step_condition_both_apply(self, tmp_path: Path) -> None:
        text = """\
stages:
  - name: publish
    if: branch == default
    steps:
      - {run: make publish, if: "changed('src/**')"}
      - {run: make notes}
"""
        steps = loaded(text, tmp_path).steps
        assert steps[0].condition == "(branch == default) and (changed('src/**'))"
        assert steps[1].condition == "branch == default"

    def test_yaml_1_1_booleans_are_text_so_parallel_yes_is_refused(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    parallel: yes\n    steps: [{run: x}]\n"
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.path) == (3, "stages[0].parallel")
        assert "true or false" in problem.message

    def test_a_with_mapping_is_checked_against_the_step_types_schema(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: d\n    steps:\n      - uses: deploy\n"
        text += "        with: {environment: moon}\n"
        problem = only_problem(text, tmp_path)
        assert problem.path == "stages[0].steps[0].with.environment"
        assert problem.line == 5
        assert "moon" in problem.message
        assert "deploy" in problem.hint

    def test_the_pipeline_survives_its_json_form(self, tmp_path: Path) -> None:
        from pavedroad.pipelines.schemas import Pipeline

        pipeline = loaded(None, tmp_path)
        assert Pipeline.from_json(pipeline.to_json()) == pipeline


GOLDEN_TEST = "extends: golden\nstages:\n"


class TestExtendingTheGoldenPipeline:
    def test_a_mandatory_stage_keeps_its_steps_and_gets_the_repositorys(
        self, tmp_path: Path
    ) -> None:
        text = GOLDEN_TEST + "  - name: test\n    steps:\n      - run: make lint\n"
        pipeline = loaded(text, tmp_path)
        assert [s.id for s in pipeline.stages[0].steps] == ["test.tests", "test.make-lint"]
        assert pipeline.extends == "golden"

    def test_a_step_named_like_a_golden_one_changes_its_settings(self, tmp_path: Path) -> None:
        text = GOLDEN_TEST + (
            "  - name: test\n    steps:\n      - uses: tests\n"
            "        with: {command: make install test}\n        timeout: 20m\n"
        )
        (step,) = loaded(text, tmp_path).stages[0].steps
        assert step.id == "test.tests"
        assert step.with_ == {"command": "make install test"}
        assert step.timeout_seconds == 1200
        assert step.line == 5  # where the repository wrote it

    def test_a_golden_step_of_a_mandatory_stage_cannot_get_a_condition(
        self, tmp_path: Path
    ) -> None:
        text = GOLDEN_TEST + (
            "  - name: security\n    steps:\n      - uses: sast\n        if: branch == never\n"
        )
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.path) == (6, "stages[0].steps[0].if")
        assert "always runs" in problem.message

    def test_a_stage_that_is_not_mandatory_gets_the_repositorys_steps_instead(
        self, tmp_path: Path
    ) -> None:
        text = GOLDEN_TEST + "  - name: build\n    steps:\n      - run: make build\n"
        build = next(s for s in loaded(text, tmp_path).stages if s.name == "build")
        assert [s.id for s in build.steps] == ["build.make-build"]

    def test_skip_drops_a_stage_that_is_not_mandatory(self, tmp_path: Path) -> None:
        text = GOLDEN_TEST + "  - name: deploy-staging\n    skip: true\n"
        pipeline = loaded(text, tmp_path)
        assert "deploy-staging" not in [s.name for s in pipeline.stages]
        production = next(s for s in pipeline.steps if s.stage == "deploy-production")
        assert production.needs == ("deploy-dev.deploy",)

    def test_a_mandatory_stage_cannot_be_skipped(self, tmp_path: Path) -> None:
        text = (
            GOLDEN_TEST
            + "  - name: build\n    steps: [{run: make}]\n  - name: security\n    skip: true\n"
        )
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.column, problem.path) == (6, 5, "stages[1].skip")
        assert "mandatory" in problem.message
        assert "add steps" in problem.hint

    def test_a_mandatory_stage_keeps_its_golden_condition(self, tmp_path: Path) -> None:
        text = GOLDEN_TEST + "  - name: security\n    if: branch == nothing\n"
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.path) == (4, "stages[0].if")

    def test_a_new_stage_goes_after_the_stage_it_follows_in_the_file(self, tmp_path: Path) -> None:
        text = GOLDEN_TEST + (
            "  - name: build\n    steps: [{run: make build}]\n"
            "  - name: publish\n    if: tag =~ ^v\n    steps: [{run: make publish}]\n"
            "  - name: lint\n    steps: [{run: make lint}]\n"
        )
        names = [s.name for s in loaded(text, tmp_path).stages]
        assert names == [
            "test", "security", "gate", "build", "publish", "lint", "deploy-dev",
            "deploy-staging", "deploy-production",
        ]  # fmt: skip

    def test_a_new_first_stage_goes_first(self, tmp_path: Path) -> None:
        text = GOLDEN_TEST + "  - name: prepare\n    steps: [{run: make deps}]\n"
        pipeline = loaded(text, tmp_path)
        assert pipeline.stages[0].name == "prepare"
        assert pipeline.stages[1].steps[0].needs == ("prepare.make-deps",)

    def test_extends_alone_is_the_golden_pipeline(self, tmp_path: Path) -> None:
        ids = [s.id for s in loaded("extends: golden\n", tmp_path).steps]
        assert ids == [s.id for s in loaded(None, tmp_path).steps]

    def test_the_repositorys_env_adds_to_the_golden_env(self, tmp_path: Path) -> None:
        golden = tmp_path / "golden.yaml"
        golden.write_text("env: {A: '1', B: '2'}\nstages:\n  - name: t\n    steps: [{run: x}]\n")
        pipeline = loaded("extends: golden\nenv: {B: three}\n", tmp_path, golden_file=golden)
        assert pipeline.env == {"A": "1", "B": "three"}


class TestBadFiles:
    """Each problem names the file, the line and column, the field path, and a fix."""

    def test_malformed_yaml_gives_the_parsers_line_and_column(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: test\n    steps:\n      - run: make\n     bad: [\n"
        problem = only_problem(text, tmp_path)
        assert problem.message.startswith("YAML syntax error")
        assert problem.line == 5
        assert problem.column is not None
        assert problem.hint

    def test_a_duplicate_key_is_refused_with_its_line(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: test\n    name: other\n    steps: [{run: x}]\n"
        problem = only_problem(text, tmp_path)
        assert problem.line == 3
        assert "duplicate key" in problem.message

    def test_an_unknown_key_suggests_the_nearest_one(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: test\n    steps:\n      - run: make\n        timout: 10m\n"
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.column) == (5, 9)
        assert problem.path == "stages[0].steps[0].timout"
        assert problem.message == "unknown key 'timout'"
        assert problem.hint == "did you mean `timeout`?"
        assert str(problem) == (
            ".pavedroad/pipeline.yaml:5:9: stages[0].steps[0].timout: unknown key 'timout'"
            " — did you mean `timeout`?"
        )

    def test_a_cycle_of_needs_is_refused_at_the_need_that_closes_it(self, tmp_path: Path) -> None:
        text = """\
stages:
  - name: a
    parallel: true
    steps:
      - {name: x, run: x, needs: y}
      - {name: y, run: y, needs: [x]}
"""
        problem = only_problem(text, tmp_path)
        assert "cycle" in problem.message
        assert "a.x → a.y → a.x" in problem.message
        assert problem.line in (5, 6)
        assert problem.path.endswith("needs") or problem.path.endswith("needs[0]")

    def test_needing_a_later_stage_is_a_cycle_through_stage_order(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    steps: [{run: x, needs: b.y}]\n"
        text += "  - name: b\n    steps: [{name: y, run: y}]\n"
        problem = only_problem(text, tmp_path)
        assert "cycle" in problem.message
        assert problem.line == 3

    def test_an_unknown_need_suggests_the_nearest_step(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    steps:\n      - {name: lint, run: x}\n"
        text += "      - {run: y, needs: [lnt]}\n"
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.path) == (5, "stages[0].steps[1].needs[0]")
        assert "'a.lint'" in problem.hint

    def test_an_unknown_step_type_lists_the_available_ones(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: build\n    steps:\n      - uses: container-image\n"
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.column) == (4, 9)
        assert problem.message == "unknown step type 'container-image'"
        for name in STEP_TYPES:
            assert name in problem.hint

    def test_with_no_step_types_installed_the_hint_says_so(self, tmp_path: Path) -> None:
        _, problems = load(None, tmp_path, step_types={})
        assert problems
        assert all("no step-type plugin" in p.hint for p in problems)

    def test_a_bad_timeout_says_what_a_duration_looks_like(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    steps:\n      - run: x\n        timeout: ten minutes\n"
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.path) == (5, "stages[0].steps[0].timeout")
        assert "10m" in problem.hint

    def test_a_bad_condition_is_a_problem_of_the_file_with_its_column(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    steps:\n      - run: x\n        if: branch == main and\n"
        problem = only_problem(text, tmp_path)
        assert (problem.line, problem.path) == (5, "stages[0].steps[0].if")
        assert "invalid condition" in problem.message
        assert "column 19" in problem.message

    def test_retries_are_limited(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    steps: [{run: x, retries: 9}]\n"
        assert "0 to 5" in only_problem(text, tmp_path).message

    def test_two_steps_of_one_name_in_a_stage_are_refused(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    steps:\n      - run: make\n      - run: make\n"
        problem = only_problem(text, tmp_path)
        assert problem.line == 5
        assert "name:" in problem.hint

    def test_a_step_needs_run_or_uses_but_not_both(self, tmp_path: Path) -> None:
        neither = only_problem("stages:\n  - name: a\n    steps: [{name: x}]\n", tmp_path)
        assert "`run:` or `uses:`" in neither.message
        both = only_problem("stages:\n  - name: a\n    steps: [{run: x, uses: tests}]\n", tmp_path)
        assert "not both" in both.message

    def test_a_bad_stage_name_suggests_one(self, tmp_path: Path) -> None:
        problem = only_problem("stages:\n  - name: Unit Tests\n    steps: [{run: x}]\n", tmp_path)
        assert problem.path == "stages[0].name"
        assert "unit-tests" in problem.hint

    def test_only_the_golden_pipeline_marks_stages_mandatory(self, tmp_path: Path) -> None:
        text = "stages:\n  - name: a\n    mandatory: true\n    steps: [{run: x}]\n"
        assert only_problem(text, tmp_path).path == "stages[0].mandatory"

    def test_skipping_a_stage_the_golden_pipeline_lacks_suggests_its_name(
        self, tmp_path: Path
    ) -> None:
        problem = only_problem(GOLDEN_TEST + "  - name: deploy-stagin\n    skip: true\n", tmp_path)
        assert "'deploy-staging'" in problem.hint

    def test_an_empty_file_says_what_to_write(self, tmp_path: Path) -> None:
        assert "extends: golden" in only_problem("# nothing yet\n", tmp_path).hint

    def test_every_problem_of_a_file_is_reported_at_once(self, tmp_path: Path) -> None:
        text = """\
stages:
  - name: a
    steps:
      - {run: x, timeout: never}
      - {uses: nope}
      - {run: z, retries: -1}
"""
        _, problems = load(text, tmp_path)
        assert [p.line for p in problems] == [4, 5, 6]

    @pytest.mark.parametrize(
        "text",
        [
            "[]",
            "42",
            "stages: 3",
            "stages: [3]",
            "stages: [{name: a, steps: [[]]}]",
            "env: [1]",
            "stages: [{name: a, steps: {x: 1}}]",
            "\t- x",
            "extends: silver",
            "stages: [{name: a, steps: [{run: x, needs: {a: 1}, reports: [1], env: {1: 2}}]}]",
        ],
    )
    def test_bad_input_never_raises(self, tmp_path: Path, text: str) -> None:
        pipeline, problems = load(text, tmp_path)
        assert pipeline is None
        assert problems
        assert all(p.message for p in problems)
