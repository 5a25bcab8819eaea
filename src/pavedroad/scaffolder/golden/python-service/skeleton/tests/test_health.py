from __future__ import annotations

from fastapi.testclient import TestClient

from ${{ values.package }}.app import create_app
from ${{ values.package }}.config import Settings


def test_healthz_says_the_process_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_every_check_passes() -> None:
    app = create_app(Settings(), readiness_checks={"database": lambda: True})
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_is_unavailable_and_names_the_failing_checks() -> None:
    checks = {"queue": lambda: False, "database": lambda: False, "cache": lambda: True}
    with TestClient(create_app(Settings(), readiness_checks=checks)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["database", "queue"]}
