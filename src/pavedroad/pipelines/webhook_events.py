"""What a GitHub, GitLab or Gitea webhook says happened, in one shape: a push to a branch or a
pull (merge) request that gained commits, with the repository's URLs, the commit and the
changed paths. Everything else (pings, tags, deleted branches, closed requests) is ignored
with the reason why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pavedroad.core.errors import InputError

PROVIDERS = ("github", "gitlab", "gitea")
_BRANCH_PREFIX = "refs/heads/"


@dataclass(frozen=True, slots=True)
class RepositoryEvent:
    """A push or a pull request that should run the repository's pipeline."""

    event: str  # "push" or "pull_request"
    repository_urls: tuple[str, ...]  # clone, web and ssh URLs, best first
    branch: str
    commit: str
    changed_paths: list[str] | None  # None: the payload does not say (a pull request)
    number: int | None = None  # the pull (merge) request's number


@dataclass(frozen=True, slots=True)
class Ignored:
    """A delivery that is understood and deliberately does nothing."""

    reason: str


class PayloadError(InputError):
    """The payload is not what the provider's event of that name looks like."""


def parse_event(provider: str, kind: str, payload: Any) -> RepositoryEvent | Ignored:
    """The event of ``provider``'s delivery of type ``kind`` (its event header's value)."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"The {provider} webhook body is not a JSON object")
    name = kind.strip().lower()
    if name in ("ping", "system hook"):
        return Ignored(f"{kind} event: nothing to run")
    if provider == "gitlab":
        return _gitlab(name, payload)
    if name == "push":
        return _push(provider, payload, _hosted_urls(payload.get("repository")))
    if name == "pull_request" or name.startswith("pull_request_"):
        return _pull_request(provider, payload)
    return Ignored(f"{kind} events do not run pipelines (push and pull_request do)")


def _gitlab(name: str, payload: Mapping[str, Any]) -> RepositoryEvent | Ignored:
    kind = payload.get("object_kind") or name
    if kind in ("tag_push", "tag push hook"):
        return Ignored("tag pushes do not run pipelines")
    if kind in ("push", "push hook"):
        return _push("gitlab", payload, _gitlab_urls(payload))
    if kind in ("merge_request", "merge request hook"):
        attributes = _mapping(payload, "object_attributes", "gitlab")
        action = str(attributes.get("action") or "")
        if action == "update" and not attributes.get("oldrev"):
            return Ignored("the merge request changed without new commits")
        if action not in ("open", "reopen", "update"):
            return Ignored(f"merge request action {action or '(none)'!r} does not run pipelines")
        last = _mapping(attributes, "last_commit", "gitlab")
        return RepositoryEvent(
            event="pull_request",
            repository_urls=_gitlab_urls(payload),
            branch=_text(attributes, "source_branch", "gitlab"),
            commit=_text(last, "id", "gitlab"),
            changed_paths=None,
            number=_number(attributes.get("iid")),
        )
    return Ignored(f"GitLab {kind} events do not run pipelines (push and merge requests do)")


def _push(
    provider: str, payload: Mapping[str, Any], urls: tuple[str, ...]
) -> RepositoryEvent | Ignored:
    ref = _text(payload, "ref", provider)
    if ref.startswith("refs/tags/"):
        return Ignored("tag pushes do not run pipelines")
    if not ref.startswith(_BRANCH_PREFIX):
        return Ignored(f"{ref} is not a branch")
    after = str(payload.get("after") or "")
    if payload.get("deleted") is True or after.strip("0") == "":
        return Ignored(f"branch {ref.removeprefix(_BRANCH_PREFIX)} was deleted")
    return RepositoryEvent(
        event="push",
        repository_urls=urls,
        branch=ref.removeprefix(_BRANCH_PREFIX),
        commit=after,
        changed_paths=_changed_paths(payload.get("commits")),
    )


def _pull_request(provider: str, payload: Mapping[str, Any]) -> RepositoryEvent | Ignored:
    action = str(payload.get("action") or "")
    # GitHub says "synchronize", Gitea "synchronized".
    if action not in ("opened", "reopened", "synchronize", "synchronized"):
        return Ignored(f"pull request action {action or '(none)'!r} does not run pipelines")
    request = _mapping(payload, "pull_request", provider)
    head = _mapping(request, "head", provider)
    urls = _hosted_urls(payload.get("repository"))
    return RepositoryEvent(
        event="pull_request",
        repository_urls=urls,
        branch=_text(head, "ref", provider),
        commit=_text(head, "sha", provider),
        changed_paths=None,
        number=_number(request.get("number") or payload.get("number")),
    )


def _changed_paths(commits: Any) -> list[str] | None:
    """Every path the pushed commits added, modified or removed; None when the payload lists
    no commits (a forced push may list none, so nothing can be said)."""
    if not isinstance(commits, list) or not commits:
        return None
    paths: set[str] = set()
    for commit in commits:
        if not isinstance(commit, Mapping):
            continue
        for key in ("added", "modified", "removed"):
            listed = commit.get(key)
            if isinstance(listed, list):
                paths.update(str(path) for path in listed)
    return sorted(paths)


def _hosted_urls(repository: Any) -> tuple[str, ...]:
    if not isinstance(repository, Mapping):
        raise PayloadError("The webhook body has no repository object")
    keys = ("clone_url", "html_url", "ssh_url", "git_url", "url")
    found = _urls(repository, keys)
    if not found:
        raise PayloadError(f"The webhook's repository has none of {', '.join(keys)}")
    return found


def _gitlab_urls(payload: Mapping[str, Any]) -> tuple[str, ...]:
    keys = ("git_http_url", "web_url", "git_ssh_url", "http_url", "homepage", "url")
    found: tuple[str, ...] = ()
    for part in (payload.get("project"), payload.get("repository")):
        if isinstance(part, Mapping):
            found += tuple(url for url in _urls(part, keys) if url not in found)
    if not found:
        raise PayloadError("The GitLab webhook body has no project.git_http_url or web_url")
    return found


def _urls(part: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, ...]:
    urls = [part.get(key) for key in keys]
    return tuple(dict.fromkeys(url for url in urls if isinstance(url, str) and url.strip()))


def _mapping(payload: Mapping[str, Any], key: str, provider: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if not isinstance(value, Mapping):
        raise PayloadError(f"The {provider} webhook body has no {key} object")
    return value


def _text(payload: Mapping[str, Any], key: str, provider: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"The {provider} webhook body has no {key}")
    return value.strip()


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) else None
