"""Running templates through the API: tasks, live events, outputs, failures, cancelling,
several runs at once, dry runs, and runs interrupted by a restart."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pavedroad.catalog.models import Entity
from pavedroad.runtime import Runtime
from pavedroad.scaffolder.models import ScaffolderTask
from tests.scaffolder.conftest import TEMPLATE_REF, values, wait_for


def start(client: TestClient, given: dict[str, object]) -> str:
    response = client.post(
        "/api/scaffolder/v2/tasks", json={"templateRef": TEMPLATE_REF, "values": given}
    )
    assert response.status_code == 201, response.text
    task_id: str = response.json()["id"]
    return task_id


def components(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Entity).where(Entity.kind_key == "component")
            )
            or 0
        )


def test_a_run_pushes_a_repository_and_registers_it(
    portal: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    task = wait_for(portal, start(portal, values(tmp_path)))
    assert task["status"] == "completed", task["error"]
    links = {link["title"]: link for link in task["output"]["links"]}
    assert links["Repository"]["url"].endswith("ledger.git")
    assert links["In the catalog"]["entityRef"] == "component:default/ledger"
    log = subprocess.run(
        [
            "git",
            "--git-dir",
            str(tmp_path / "data" / "repositories" / "ledger.git"),
            "log",
            "--format=%s",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert log.strip() == "Initial commit"
    entity = portal.get("/api/catalog/entities/by-name/component/default/ledger").json()
    assert entity["spec"]["owner"] == "group:default/team-a"


def test_every_step_is_in_the_log_in_order(portal: TestClient, tmp_path: Path) -> None:
    task_id = start(portal, values(tmp_path))
    wait_for(portal, task_id)
    events = portal.get(f"/api/scaffolder/v2/tasks/{task_id}/events").json()
    steps = [(e["body"]["stepId"], e["body"]["status"]) for e in events if e["type"] == "step"]
    assert [step for step, status in steps if status == "completed"] == [
        "fetch",
        "pause",
        "publish",
        "register",
    ]
    assert events[-1]["type"] == "completion"
    later = portal.get(
        f"/api/scaffolder/v2/tasks/{task_id}/events", params={"after": events[-2]["id"]}
    ).json()
    assert [e["id"] for e in later] == [events[-1]["id"]]


def test_the_event_stream_delivers_the_log_live(portal: TestClient, tmp_path: Path) -> None:
    task_id = start(portal, values(tmp_path))
    with portal.stream("GET", f"/api/scaffolder/v2/tasks/{task_id}/eventstream") as stream:
        body = "".join(stream.iter_text())
    assert "event: step" in body and "event: completion" in body


def test_invalid_parameters_are_refused_per_field_before_anything_runs(
    portal: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    response = portal.post(
        "/api/scaffolder/v2/tasks",
        json={"templateRef": TEMPLATE_REF, "values": {"name": "Not A Name", "repoUrl": "x"}},
    )
    assert response.status_code == 400
    fields = {p["field"] for p in response.json()["error"]["problems"]}
    assert {"name", "owner"} <= fields
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ScaffolderTask)) == 0


def test_a_failing_step_stops_the_run_and_registers_nothing(
    portal: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    before = components(runtime)
    outside = values(tmp_path, repoUrl="file:///nonexistent-root/x.git")
    task = wait_for(portal, start(portal, outside))
    assert task["status"] == "failed" and "publish" in task["error"]
    assert components(runtime) == before
    events = portal.get(f"/api/scaffolder/v2/tasks/{task['id']}/events").json()
    ran = {e["body"]["stepId"] for e in events if e["type"] == "step"}
    assert "register" not in ran


def test_an_existing_repository_is_never_overwritten(portal: TestClient, tmp_path: Path) -> None:
    assert wait_for(portal, start(portal, values(tmp_path)))["status"] == "completed"
    again = wait_for(portal, start(portal, values(tmp_path)))
    assert again["status"] == "failed"
    assert "already" in again["error"]


def test_a_running_task_can_be_cancelled(portal: TestClient, tmp_path: Path) -> None:
    task_id = start(portal, values(tmp_path, pause=20))
    for _ in range(100):
        if portal.get(f"/api/scaffolder/v2/tasks/{task_id}").json()["status"] == "processing":
            break
    response = portal.post(f"/api/scaffolder/v2/tasks/{task_id}/cancel")
    assert response.status_code == 200
    task = wait_for(portal, task_id, timeout=15)
    assert task["status"] == "cancelled"


def test_several_runs_at_once_do_not_interfere(portal: TestClient, tmp_path: Path) -> None:
    ids = [start(portal, values(tmp_path, name=f"svc-{n}")) for n in range(3)]
    finished = [wait_for(portal, task_id) for task_id in ids]
    assert [task["status"] for task in finished] == ["completed"] * 3
    refs = sorted(t["output"]["links"][1]["entityRef"] for t in finished)
    assert refs == [f"component:default/svc-{n}" for n in range(3)]


def test_a_dry_run_shows_the_files_and_publishes_nothing(
    portal: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    response = portal.post(
        "/api/scaffolder/v2/dry-run", json={"templateRef": TEMPLATE_REF, "values": values(tmp_path)}
    )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "completed"
    [file] = body["directoryContents"]
    assert file["path"] == "catalog-info.yaml" and "name: ledger" in file["content"]
    assert not (tmp_path / "data" / "repositories" / "ledger.git").exists()
    assert components(runtime) == 0


def test_a_parameter_schema_is_served_page_by_page(portal: TestClient) -> None:
    schema = portal.get(
        "/api/scaffolder/v2/templates/default/template/tiny-service/parameter-schema"
    ).json()
    assert schema["title"] == "Tiny service"
    assert [step["title"] for step in schema["steps"]] == ["About it", "Where"]


def test_the_actions_are_listed_with_their_schemas(portal: TestClient) -> None:
    actions = {a["id"]: a for a in portal.get("/api/scaffolder/v2/actions").json()}
    assert {"fetch:template", "publish:git", "catalog:register"} <= set(actions)
    assert "repoUrl" in actions["publish:git"]["schema"]["input"]["properties"]
