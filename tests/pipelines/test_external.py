"""Runs executed on Argo Workflows or GitHub Actions report back with a service token: one run
per (system, external id), updated idempotently, never moved back from finished to running;
a report that is not in the documented shape is refused naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pavedroad.app import create_app
from pavedroad.audit.models import AuditEvent
from pavedroad.identity import tokens
from pavedroad.pipelines.external import external_run_id
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from pavedroad.runtime import Runtime
from tests.identity import conftest as identity
from tests.identity.conftest import OPERATOR, new_client
from tests.pipelines.trigger_support import register_component

secure_runtime = identity.secure_runtime  # fixtures: a portal that needs signing in
signed_out_settings = identity.signed_out_settings

ENDPOINT = "/api/pipelines/v1/runs/external"
REPOSITORY = "https://github.com/acme/payments"
COMMIT = "3f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e"


def token(runtime: Runtime, *scopes: str) -> dict[str, str]:
    with runtime.db.session() as session:
        secret, _ = tokens.create_token(
            session,
            name="argo-reporter",
            owner_ref="argo-reporter",
            kind="service",
            scopes=scopes,
            actor=OPERATOR,
        )
    return {"authorization": f"Bearer {secret}"}


def report(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "system": "argo",
        "repository": REPOSITORY + ".git",
        "commit": COMMIT,
        "branch": "main",
        "external_id": "payments-ci-x7k2p",
        "status": "running",
        "url": "https://argo.example/workflows/ci/payments-ci-x7k2p",
        "steps": [
            {"id": "test.tests", "status": "running", "started_at": "2026-12-06T10:00:00Z"},
        ],
    }
    return {**body, **changes}


@pytest.fixture
def reporter(secure_runtime: Runtime, tmp_path: Path) -> Iterator[TestClient]:
    register_component(secure_runtime, tmp_path, "payments", REPOSITORY)
    with new_client(secure_runtime) as client:
        client.headers.update(token(secure_runtime, "pipeline.run.report"))
        yield client


def stored(runtime: Runtime) -> tuple[list[PipelineRun], list[PipelineStep]]:
    with runtime.db.read_session() as session:
        return (
            list(session.scalars(select(PipelineRun))),
            list(session.scalars(select(PipelineStep).order_by(PipelineStep.position))),
        )


def test_a_first_report_creates_an_external_run_of_the_component(
    secure_runtime: Runtime, reporter: TestClient
) -> None:
    response = reporter.post(ENDPOINT, json=report())

    assert response.status_code == 201, response.text
    (run,), (step,) = stored(secure_runtime)
    assert run.id == response.json()["id"] == external_run_id("argo", "payments-ci-x7k2p")
    assert (run.external, run.trigger, run.status) == ("argo", "external", "running")
    assert (run.repository, run.component_ref) == (REPOSITORY, "component:default/payments")
    assert run.triggered_by == "service:argo-reporter"
    assert (step.step_id, step.stage, step.name, step.status) == (
        "test.tests",
        "test",
        "tests",
        "running",
    )
    with secure_runtime.db.read_session() as session:
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "pipeline.run.reported")
        ).one()
    assert audit.actor == "service:argo-reporter" and audit.details["url"].startswith("https://")


def test_reports_update_the_same_run_and_a_finished_run_stays_finished(
    secure_runtime: Runtime, reporter: TestClient
) -> None:
    reporter.post(ENDPOINT, json=report())
    again = reporter.post(ENDPOINT, json=report())
    steps = [
        {"id": "test.tests", "status": "succeeded", "finished_at": "2026-12-06T10:03:00Z"},
        {"id": "build.build", "status": "failed", "started_at": "2026-12-06T10:03:01Z"},
    ]
    finished = reporter.post(ENDPOINT, json=report(status="failed", steps=steps))
    late = reporter.post(ENDPOINT, json=report())

    assert again.status_code == 200 and finished.status_code == 200
    assert late.status_code == 409 and "not moved back" in late.json()["error"]["message"]
    (run,), rows = stored(secure_runtime)
    assert run.status == "failed" and run.finished_at is not None
    assert [(s.step_id, s.status) for s in rows] == [
        ("test.tests", "succeeded"),
        ("build.build", "failed"),
    ]
    assert rows[0].finished_at is not None and rows[0].started_at is not None


def test_two_systems_with_the_same_id_are_two_runs(
    secure_runtime: Runtime, reporter: TestClient
) -> None:
    reporter.post(ENDPOINT, json=report())
    reporter.post(ENDPOINT, json=report(system="github-actions"))

    with secure_runtime.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(PipelineRun)) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "done"}, "status"),
        ({"commit": "not-a-commit"}, "commit"),
        ({"system": "jenkins"}, "system"),
        ({"steps": [{"id": "nodot", "status": "running"}]}, "steps.0.id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_malformed_report_is_422_naming_the_field(
    reporter: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = reporter.post(ENDPOINT, json=report(**changes))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in [problem["field"] for problem in error["problems"]]
    assert field in error["message"]


def test_a_report_without_its_required_fields_names_them(reporter: TestClient) -> None:
    response = reporter.post(ENDPOINT, json={"system": "argo"})
    fields = {problem["field"] for problem in response.json()["error"]["problems"]}
    assert response.status_code == 422
    assert {"repository", "commit", "branch", "external_id", "status"} <= fields


def test_only_a_token_allowed_to_report_may(secure_runtime: Runtime) -> None:
    with new_client(secure_runtime) as client:
        anonymous = client.post(ENDPOINT, json=report())
        other = client.post(ENDPOINT, json=report(), headers=token(secure_runtime, "catalog.*"))

    assert anonymous.status_code == 401 and other.status_code == 403


def test_the_demo_admin_may_report_too(runtime: Runtime) -> None:
    with TestClient(create_app(runtime, run_jobs=False)) as client:
        assert client.post(ENDPOINT, json=report()).status_code == 201
