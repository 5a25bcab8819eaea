"""The ``deploy`` pipeline step: ``uses: deploy`` with ``with: {environment: dev}`` deploys the
run's commit of its component to that environment and waits for the deployment's end; the step
fails when the deploy was refused (the security gate blocked the commit, a freeze...), failed
or was rolled back. It is skipped, and says why, for a run of no component or of a repository
without ``.pavedroad/deploy.yaml`` (the golden pipeline deploys only what says how).

The step deploys as the person who started the run when a person did (``deployment.trigger``
is asked for them, so a developer's run cannot deploy to production), and as the pipeline
(``system:pipeline``) otherwise — which the default policy lets deploy to dev only; where the
policy refuses such an automatic run, the step is skipped (promotion is then people's call).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.core.errors import PavedroadError
from pavedroad.core.plugins import hookimpl
from pavedroad.deploy import runner, service
from pavedroad.deploy.component_config import FILE
from pavedroad.deploy.permissions import TRIGGER
from pavedroad.identity.resolution import resolve_identity
from pavedroad.identity.schemas import Principal
from pavedroad.pipelines.hooks import StepContext, StepOutcome, StepType
from pavedroad.pipelines.models import PipelineRun
from pavedroad.pipelines.schemas import Reports, Step

POLL_SECONDS = 0.3
PIPELINE = "system:pipeline"


@dataclass(frozen=True, slots=True)
class DeployStep:
    """Deploys the run's commit and waits for the deployment (and its health analysis)."""

    name: str = "deploy"
    description: str = (
        "Deploy the run's commit to an environment; fails when the deploy is refused, "
        "fails or is rolled back."
    )

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["environment"],
            "properties": {
                "environment": {"type": "string", "description": "dev, staging, production..."}
            },
        }

    def command(self, step: Step) -> str | None:
        return None

    def reports(self, step: Step) -> Reports:
        return Reports()

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:
        runtime = context.runtime
        environment = str(context.step.with_.get("environment") or "")
        if context.component_ref is None:
            return _skipped(context, "the run is of no catalog component: nothing was deployed")
        if not (context.workspace / FILE).is_file():
            return _skipped(
                context, f"the repository has no {FILE}: nothing was deployed (add one to deploy)"
            )
        principal, person = _principal(runtime, context.run_id)
        resource = {"environment": environment, "component": context.component_ref}
        decision = runtime.permissions.decide(principal, TRIGGER, resource)
        if decision.result.name != "ALLOW":
            why = f"{principal.ref} may not deploy to {environment}: {decision.explanation}"
            if not person:  # an automatic run: promotion is people's call
                return _skipped(context, f"{why}; promote it from the portal or the CLI")
            return _failed(why)
        try:
            deployment = service.deploy(
                runtime,
                component_ref=context.component_ref,
                environment=environment,
                version=context.commit,
                actor=Actor(principal.ref) if person else Actor.system("pipeline"),
                trigger="pipeline",
                run_id=context.run_id,
            )
        except PavedroadError as error:
            return _failed(f"the deploy to {environment} was refused: {error.message}")
        context.log(f"deployment {deployment.id}: {context.commit[:12]} to {environment}")
        while True:
            done = runner.wait_for(runtime, deployment.id, timeout=POLL_SECONDS)
            if done.status not in service.ACTIVE:
                break
            if context.is_cancelled():
                context.log(f"the run was cancelled; deployment {done.id} carries on")
                return _failed(f"cancelled while deploying ({done.id} carries on)")
            time.sleep(POLL_SECONDS)
        for line in done.evidence.get("log") or []:
            context.log(str(line))
        summary = f"{done.version[:12]} to {environment}: {done.status}"
        if done.error:
            summary += f" — {done.error}"
        return StepOutcome(
            succeeded=done.status == "succeeded",
            summary=summary,
            details={"deployment": done.id, "status": done.status},
        )


def _principal(runtime: Any, run_id: str) -> tuple[Principal, bool]:
    """Who the step deploys as (the person who started the run, or the pipeline), and whether
    that is a person. Either has an identity, so the policy decides for it: a principal
    without one would be the platform itself, allowed everything."""
    with runtime.db.read_session() as session:
        run = session.get(PipelineRun, run_id)
        starter = run.triggered_by if run is not None else ""
        person = starter.startswith("user:")
        ref = starter if person else PIPELINE
        return Principal(ref, "system", resolve_identity(session, ref)), person


def _failed(summary: str) -> StepOutcome:
    return StepOutcome(succeeded=False, summary=summary)


def _skipped(context: StepContext, summary: str) -> StepOutcome:
    context.log(summary)
    return StepOutcome(succeeded=True, skipped=True, summary=summary)


class DeployStepTypes:
    """Registers the ``deploy`` step type through the pipelines' hook."""

    @hookimpl
    def pavedroad_pipeline_step_types(self, settings: Settings) -> Sequence[StepType]:
        return [DeployStep()]
