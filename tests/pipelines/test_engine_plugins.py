"""The engine's extension points: every step type, executor and secrets provider keeps its
contract, and a plugin's step type takes the place of a built-in placeholder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines.engine import executors_of, secrets_providers_of
from pavedroad.pipelines.hooks import Executor, SecretsProvider, StepContext, StepOutcome, StepType
from pavedroad.pipelines.schemas import Step
from pavedroad.pipelines.service import step_types_of
from pavedroad.pipelines.steptypes import PLACEHOLDERS, PlaceholderStep, merge_step_types
from pavedroad.runtime import Runtime
from tests.pipelines.engine_support import make_repository, pipeline_file, run_now, start, steps_of


def test_every_step_type_keeps_the_contract(runtime: Runtime) -> None:
    types = step_types_of(runtime)
    assert {"tests", "build", *PLACEHOLDERS} <= set(types)
    for name, step_type in types.items():
        assert isinstance(step_type, StepType) and step_type.name == name
        assert step_type.description
        jsonschema.Draft202012Validator.check_schema(dict(step_type.with_schema))
        step = Step(id=f"s.{name}", stage="s", name=name, uses=name)
        command = step_type.command(step)
        assert command is None or isinstance(command, str)


def test_every_executor_and_secrets_provider_keeps_the_contract(runtime: Runtime) -> None:
    assert all(isinstance(e, Executor) for e in executors_of(runtime).values())
    assert "local" in executors_of(runtime)
    providers = secrets_providers_of(runtime)
    assert providers and all(isinstance(p, SecretsProvider) for p in providers)
    assert all(p.resolve("surely-not-set-anywhere", component_ref=None) is None for p in providers)


@dataclass(frozen=True)
class RealStep:
    name: str = "licence-check"
    description: str = "A step type of a plugin."

    @property
    def with_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def command(self, step: Step) -> str | None:
        return None

    def execute(self, context: StepContext) -> StepOutcome:
        context.log(f"checked {context.workspace.name}")
        return StepOutcome(succeeded=True, summary="1 component")


class LicencePlugin:
    @hookimpl
    def pavedroad_pipeline_step_types(self, settings: Settings) -> Sequence[StepType]:
        return [RealStep(), RealStep(name="deploy")]


def test_a_real_step_type_takes_the_place_of_a_placeholder() -> None:
    placeholder = PlaceholderStep("deploy", "deployments")
    real = RealStep(name="deploy")

    assert merge_step_types([[placeholder], [real]])["deploy"] is real
    assert merge_step_types([[real], [placeholder]])["deploy"] is real


def test_a_plugin_s_step_type_runs_in_a_pipeline(runtime: Runtime, tmp_path: Path) -> None:
    runtime.plugins.register(LicencePlugin(), name="licence-test")
    assert isinstance(step_types_of(runtime)["licence-check"], RealStep)
    repository = make_repository(tmp_path, pipeline_file("      - uses: licence-check\n"))
    run_id = start(runtime, repository)

    assert run_now(runtime, run_id) == "succeeded"

    step = steps_of(runtime, run_id)["build.licence-check"]
    assert (step.status, step.summary) == ("succeeded", "1 component")


@dataclass(frozen=True)
class BrokenStep(RealStep):
    name: str = "broken-scan"

    def execute(self, context: StepContext) -> StepOutcome:
        raise RuntimeError("the scanner's database is missing")


class BrokenPlugin:
    @hookimpl
    def pavedroad_pipeline_step_types(self, settings: Settings) -> Sequence[StepType]:
        return [BrokenStep()]


def test_a_step_type_that_raises_fails_its_step_not_the_worker(
    runtime: Runtime, tmp_path: Path
) -> None:
    runtime.plugins.register(BrokenPlugin(), name="broken-test")
    repository = make_repository(
        tmp_path, pipeline_file("      - uses: broken-scan\n      - {name: after, run: 'true'}\n")
    )
    run_id = start(runtime, repository)

    assert run_now(runtime, run_id) == "failed"

    step = steps_of(runtime, run_id)["build.broken-scan"]
    assert (step.status, step.summary) == (
        "failed",
        "RuntimeError: the scanner's database is missing",
    )
    assert steps_of(runtime, run_id)["build.after"].status == "skipped"
