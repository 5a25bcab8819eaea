"""Polling the watched repositories for new commits: each branch head that moved since the last
look starts a run (trigger ``poll``). A repository seen for the first time runs its default
branch once, so a freshly generated service runs its pipeline, and only records its other
branches. One repository's failure is stored on its row and never stops the others."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pavedroad.core.actors import Actor
from pavedroad.core.errors import PavedroadError
from pavedroad.core.git import failure_reason, git
from pavedroad.pipelines import service, workspace
from pavedroad.pipelines.models import WatchedRepository
from pavedroad.pipelines.repositories import component_for_repository
from pavedroad.pipelines.watched import list_watched, sync_catalog_repositories

if TYPE_CHECKING:
    from pavedroad.config import Settings
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)

POLLER = Actor.system("pipeline-poller")
LS_REMOTE_TIMEOUT_SECONDS = 30
_HEAD_SYMREF = re.compile(r"^ref:\s+refs/heads/(\S+)\s+HEAD$", re.MULTILINE)
_HEAD_LINE = re.compile(r"^([0-9a-f]{40,64})\s+refs/heads/(\S+)$", re.MULTILINE)


class RepositoryUnreachable(PavedroadError):  # noqa: N818 - reads as what it is
    status_code = 400
    name = "RepositoryUnreachable"


@dataclass(frozen=True, slots=True)
class RemoteHeads:
    """The branches of a repository and their commits, and which branch is its default."""

    default_branch: str | None
    heads: dict[str, str]


@dataclass(slots=True)
class PollResult:
    url: str
    started: list[str] = field(default_factory=list)  # run ids
    error: str | None = None


def list_heads(url: str, *, timeout: float = LS_REMOTE_TIMEOUT_SECONDS) -> RemoteHeads:
    """``git ls-remote`` of ``url``: its branch heads and default branch (HEAD's target)."""
    answer = git(
        ["ls-remote", "--symref", url, "HEAD", "refs/heads/*"],
        protocols=workspace.PROTOCOLS,
        timeout=timeout,
    )
    if answer.returncode != 0:
        raise RepositoryUnreachable(
            f"cannot list the branches of {url}: {failure_reason(answer.stderr)}"
        )
    heads = {branch: commit for commit, branch in _HEAD_LINE.findall(answer.stdout)}
    symref = _HEAD_SYMREF.search(answer.stdout)
    default = symref.group(1) if symref else None
    if default is None or default not in heads:
        default = next((b for b in ("main", "master", "trunk") if b in heads), None)
    return RemoteHeads(default, heads)


def due_runs(
    seen: dict[str, str], remote: RemoteHeads, *, first_sight: bool
) -> list[tuple[str, str | None, str]]:
    """``(branch, previous commit, new commit)`` of each branch to run."""
    if first_sight:
        default = remote.default_branch
        return [(default, None, remote.heads[default])] if default is not None else []
    return [
        (branch, seen.get(branch), commit)
        for branch, commit in sorted(remote.heads.items())
        if seen.get(branch) != commit
    ]


def poll_watched_repositories(runtime: Runtime) -> list[PollResult]:
    """Look at every watched repository once (the catalog's local ones first brought in)."""
    with runtime.db.session() as session:
        sync_catalog_repositories(session)
        session.flush()
        urls = [row.url for row in list_watched(session)]
    results = []
    for url in urls:
        try:
            results.append(poll_repository(runtime, url))
        except Exception as error:  # one repository's trouble never stops the others
            reason = error.message if isinstance(error, PavedroadError) else repr(error)
            log.warning("polling a repository failed", extra={"repository": url, "error": reason})
            _store_error(runtime, url, reason)
            results.append(PollResult(url, error=reason))
    return results


def poll_repository(runtime: Runtime, url: str) -> PollResult:
    """Start a run for each branch of ``url`` that moved since the last look.

    The heads are claimed in one transaction with the row locked, so two servers polling
    at once start each run once; a run that cannot be started gives its branch back.
    """
    remote = list_heads(url)
    with runtime.db.session() as session:
        row = session.get(WatchedRepository, url, with_for_update=True)
        if row is None:  # unwatched meanwhile
            return PollResult(url)
        seen = dict(row.heads or {})
        due = due_runs(seen, remote, first_sight=row.checked_at is None)
        row.heads = dict(remote.heads)
        row.checked_at = datetime.now(UTC)
        row.error = None
        component = row.component_ref or component_for_repository(session, url)
    result = PollResult(url)
    failures = []
    for branch, before, after in due:
        try:
            result.started.append(_start(runtime, url, component, branch, before, after))
        except Exception as error:
            reason = error.message if isinstance(error, PavedroadError) else repr(error)
            log.warning(
                "a polled commit could not start its run",
                extra={"repository": url, "branch": branch, "error": reason},
            )
            failures.append(f"{branch}: {reason}")
            _give_back(runtime, url, branch, before)
    if failures:
        result.error = "; ".join(failures)
        _store_error(runtime, url, result.error)
    return result


def _start(
    runtime: Runtime, url: str, component: str | None, branch: str, before: str | None, after: str
) -> str:
    run = service.start_run(
        runtime,
        repository=url,
        trigger="poll",
        actor=POLLER,
        branch=branch,
        commit=after,
        component_ref=component,
        changed_paths=changed_paths(runtime.settings, url, before, after),
        event="push",
    )
    return run.id


def changed_paths(settings: Settings, url: str, before: str | None, after: str) -> list[str] | None:
    """The paths changed between two commits, from the repository's mirror; None when that
    cannot be said (a new branch, a forced push whose old commit is gone)."""
    if before is None:
        return None
    mirror = workspace.fetch(settings, url)
    diff = git(["diff", "--name-only", before, after], cwd=mirror)
    if diff.returncode != 0:
        return None
    return sorted(line for line in diff.stdout.splitlines() if line)


def _give_back(runtime: Runtime, url: str, branch: str, before: str | None) -> None:
    """Let the next poll try the branch again."""
    with runtime.db.session() as session:
        row = session.get(WatchedRepository, url, with_for_update=True)
        if row is None:
            return
        heads = dict(row.heads or {})
        if before is None:
            heads.pop(branch, None)
        else:
            heads[branch] = before
        row.heads = heads


def _store_error(runtime: Runtime, url: str, reason: str) -> None:
    with runtime.db.session() as session:
        row = session.get(WatchedRepository, url)
        if row is not None:
            row.error = reason[:4000]
