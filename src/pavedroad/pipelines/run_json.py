"""Runs, steps and artifacts as the API answers them (camelCase, like the rest of the API)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pavedroad.core.clock import as_utc
from pavedroad.pipelines.models import PipelineArtifact, PipelineRun, PipelineStep

API = "/api/pipelines/v1"
_COUNTS = ("passed", "failed", "skipped", "errors", "total")


def _at(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def _duration(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return round((as_utc(finished) - as_utc(started)).total_seconds(), 3)


def step_json(step: PipelineStep) -> dict[str, Any]:
    details = step.details or {}
    return {
        "id": step.step_id,
        "stage": step.stage,
        "name": step.name,
        "position": step.position,
        "status": step.status,
        "attempt": step.attempt,
        "exitCode": step.exit_code,
        "summary": step.summary,
        "startedAt": _at(step.started_at),
        "finishedAt": _at(step.finished_at),
        "durationSeconds": _duration(step.started_at, step.finished_at),
        "logBytes": step.log_bytes,
        "tests": details.get("tests"),
        "coverage": details.get("coverage"),
        "details": details,
    }


def test_summary(steps: Sequence[PipelineStep]) -> dict[str, Any] | None:
    """The run's test results: every step's counts added up, and their failures."""
    found = [s.details["tests"] for s in steps if isinstance((s.details or {}).get("tests"), dict)]
    if not found:
        return None
    summary: dict[str, Any] = {key: sum(int(t.get(key) or 0) for t in found) for key in _COUNTS}
    summary["failures"] = [f for t in found for f in (t.get("failures") or [])]
    return summary


def coverage_of(steps: Sequence[PipelineStep]) -> dict[str, Any] | None:
    for step in steps:
        coverage = (step.details or {}).get("coverage")
        if isinstance(coverage, dict):
            return coverage
    return None


def run_json(
    run: PipelineRun, steps: Sequence[PipelineStep] | None = None, *, base_url: str
) -> dict[str, Any]:
    """A run; with ``steps``, also its steps, test summary and coverage."""
    data: dict[str, Any] = {
        "id": run.id,
        "number": run.number,
        "repository": run.repository,
        "component": run.component_ref,
        "branch": run.branch,
        "commit": run.commit,
        "trigger": run.trigger,
        "triggeredBy": run.triggered_by,
        "status": run.status,
        "external": run.external,
        "createdAt": _at(run.created_at),
        "startedAt": _at(run.started_at),
        "finishedAt": _at(run.finished_at),
        "durationSeconds": _duration(run.started_at, run.finished_at),
        "attempt": run.attempt,
        "cancelRequested": run.cancel_requested,
        "error": run.error,
        "problems": run.problems or [],
        "changedPaths": run.changed_paths,
        "links": {
            "self": f"{API}/runs/{run.id}",
            "page": f"{base_url.rstrip('/')}/pipelines/runs/{run.id}",
            "artifacts": f"{API}/runs/{run.id}/artifacts",
        },
    }
    if steps is not None:
        data["steps"] = [step_json(step) for step in steps]
        data["tests"] = test_summary(steps)
        data["coverage"] = coverage_of(steps)
    return data


def artifact_json(artifact: PipelineArtifact, step_id: str, run_id: str) -> dict[str, Any]:
    return {
        "id": artifact.id,
        "step": step_id,
        "kind": artifact.kind,
        "path": artifact.path,
        "size": artifact.size,
        "createdAt": _at(artifact.created_at),
        "download": f"{API}/runs/{run_id}/artifacts/{artifact.id}",
    }
