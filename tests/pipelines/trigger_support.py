"""What the trigger tests share: a catalog component whose repository is a real bare repository,
webhook deliveries signed as each provider signs them, and payloads in each provider's shape."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from pathlib import Path
from typing import Any

import orjson

from pavedroad.catalog import service as catalog
from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from tests.helpers import component, write_entities

SECRET = "webhook-secret-for-tests"
OPERATOR = Actor.system("test-operator")
_ids = itertools.count(1)


def with_secret(settings: Settings, secret: str = SECRET, **pipelines: Any) -> Settings:
    update = {"webhook_secret": secret, **pipelines}
    return settings.model_copy(
        update={
            "pipelines": settings.pipelines.model_validate(
                {**settings.pipelines.model_dump(), **update}
            )
        }
    )


def register_component(
    runtime: Runtime, folder: Path, name: str, repository: str, owner: str = "team-a"
) -> str:
    """A component ``name`` whose source location is ``repository``; its ref."""
    entity = component(name, owner=owner)
    entity["metadata"]["annotations"] = {"backstage.io/source-location": f"url:{repository}"}
    path = write_entities(folder / f"{name}-catalog-info.yaml", entity)
    with runtime.db.session() as session:
        catalog.register_locations(session, runtime.catalog, [("file", str(path))], actor=OPERATOR)
    return f"component:default/{name}"


def delivery_id() -> str:
    return f"delivery-{next(_ids)}"


def signed(
    provider: str,
    event: str,
    payload: dict[str, Any],
    *,
    secret: str = SECRET,
    delivery: str | None = "new",
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery as ``provider`` sends it."""
    body = orjson.dumps(payload)
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    the_id = delivery_id() if delivery == "new" else delivery
    headers = {"content-type": "application/json"}
    if provider == "github":
        headers |= {"x-github-event": event, "x-hub-signature-256": f"sha256={digest}"}
        if the_id:
            headers["x-github-delivery"] = the_id
    elif provider == "gitea":
        headers |= {"x-gitea-event": event, "x-gitea-signature": digest}
        if the_id:
            headers["x-gitea-delivery"] = the_id
    else:
        headers |= {"x-gitlab-event": event, "x-gitlab-token": secret}
        if the_id:
            headers["x-gitlab-event-uuid"] = the_id
    return body, headers


def push_payload(
    provider: str,
    repository: str,
    commit: str,
    *,
    branch: str = "main",
    ref: str | None = None,
    before: str = "0" * 40,
    paths: tuple[list[str], list[str], list[str]] = (["app.py"], ["README.md"], []),
) -> tuple[str, dict[str, Any]]:
    """``(event header value, payload)`` of a push to ``branch`` of ``repository``."""
    added, modified, removed = paths
    commits = [{"id": commit, "added": added, "modified": modified, "removed": removed}]
    pushed = {"ref": ref or f"refs/heads/{branch}", "before": before, "after": commit}
    if provider == "gitlab":
        project = {"git_http_url": repository, "web_url": "https://gitlab.example/acme/x"}
        payload = {"object_kind": "push", **pushed, "commits": commits, "project": project}
        return "Push Hook", payload
    hosted = {"clone_url": repository, "html_url": "https://example.test/acme/x"}
    return "push", {**pushed, "commits": commits, "repository": hosted}


def pull_request_payload(
    provider: str, repository: str, commit: str, branch: str, *, action: str = "opened"
) -> tuple[str, dict[str, Any]]:
    if provider == "gitlab":
        attributes = {
            "iid": 7,
            "action": {"opened": "open", "closed": "close"}.get(action, action),
            "source_branch": branch,
            "target_branch": "main",
            "last_commit": {"id": commit},
        }
        project = {"git_http_url": repository, "web_url": "https://gitlab.example/acme/x"}
        return "Merge Request Hook", {
            "object_kind": "merge_request",
            "object_attributes": attributes,
            "project": project,
        }
    request = {"number": 7, "head": {"ref": branch, "sha": commit}, "base": {"ref": "main"}}
    return "pull_request", {
        "action": action,
        "number": 7,
        "pull_request": request,
        "repository": {"clone_url": repository},
    }
