"""Webhooks of GitHub, GitLab and Gitea: signed pushes and pull requests start runs of the
component the repository is; forged, replayed and oversized deliveries are refused and audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pavedroad.app import create_app
from pavedroad.audit.models import AuditEvent
from pavedroad.config import Settings
from pavedroad.pipelines.models import PipelineRun, WebhookDelivery
from pavedroad.pipelines.webhook_events import Ignored, RepositoryEvent, parse_event
from pavedroad.pipelines.webhooks import MAX_BODY_BYTES, prune_webhook_deliveries
from pavedroad.runtime import Runtime, build_runtime
from tests.conftest import git
from tests.identity import conftest as identity
from tests.identity.conftest import new_client
from tests.pipelines.engine_support import commit_files, make_repository
from tests.pipelines.trigger_support import (
    SECRET,
    pull_request_payload,
    push_payload,
    register_component,
    signed,
    with_secret,
)

PROVIDERS = ("github", "gitlab", "gitea")
secure_runtime = identity.secure_runtime  # fixtures: a portal that needs signing in
signed_out_settings = identity.signed_out_settings


@pytest.fixture
def hooked(settings: Settings, runtime: Runtime) -> Iterator[Runtime]:
    """The runtime with a webhook secret, on the test's database."""
    built = build_runtime(with_secret(settings), db=runtime.db)
    yield built


@pytest.fixture
def hooks(hooked: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(hooked, run_jobs=False)) as client:
        yield client


@pytest.fixture
def repository(tmp_path: Path, hooked: Runtime) -> tuple[str, Path, str]:
    """A component's bare repository: its URL, a working copy, and the component's ref."""
    url = make_repository(tmp_path, {"README.md": "# payments\n"}, name="payments")
    ref = register_component(hooked, tmp_path, "payments", url)
    return url, tmp_path / "work" / "payments", ref


def new_commit(work: Path, branch: str = "main") -> str:
    if branch != "main":
        git("checkout", "--quiet", "-B", branch, cwd=work)
    commit = commit_files(work, {"app.py": f"print('{branch}')\n"}, f"change on {branch}")
    git("push", "--quiet", "origin", branch, cwd=work)
    return commit


def audit_rows(runtime: Runtime, event: str) -> list[AuditEvent]:
    with runtime.db.read_session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event == event)))


def runs(runtime: Runtime) -> list[PipelineRun]:
    with runtime.db.read_session() as session:
        return list(session.scalars(select(PipelineRun).order_by(PipelineRun.created_at)))


