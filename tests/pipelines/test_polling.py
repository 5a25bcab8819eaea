"""Polling watched repositories: the repositories of components with a local source location
are watched with no setup, a repository seen for the first time runs its default branch once,
each branch that moves runs again, and one broken repository never stops the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.config import get_settings
from pavedroad.core.actors import Actor
from pavedroad.core.errors import ConflictError
from pavedroad.pipelines.models import PipelineRun, WatchedRepository
from pavedroad.pipelines.polling import list_heads, poll_watched_repositories
from pavedroad.pipelines.watched import unwatch_repository, watch_repository
from pavedroad.runtime import Runtime
from tests.conftest import git
from tests.pipelines.engine_support import commit_files, make_repository
from tests.pipelines.trigger_support import register_component

ACTOR = Actor(ref="user:default/tester")


def runs(runtime: Runtime) -> list[PipelineRun]:
    with runtime.db.read_session() as session:
        return list(session.scalars(select(PipelineRun).order_by(PipelineRun.created_at)))


def watched_row(runtime: Runtime, url: str) -> WatchedRepository:
    with runtime.db.read_session() as session:
        row = session.get(WatchedRepository, url)
        assert row is not None
        return row


def push(work: Path, files: dict[str, str], branch: str = "main") -> str:
    if git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).strip() != branch:
        git("checkout", "--quiet", "-B", branch, cwd=work)
    commit = commit_files(work, files, f"change on {branch}")
    git("push", "--quiet", "origin", branch, cwd=work)
    return commit


@pytest.fixture
def service_repo(runtime: Runtime, tmp_path: Path) -> tuple[str, Path, str]:
    """A component whose source location is a local bare repository, as the scaffolder makes."""
    url = make_repository(tmp_path, {"README.md": "# quotes\n"}, name="quotes")
    ref = register_component(runtime, tmp_path, "quotes", url)
    return url, tmp_path / "work" / "quotes", ref


class TestListHeads:
    def test_a_bare_repository_by_path_and_by_file_url(self, tmp_path: Path) -> None:
        url = make_repository(tmp_path, {"a.txt": "a\n"}, name="lib")
        head = git("rev-parse", "HEAD", cwd=tmp_path / "work" / "lib").strip()
        for spelling in (url, str(tmp_path / "remotes" / "lib.git")):
            found = list_heads(spelling)
            assert found.default_branch == "main" and found.heads == {"main": head}

    def test_a_missing_repository_says_why(self, tmp_path: Path) -> None:
        with pytest.raises(Exception, match="cannot list the branches"):
            list_heads((tmp_path / "nothing.git").as_uri())


def test_a_component_with_a_local_repository_runs_its_default_branch_when_first_seen(
    runtime: Runtime, service_repo: tuple[str, Path, str]
) -> None:
    url, work, ref = service_repo
    head = git("rev-parse", "HEAD", cwd=work).strip()
    other = push(work, {"x.txt": "x\n"}, branch="experiment")

    (result,) = poll_watched_repositories(runtime)

    (run,) = runs(runtime)
    assert result.started == [run.id] and result.error is None
    assert (run.component_ref, run.trigger, run.branch, run.commit) == (ref, "poll", "main", head)
    assert run.triggered_by == "system:pipeline-poller"
    assert watched_row(runtime, url).heads == {"main": head, "experiment": other}


def test_a_new_commit_starts_one_run_with_its_changed_paths(
    runtime: Runtime, service_repo: tuple[str, Path, str]
) -> None:
    url, work, _ = service_repo
    poll_watched_repositories(runtime)
    commit = push(work, {"src/app.py": "print('hi')\n", "README.md": "# quotes v2\n"})

    (result,) = poll_watched_repositories(runtime)
    again = poll_watched_repositories(runtime)

    _, second = runs(runtime)
    assert result.started == [second.id] and again[0].started == []
    assert (second.branch, second.commit, second.trigger) == ("main", commit, "poll")
    assert second.changed_paths == ["README.md", "src/app.py"]
    assert watched_row(runtime, url).heads["main"] == commit


def test_a_branch_pushed_after_the_first_look_runs_with_unknown_changes(
    runtime: Runtime, service_repo: tuple[str, Path, str]
) -> None:
    _, work, _ = service_repo
    poll_watched_repositories(runtime)
    commit = push(work, {"f.txt": "f\n"}, branch="feature")

    poll_watched_repositories(runtime)

    newest = runs(runtime)[-1]
    assert (newest.branch, newest.commit, newest.changed_paths) == ("feature", commit, None)


def test_a_broken_repository_keeps_its_error_and_the_others_are_still_polled(
    runtime: Runtime, service_repo: tuple[str, Path, str], tmp_path: Path
) -> None:
    missing = (tmp_path / "gone.git").as_uri()
    with runtime.db.session() as session:
        watch_repository(session, missing, actor=ACTOR)

    results = {result.url: result for result in poll_watched_repositories(runtime)}

    assert "cannot list the branches" in (results[missing].error or "")
    assert "cannot list the branches" in (watched_row(runtime, missing).error or "")
    assert len(results[service_repo[0]].started) == 1


def test_a_repository_watched_by_hand_runs_without_a_component(
    runtime: Runtime, tmp_path: Path
) -> None:
    make_repository(tmp_path, {"a": "a\n"}, name="scratch")
    path = tmp_path / "remotes" / "scratch.git"
    with runtime.db.session() as session:
        row = watch_repository(session, str(path), actor=ACTOR)
        assert row.url == path.as_uri() and row.component_ref is None

    poll_watched_repositories(runtime)

    (run,) = runs(runtime)
    assert run.repository == path.as_uri() and run.component_ref is None


def test_a_repository_a_component_names_cannot_be_unwatched(
    runtime: Runtime, service_repo: tuple[str, Path, str]
) -> None:
    poll_watched_repositories(runtime)
    with runtime.db.session() as session, pytest.raises(ConflictError, match="quotes"):
        unwatch_repository(session, service_repo[0], actor=ACTOR)


@pytest.fixture
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_watch_watched_and_unwatch_from_the_command_line(environment: Path) -> None:
    make_repository(environment, {"a": "a\n"}, name="cli-repo")
    path = environment / "remotes" / "cli-repo.git"
    cli = CliRunner()

    watched = cli.invoke(app, ["pipeline", "watch", str(path)])
    listed = cli.invoke(app, ["pipeline", "watched", "--output", "json"])
    unwatched = cli.invoke(app, ["pipeline", "unwatch", str(path)])
    missing = cli.invoke(app, ["pipeline", "unwatch", str(path)])

    assert watched.exit_code == 0 and path.as_uri() in watched.stdout
    assert listed.exit_code == 0 and '"url": "' + path.as_uri() in listed.stdout
    assert unwatched.exit_code == 0
    assert missing.exit_code == 1 and "is not watched" in missing.stderr
