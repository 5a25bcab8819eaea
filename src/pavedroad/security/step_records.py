"""What every security step does when it ends: record its scan (or why it could not scan), so
the gate and the pages have one answer per step."""

from __future__ import annotations

from collections.abc import Sequence

from pavedroad.pipelines.hooks import StepContext
from pavedroad.security.findings import Finding, Kind
from pavedroad.security.scans import record_scan


def record_step_scan(
    context: StepContext, kind: Kind, findings: Sequence[Finding] = (), error: str | None = None
) -> None:
    """Keep what a security step found (or why it could not scan) for the gate and the pages."""
    with context.runtime.db.session() as session:
        record_scan(
            session,
            run_id=context.run_id,
            step_id=context.step.id,
            kind=kind,
            component_ref=context.component_ref,
            commit=context.commit,
            findings=findings,
            error=error,
        )
