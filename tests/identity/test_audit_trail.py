"""Every state-changing route writes its audit row, attributed to the signed-in person, with
the client address and the request id; a route list that grows without a row here fails."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from pavedroad.app import create_app
from pavedroad.audit.models import AuditEvent
from pavedroad.deploy.models import Deployment, EnvironmentState
from pavedroad.identity.models import ApiToken
from pavedroad.runtime import Runtime, build_runtime
from tests.conftest import git
from tests.deploy.analysis_support import tiny_service
from tests.deploy.service_support import finished
from tests.helpers import component, write_entities
from tests.identity.conftest import PASSWORD, csrf_of, new_client, sign_in
from tests.pipelines.engine_support import make_repository
from tests.pipelines.trigger_support import push_payload, register_component, signed, with_secret
from tests.scaffolder.conftest import SKELETON, TEMPLATE_REF, TINY_TEMPLATE

DEPLOY_ROUTES = "/api/deploy/v1/components/{kind}/{namespace}/{name}"
# Routes that change nothing stored (or record through their own tests).
READ_ONLY = {
    ("POST", "/api/catalog/entities/by-refs"),  # a read with a body
    ("POST", "/api/catalog/validate-entity"),
    ("POST", "/api/catalog/analyze-location"),
    ("POST", "/catalog-import/validate"),
    ("POST", "/sign-in"),  # auth.signed-in / auth.failed: tests/identity/test_sign_in.py
    ("POST", "/api/scaffolder/v2/dry-run"),  # renders into a scratch folder, stores nothing
    ("POST", "/api/security/osv/v1/query"),  # OSV queries: reads with a body
    ("POST", "/api/security/osv/v1/querybatch"),
}


@dataclass(frozen=True)
class Step:
    method: str
    route: str
    event: str
    call: Callable[[TestClient, dict[str, str]], object]
    actor: str = "user:default/ada"  # public routes act as who signed the request


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
    settings = with_secret(secure_runtime.settings)  # webhooks are on
    permissions = settings.permissions.model_copy(update={"admins": ["user:default/ada"]})
    return build_runtime(
        settings.model_copy(update={"permissions": permissions}), db=secure_runtime.db
    )


@pytest.fixture
def ada(admin_runtime: Runtime) -> Iterator[TestClient]:
    with new_client(admin_runtime) as client:
        assert sign_in(client, "ada", PASSWORD).status_code == 303
        yield client


def ran_well(runtime: Runtime, ref: str, environment: str, commit: str, times: int = 1) -> None:
    """Deployments of ``commit`` that succeeded there (rows only: no audit of their own)."""
    with runtime.db.session() as session:
        for number in range(times):
            row = Deployment(
                id=f"{ref.rsplit('/', 1)[-1]}-{environment}-{number}",
                component_ref=ref,
                environment=environment,
                version="main",
                commit=commit,
                trigger="manual",
                triggered_by="user:default/ada",
                target="process",
                status="succeeded",
                created_at=datetime.now(UTC) + timedelta(seconds=number),
            )
            session.add(row)
            state = session.get(EnvironmentState, (ref, environment)) or EnvironmentState(
                component_ref=ref, environment=environment
            )
            state.current_id = state.last_good_id = row.id
            state.updated_at = datetime.now(UTC)
            session.add(state)
            session.flush()


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
    shipped = "/api/deploy/v1/components/component/default/shipped"
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

    def run_pipeline_from_page(client: TestClient, _: dict[str, str]) -> object:
        repository = make_repository(tmp_path, {"README.md": "hello\n"}, name="piped")
        ref = register_component(admin_runtime, tmp_path, "piped", repository)
        response = client.post(
            "/pipelines/runs", data={"component": ref, **form}, follow_redirects=False
        )
        state["pipeline_run"] = response.headers["location"].rsplit("/", 1)[-1]
        return response

    def run_pipeline(client: TestClient, _: dict[str, str]) -> object:
        body = client.post(
            "/api/pipelines/v1/runs", json={"component": "component:default/piped"}, headers=csrf
        ).json()
        state["api_run"] = body["id"]
        return body

    def webhook(provider: str) -> Callable[[TestClient, dict[str, str]], object]:
        def call(client: TestClient, _: dict[str, str]) -> object:
            commit = git("rev-parse", "HEAD", cwd=tmp_path / "work" / "piped").strip()
            url = (tmp_path / "remotes" / "piped.git").as_uri()
            body, headers = signed(provider, *push_payload(provider, url, commit))
            return client.post(
                f"/api/pipelines/v1/webhooks/{provider}", content=body, headers=headers
            )

        return call

    def deploy(client: TestClient, _: dict[str, str]) -> object:
        repository = make_repository(tmp_path, {"README.md": "hello\n"}, name="shipped")
        register_component(admin_runtime, tmp_path, "shipped", repository)
        response = client.post(
            f"{shipped}/deployments", json={"environment": "dev", "version": "main"}, headers=csrf
        )
        finished(admin_runtime, response.json()["id"])
        commit = git("rev-parse", "HEAD", cwd=tmp_path / "work" / "shipped").strip()
        # What the promotion and the rollback after this need: versions that ran well.
        ran_well(admin_runtime, "component:default/shipped", "dev", commit)
        ran_well(admin_runtime, "component:default/shipped", "staging", commit, times=2)
        return response

    def settled(response: object) -> object:
        """Wait until no deploy is under way (a failed one's automatic rollback included), so
        that what a page deploy starts in the background is not counted in the next step."""
        quiet = 0
        for _ in range(600):
            with admin_runtime.db.read_session() as session:
                active = session.scalar(
                    select(Deployment.id).where(
                        Deployment.status.in_(("queued", "deploying", "analysing"))
                    )
                )
            quiet = quiet + 1 if active is None else 0
            if quiet >= 3:
                return response
            time.sleep(0.1)
        raise AssertionError("deploys still under way after 60 s")

    def promote_from_page(client: TestClient, _: dict[str, str]) -> object:
        repository = make_repository(tmp_path, {"README.md": "paged\n"}, name="paged")
        register_component(admin_runtime, tmp_path, "paged", repository)
        commit = git("rev-parse", "HEAD", cwd=tmp_path / "work" / "paged").strip()
        ran_well(admin_runtime, "component:default/paged", "dev", commit, times=2)
        response = client.post(
            "/deployments/component/default/paged/promote",
            data={"from": "dev", "to": "staging", **form},
            follow_redirects=False,
        )
        return settled(response)

    def rollback_from_page(client: TestClient, _: dict[str, str]) -> object:
        # What runs in dev answers its health check, so the failed rollback (nothing real to
        # roll back to) leaves it be instead of redeploying it as pavedroad itself.
        with tiny_service() as service, admin_runtime.db.session() as session:
            port = int(service.url.rsplit(":", 1)[1])
            row = session.get(Deployment, "paged-dev-1")
            assert row is not None
            row.target_state = {"pid": os.getpid(), "port": port, "health": "/healthz"}
            session.commit()
            response = client.post(
                "/deployments/component/default/paged/rollback",
                data={"environment": "dev", **form},
                follow_redirects=False,
            )
            return settled(response)

    def external_report(client: TestClient, _: dict[str, str]) -> object:
        report = {
            "system": "argo",
            "repository": "https://github.com/acme/piped",
            "commit": "a" * 40,
            "branch": "main",
            "external_id": "piped-1",
            "status": "running",
        }
        return client.post("/api/pipelines/v1/runs/external", json=report, headers=csrf)

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

    def grant_exception(client: TestClient, _: dict[str, str]) -> object:
        guarded = write_entities(tmp_path / "guarded.yaml", component("guarded", owner="team-a"))
        client.post(
            "/api/catalog/locations", json={"type": "file", "target": str(guarded)}, headers=csrf
        )
        expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        body = client.post(
            "/api/security/v1/exceptions",
            json={
                "component": "component:default/guarded",
                "rule": "PYSEC-2019-13",
                "reason": "not reachable from outside; upgrade planned",
                "expires_at": expires,
            },
            headers=csrf,
        ).json()
        assert "id" in body, body
        state["exception"] = body["id"]
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
        Step("POST", "/pipelines/runs", "pipeline.run.started", run_pipeline_from_page),
        Step(
            "POST",
            "/pipelines/runs/{run_id}/cancel",
            "pipeline.run.cancelled",
            lambda c, s: c.post(f"/pipelines/runs/{s['pipeline_run']}/cancel", data=form),
        ),
        Step("POST", "/api/pipelines/v1/runs", "pipeline.run.started", run_pipeline),
        Step(
            "POST",
            "/api/pipelines/v1/runs/{run_id}/cancel",
            "pipeline.run.cancelled",
            lambda c, s: c.post(f"/api/pipelines/v1/runs/{s['api_run']}/cancel", headers=csrf),
        ),
        Step(
            "POST",
            "/api/pipelines/v1/repositories",
            "pipeline.repository.watched",
            lambda c, s: c.post(
                "/api/pipelines/v1/repositories",
                json={"url": "https://example.test/acme/watched"},
                headers=csrf,
            ),
        ),
        Step(
            "DELETE",
            "/api/pipelines/v1/repositories",
            "pipeline.repository.unwatched",
            lambda c, s: c.delete(
                "/api/pipelines/v1/repositories",
                params={"url": "https://example.test/acme/watched"},
                headers=csrf,
            ),
        ),
        Step("POST", "/api/pipelines/v1/runs/external", "pipeline.run.reported", external_report),
        *(
            Step(
                "POST",
                f"/api/pipelines/v1/webhooks/{provider}",
                "pipeline.webhook.received",
                webhook(provider),
                actor=f"system:webhook:{provider}",
            )
            for provider in ("github", "gitlab", "gitea")
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
            "/deployments/{kind}/{namespace}/{name}/promote",
            "deployment.started",
            promote_from_page,
        ),
        Step(
            "POST",
            "/deployments/{kind}/{namespace}/{name}/rollback",
            "deployment.started",
            rollback_from_page,
        ),
        Step("POST", f"{DEPLOY_ROUTES}/deployments", "deployment.started", deploy),
        Step(
            "POST",
            f"{DEPLOY_ROUTES}/promote",
            "deployment.started",
            lambda c, s: c.post(
                f"{shipped}/promote", json={"from": "dev", "to": "production"}, headers=csrf
            ),
        ),
        Step(
            "POST",
            f"{DEPLOY_ROUTES}/rollback",
            "deployment.started",
            lambda c, s: c.post(
                f"{shipped}/rollback", json={"environment": "staging"}, headers=csrf
            ),
        ),
        Step("POST", "/api/security/v1/exceptions", "security.exception.created", grant_exception),
        Step(
            "POST",
            "/api/security/v1/exceptions/{exception_id}/revoke",
            "security.exception.revoked",
            lambda c, s: c.post(
                f"/api/security/v1/exceptions/{s['exception']}/revoke", headers=csrf
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
        assert all(row.actor == step.actor for row in rows), step.route
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