def post(client: TestClient, provider: str, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(f"/api/pipelines/v1/webhooks/{provider}", content=body, headers=headers)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signed_push_starts_a_run_of_the_component(
    provider: str, hooked: Runtime, hooks: TestClient, repository: tuple[str, Path, str]
) -> None:
    url, work, ref = repository
    commit = new_commit(work)
    event, payload = push_payload(provider, url, commit)

    response = post(hooks, provider, *signed(provider, event, payload))

    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["component"] == ref and answer["links"]["self"].endswith(answer["run"]["id"])
    (run,) = runs(hooked)
    assert (run.id, run.component_ref, run.trigger) == (answer["run"]["id"], ref, "push")
    assert (run.branch, run.commit, run.status) == ("main", commit, "queued")
    assert run.changed_paths == ["README.md", "app.py"]
    assert run.triggered_by == f"system:webhook:{provider}"
    (received,) = audit_rows(hooked, "pipeline.webhook.received")
    assert received.details["run"] == run.id and received.client_ip == "testclient"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_pull_request_with_new_commits_runs_its_head(
    provider: str, hooked: Runtime, hooks: TestClient, repository: tuple[str, Path, str]
) -> None:
    url, work, ref = repository
    commit = new_commit(work, "feature/quotes")
    action = "synchronized" if provider == "gitea" else "synchronize"
    if provider == "gitlab":
        action = "open"
    event, payload = pull_request_payload(provider, url, commit, "feature/quotes", action=action)

    response = post(hooks, provider, *signed(provider, event, payload))

    assert response.status_code == 202, response.text
    (run,) = runs(hooked)
    assert (run.trigger, run.branch, run.commit, run.component_ref) == (
        "pull_request",
        "feature/quotes",
        commit,
        ref,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_signature_is_refused_and_audited(
    provider: str, hooked: Runtime, hooks: TestClient, repository: tuple[str, Path, str]
) -> None:
    url, work, _ = repository
    event, payload = push_payload(provider, url, new_commit(work))
    body, headers = signed(provider, event, payload, secret="not-the-secret")

    response = post(hooks, provider, body, headers)

    assert response.status_code == 401
    assert "PAVEDROAD_PIPELINES__WEBHOOK_SECRET" in response.json()["error"]["message"]
    assert runs(hooked) == []
    (refused,) = audit_rows(hooked, "pipeline.webhook.refused")
    assert refused.result == "denied" and refused.client_ip == "testclient"
    assert refused.details["provider"] == provider
    assert "wrong" in refused.details["reason"] or "bad signature" in refused.details["reason"]
    dumped = repr((refused.details, refused.target))
    assert SECRET not in dumped and "not-the-secret" not in dumped and url not in dumped


def test_webhooks_need_no_sign_in_where_everything_else_does(
    secure_runtime: Runtime, tmp_path: Path
) -> None:
    public = build_runtime(with_secret(secure_runtime.settings), db=secure_runtime.db)
    url = make_repository(tmp_path, {"README.md": "x\n"}, name="ledger-repo")
    register_component(public, tmp_path, "ledger-repo", url)
    event, payload = push_payload("github", url, new_commit(tmp_path / "work" / "ledger-repo"))
    with new_client(public) as browser:
        response = post(browser, "github", *signed("github", event, payload))
        assert browser.get("/api/pipelines/v1/runs").status_code == 401
    assert response.status_code == 202, response.text


def test_a_body_changed_after_signing_is_refused(
    hooked: Runtime, hooks: TestClient, repository: tuple[str, Path, str]
) -> None:
    url, work, _ = repository
    event, payload = push_payload("github", url, new_commit(work))
    body, headers = signed("github", event, payload)

    response = post(hooks, "github", body.replace(b"main", b"prod"), headers)

    assert response.status_code == 401 and runs(hooked) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_replayed_delivery_is_refused_and_audited(
    provider: str, hooked: Runtime, hooks: TestClient, repository: tuple[str, Path, str]
) -> None:
    url, work, _ = repository
    event, payload = push_payload(provider, url, new_commit(work))
    body, headers = signed(provider, event, payload)
    assert post(hooks, provider, body, headers).status_code == 202

    replay = post(hooks, provider, body, headers)

    assert replay.status_code == 409
    assert "already received" in replay.json()["error"]["message"]
    assert len(runs(hooked)) == 1
    (refused,) = audit_rows(hooked, "pipeline.webhook.refused")
    assert refused.result == "denied" and "replay" in refused.details["reason"]


def test_a_delivery_without_an_id_is_refused_saying_why(
    hooked: Runtime, hooks: TestClient, repository: tuple[str, Path, str]
) -> None:
    url, work, _ = repository
    event, payload = push_payload("github", url, new_commit(work))

    response = post(hooks, "github", *signed("github", event, payload, delivery=None))

    assert response.status_code == 400
    assert "X-Github-Delivery" in response.json()["error"]["message"]
    assert audit_rows(hooked, "pipeline.webhook.refused") and runs(hooked) == []


def test_without_a_secret_webhooks_are_off_and_say_how_to_turn_them_on(
    client: TestClient,
) -> None:
    response = client.post("/api/pipelines/v1/webhooks/github", content=b"{}")

    assert response.status_code == 503
    assert "PAVEDROAD_PIPELINES__WEBHOOK_SECRET" in response.json()["error"]["message"]


def test_an_oversized_body_is_refused(hooked: Runtime, hooks: TestClient) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    headers = {"x-github-event": "push", "x-github-delivery": "big", "content-type": "text/plain"}

    response = post(hooks, "github", body, headers)

    assert response.status_code == 413
    (refused,) = audit_rows(hooked, "pipeline.webhook.refused")
    assert "over" in refused.details["reason"]


def test_a_repository_that_is_no_component_and_not_watched_is_refused_until_watched(
    hooked: Runtime, hooks: TestClient, tmp_path: Path
) -> None:
    url = make_repository(tmp_path, {"README.md": "x\n"}, name="stray")
    commit = new_commit(tmp_path / "work" / "stray")
    event, payload = push_payload("gitea", url, commit)
    body, headers = signed("gitea", event, payload)

    refused = post(hooks, "gitea", body, headers)
    assert refused.status_code == 404
    assert "pavedroad pipeline watch" in refused.json()["error"]["message"]

    watched = hooks.post("/api/pipelines/v1/repositories", json={"url": url})
    assert watched.status_code == 201 and watched.json()["component"] is None
    redelivered = post(hooks, "gitea", body, headers)  # the same delivery id: it was not kept
    assert redelivered.status_code == 202, redelivered.text
    (run,) = runs(hooked)
    assert run.component_ref is None and run.commit == commit


@pytest.mark.parametrize(
    ("provider", "event", "payload", "reason"),
    [
        ("github", "ping", {"zen": "Keep it simple."}, "nothing to run"),
        ("github", "issues", {"action": "opened"}, "do not run pipelines"),
        (
            "gitea",
            "push",
            {"ref": "refs/tags/v1", "after": "a" * 40, "repository": {"clone_url": "x"}},
            "tag",
        ),
        ("gitlab", "Tag Push Hook", {"object_kind": "tag_push"}, "tag"),
    ],
)
def test_events_that_run_nothing_are_answered_200_with_the_reason(
    provider: str, event: str, payload: dict[str, object], reason: str, hooks: TestClient
) -> None:
    response = post(hooks, provider, *signed(provider, event, payload))

    assert response.status_code == 200, response.text
    assert reason in response.json()["ignored"]


def test_old_delivery_ids_are_forgotten(hooked: Runtime) -> None:
    old = datetime.now(UTC) - timedelta(days=8)
    with hooked.db.session() as session:
        session.add(WebhookDelivery(id="github:old", received_at=old))
        session.add(WebhookDelivery(id="github:new", received_at=datetime.now(UTC)))

    assert prune_webhook_deliveries(hooked) == 1

    with hooked.db.read_session() as session:
        assert session.scalars(select(WebhookDelivery.id)).all() == ["github:new"]


class TestParseEvent:
    """Each provider's payload shape, without a database."""

    def test_a_deleted_branch_runs_nothing(self) -> None:
        for provider in PROVIDERS:
            _, payload = push_payload(provider, "https://example.test/x", "0" * 40)
            kind = "Push Hook" if provider == "gitlab" else "push"
            parsed = parse_event(provider, kind, payload)
            assert isinstance(parsed, Ignored) and "deleted" in parsed.reason

    def test_a_github_push_names_every_url_and_path(self) -> None:
        payload = {
            "ref": "refs/heads/main",
            "after": "b" * 40,
            "repository": {
                "clone_url": "https://github.com/acme/x.git",
                "html_url": "https://github.com/acme/x",
                "ssh_url": "git@github.com:acme/x.git",
            },
            "commits": [
                {"added": ["a"], "modified": ["b"], "removed": []},
                {"added": [], "modified": ["b"], "removed": ["c"]},
            ],
        }
        assert parse_event("github", "push", payload) == RepositoryEvent(
            event="push",
            repository_urls=(
                "https://github.com/acme/x.git",
                "https://github.com/acme/x",
                "git@github.com:acme/x.git",
            ),
            branch="main",
            commit="b" * 40,
            changed_paths=["a", "b", "c"],
        )

    def test_a_push_listing_no_commits_has_unknown_changed_paths(self) -> None:
        _, payload = push_payload("github", "https://example.test/x", "c" * 40)
        payload["commits"] = []
        parsed = parse_event("github", "push", payload)
        assert isinstance(parsed, RepositoryEvent) and parsed.changed_paths is None

    def test_a_gitlab_merge_request_edit_without_new_commits_runs_nothing(self) -> None:
        _, payload = pull_request_payload("gitlab", "https://gitlab.example/x", "d" * 40, "f")
        payload["object_attributes"]["action"] = "update"
        assert isinstance(parse_event("gitlab", "Merge Request Hook", payload), Ignored)
        payload["object_attributes"]["oldrev"] = "e" * 40
        parsed = parse_event("gitlab", "Merge Request Hook", payload)
        assert isinstance(parsed, RepositoryEvent) and parsed.event == "pull_request"

    def test_a_closed_pull_request_runs_nothing(self) -> None:
        _, payload = pull_request_payload("github", "x", "d" * 40, "f", action="closed")
        assert isinstance(parse_event("github", "pull_request", payload), Ignored)

    def test_a_payload_without_a_repository_says_so(self) -> None:
        from pavedroad.pipelines.webhook_events import PayloadError

        with pytest.raises(PayloadError, match="repository"):
            parse_event("github", "push", {"ref": "refs/heads/main", "after": "f" * 40})
