"""Every state-changing route writes its audit row, attributed to the signed-in person, with
the client address and the request id; a route list that grows without a row here fails."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from pavedroad.app import create_app
from pavedroad.audit.models import AuditEvent
from pavedroad.identity.models import ApiToken
from pavedroad.runtime import Runtime, build_runtime
from tests.helpers import component, write_entities
from tests.identity.conftest import PASSWORD, csrf_of, new_client, sign_in
from tests.scaffolder.conftest import SKELETON, TEMPLATE_REF, TINY_TEMPLATE

# Routes that change nothing stored (or record through their own tests).
READ_ONLY = {
    ("POST", "/api/catalog/entities/by-refs"),  # a read with a body
    ("POST", "/api/catalog/validate-entity"),
    ("POST", "/api/catalog/analyze-location"),
    ("POST", "/catalog-import/validate"),
    ("POST", "/sign-in"),  # auth.signed-in / auth.failed: tests/identity/test_sign_in.py
    ("POST", "/api/scaffolder/v2/dry-run"),  # renders into a scratch folder, stores nothing
}


@dataclass(frozen=True)
class Step:
    method: str
    route: str
    event: str
    call: Callable[[TestClient, dict[str, str]], object]


def mutating_routes(runtime: Runtime) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(routes: list[object]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.update((m, route.path) for m in route.methods if m not in ("GET", "HEAD"))
            elif hasattr(route, "original_router"):
                walk(list(route.original_router.routes))  # type: ignore[attr-defined]

    walk(list(create_app(runtime, run_jobs=False).routes))
    return found


@pytest.fixture
def admin_runtime(secure_runtime: Runtime) -> Runtime:
    settings = secure_runtime.settings
    permissions = settings.permissions.model_copy(update={"admins": ["user:default/ada"]})
    return build_runtime(
        settings.model_copy(update={"permissions": permissions}), db=secure_runtime.db
    )


@pytest.fixture
def ada(admin_runtime: Runtime) -> Iterator[TestClient]:
    with new_client(admin_runtime) as client:
        assert sign_in(client, "ada", PASSWORD).status_code == 303
        yield client


def new_rows(runtime: Runtime, since: int) -> list[AuditEvent]:
    with runtime.db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.id > since)).all()
        session.expunge_all()
        return list(rows)


def last_id(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return max(session.scalars(select(AuditEvent.id)).all(), default=0)


def test_every_state_change_is_audited(
    admin_runtime: Runtime, ada: TestClient, tmp_path: Path
) -> None:
    csrf = {"x-csrf-token": csrf_of(ada)}
    form = {"csrf_token": csrf["x-csrf-token"]}
    extra = write_entities(tmp_path / "extra.yaml", component("extra", owner="team-a"))
    other = write_entities(tmp_path / "other.yaml", component("other", owner="team-a"))
    state: dict[str, str] = {}
    template_dir = tmp_path / "tiny"
    (template_dir / "skeleton").mkdir(parents=True)
    (template_dir / "skeleton" / "catalog-info.yaml").write_text(SKELETON)
    tiny = {**TINY_TEMPLATE, "spec": {**TINY_TEMPLATE["spec"], "owner": "team-a"}}
    (template_dir / "template.yaml").write_text(yaml.safe_dump(tiny))
    repos = admin_runtime.settings.resolved_repositories_root

    def run_values(name: str, pause: int = 0) -> dict[str, object]:
        return {
            "name": name,
            "owner": "group:default/team-a",
            "repoUrl": f"file://{repos}/{name}.git",
            "pause": pause,
        }

    def run_template(client: TestClient, _: dict[str, str]) -> object:
        client.post(
            "/api/catalog/locations",
            json={"type": "file", "target": str(template_dir / "template.yaml")},
            headers=csrf,
        )
        body = client.post(
            "/api/scaffolder/v2/tasks",
            json={"templateRef": TEMPLATE_REF, "values": run_values("svc-a", pause=30)},
            headers=csrf,
        ).json()
        state["task"] = body["id"]
        return body

    def run_from_page(client: TestClient, _: dict[str, str]) -> object:
        given = json.dumps(run_values("svc-b", pause=30))
        response = client.post(
            "/create/templates/default/tiny-service",
            data={"step": "2", "action": "create", "values_json": given, **form},
            follow_redirects=False,
        )
        state["page_task"] = response.headers["location"].rsplit("/", 1)[-1]
        return response

    def register(client: TestClient, _: dict[str, str]) -> object:
        body = client.post(
            "/api/catalog/locations", json={"type": "file", "target": str(extra)}, headers=csrf
        ).json()
        state["location"] = body["location"]["id"]
        state["uid"] = body["entities"][0]["metadata"]["uid"]
        return body

    def token(client: TestClient, _: dict[str, str]) -> object:
        body = client.post("/api/identity/tokens", json={"name": "t"}, headers=csrf).json()
        state["token"] = body["id"]
        return body

    def page_token(client: TestClient, _: dict[str, str]) -> object:
        return client.post("/settings/tokens", data={"name": "p", **form})

    steps = [
        Step("POST", "/api/catalog/locations", "catalog.location.registered", register),
        Step(
            "POST",
            "/api/catalog/locations/{location_id}/refresh",
            "catalog.location.refreshed",
            lambda c, s: c.post(f"/api/catalog/locations/{s['location']}/refresh", headers=csrf),
        ),
        Step(
            "POST",
            "/api/catalog/refresh",
            "catalog.location.refreshed",
            lambda c, s: c.post(
                "/api/catalog/refresh", json={"entityRef": "component:default/extra"}, headers=csrf
            ),
        ),
        Step(
            "POST",
            "/catalog/{namespace}/{kind}/{name}/refresh",
            "catalog.location.refreshed",
            lambda c, s: c.post("/catalog/default/component/extra/refresh", data=form),
        ),
        Step(
            "POST",
            "/locations/{location_id}/refresh",
            "catalog.location.refreshed",
            lambda c, s: c.post(f"/locations/{s['location']}/refresh", data=form),
        ),
        Step(
            "POST",
            "/catalog/{namespace}/{kind}/{name}/star",
            "catalog.entity.starred",
            lambda c, s: c.post(
                "/catalog/default/component/extra/star", data={"star": "on", **form}
            ),
        ),
        Step(
            "DELETE",
            "/api/catalog/entities/by-uid/{uid}",
            "catalog.entity.deleted",
            lambda c, s: c.delete(f"/api/catalog/entities/by-uid/{s['uid']}", headers=csrf),
        ),
        Step(
            "POST",
            "/catalog/{namespace}/{kind}/{name}/delete",
            "catalog.entity.deleted",
            lambda c, s: c.post("/catalog/default/component/ledger/delete", data=form),
        ),
        Step(
            "DELETE",
            "/api/catalog/locations/{location_id}",
            "catalog.location.unregistered",
            lambda c, s: c.delete(f"/api/catalog/locations/{s['location']}", headers=csrf),
        ),
        Step(
            "POST",
            "/catalog-import",
            "catalog.location.registered",
            lambda c, s: c.post(
                "/catalog-import",
                data={"mode": "target", "type": "file", "target": str(other), **form},
            ),
        ),
        Step("POST", "/api/scaffolder/v2/tasks", "scaffolder.template.run", run_template),
        Step(
            "POST",
            "/api/scaffolder/v2/tasks/{task_id}/cancel",
            "scaffolder.task.cancelled",
            lambda c, s: c.post(f"/api/scaffolder/v2/tasks/{s['task']}/cancel", headers=csrf),
        ),
        Step(
            "POST", "/create/templates/{namespace}/{name}", "scaffolder.template.run", run_from_page
        ),
        Step(
            "POST",
            "/create/tasks/{task_id}/cancel",
            "scaffolder.task.cancelled",
            lambda c, s: c.post(f"/create/tasks/{s['page_task']}/cancel", data=form),
        ),
        Step("POST", "/api/identity/tokens", "identity.token.created", token),
        Step(
            "DELETE",
            "/api/identity/tokens/{token_id}",
            "identity.token.revoked",
            lambda c, s: c.delete(f"/api/identity/tokens/{s['token']}", headers=csrf),
        ),
        Step("POST", "/settings/tokens", "identity.token.created", page_token),
        Step(
            "POST",
            "/settings/tokens/{token_id}/revoke",
            "identity.token.revoked",
            lambda c, s: c.post(
                f"/settings/tokens/{_newest_token(admin_runtime)}/revoke", data=form
            ),
        ),
        Step(
            "POST",
            "/cli/authorize",
            "identity.token.created",
            lambda c, s: c.post(
                "/cli/authorize", data={"port": "50000", "state": "s" * 20, "name": "x", **form}
            ),
        ),
        Step(
            "POST",
            "/api/identity/sessions/revoke-all",
            "auth.signed-out-everywhere",
            lambda c, s: c.post("/api/identity/sessions/revoke-all", headers=csrf),
        ),
    ]
    for step in steps:
        before = last_id(admin_runtime)
        step.call(ada, state)
        rows = [row for row in new_rows(admin_runtime, before) if row.event == step.event]
        assert rows, f"{step.method} {step.route} wrote no {step.event} row"
        assert all(row.actor == "user:default/ada" for row in rows), step.route
        assert rows[0].client_ip == "testclient" and rows[0].request_id, step.route
        if step.event == "auth.signed-out-everywhere":
            assert sign_in(ada, "ada", PASSWORD).status_code == 303  # for the steps after
            csrf["x-csrf-token"] = form["csrf_token"] = csrf_of(ada)
    covered = {(step.method, step.route) for step in steps}
    sign_outs = {("POST", "/sign-out"), ("POST", "/sign-out/everywhere")}  # test_sign_in.py
    assert mutating_routes(admin_runtime) - READ_ONLY - sign_outs == covered


def _newest_token(runtime: Runtime) -> str:
    with runtime.db.session() as session:
        return str(
            session.scalars(select(ApiToken.id).order_by(ApiToken.created_at.desc())).first()
        )
