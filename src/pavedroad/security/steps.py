"""The security capability's pipeline step types, and the ``security-gate`` step that judges a
run's scans against the organisation's policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines.hooks import StepContext, StepOutcome, StepType
from pavedroad.pipelines.schemas import Reports, Step
from pavedroad.security.dast.steptype import DastStep
from pavedroad.security.gate import decide_gate, describe_blocker

SHOWN_BLOCKERS = 5


@dataclass(frozen=True, slots=True)
class SecurityGateStep:
    """Judges the run's scans against the organisation's policy: blocked runs fail here."""

    name: str = "security-gate"
    description: str = "Block the deploy when the run's findings break the security policy."

    @property
    def with_schema(self) -> Mapping[str, Any]:
        return {"type": "object", "additionalProperties": False, "properties": {}}

    def command(self, step: Step) -> str | None:
        return None

    def reports(self, step: Step) -> Reports:
        return Reports()

    def artifacts(self, step: Step) -> tuple[str, ...]:
        return ()

    def execute(self, context: StepContext) -> StepOutcome:
        with context.runtime.db.session() as session:
            decision = decide_gate(
                session,
                run_id=context.run_id,
                component_ref=context.component_ref,
                commit=context.commit,
                policy=context.runtime.settings.security.gate,
            )
            blocked, reasons, excepted = decision.blocked, decision.reasons, decision.excepted
        for item in excepted:
            context.log(
                f"accepted until {item['expires_at']} ({item['exception_reason']}): "
                f"{item['rule']} at {item['where']}"
            )
        if not blocked:
            summary = "the security policy is met" + (
                f" ({len(excepted)} finding(s) accepted by exceptions)" if excepted else ""
            )
            context.log(summary)
            return StepOutcome(succeeded=True, summary=summary, details={"gate": "open"})
        lines = [describe_blocker(reason) for reason in reasons]
        for line in lines:
            context.log(f"BLOCKED: {line}")
        shown = "; ".join(lines[:SHOWN_BLOCKERS])
        more = f" and {len(lines) - SHOWN_BLOCKERS} more" if len(lines) > SHOWN_BLOCKERS else ""
        return StepOutcome(
            succeeded=False,
            summary=f"blocked by {len(lines)} finding(s): {shown}{more}",
            details={"gate": "blocked", "blockers": reasons},
        )


class SecurityStepTypes:
    """Registers the security step types through the pipelines' hook."""

    @hookimpl
    def pavedroad_pipeline_step_types(self, settings: Settings) -> Sequence[StepType]:
        return [DastStep(), SecurityGateStep()]
