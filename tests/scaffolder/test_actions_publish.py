"""publish:git with real git: a new repository pushed, an existing one never overwritten, tokens
never shown; publish:github and its pull request as Backstage's dry run has them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pavedroad.runtime import Runtime, build_runtime
from tests.conftest import git
from tests.scaffolder import test_engine_support as support
from tests.scaffolder.test_engine_support import (
    Run,
    one_step,
    run,
    template,
    write_template,
)

offline_runtime = support.offline_runtime  # the fixture, used by name

TOKEN = "ghp_notarealtoken123"


def publish(
    runtime: Runtime,
    tmp_path: Path,
    given: dict[str, Any],
    *,
    action: str = "publish:git",
    dry_run: bool = False,
    secrets: dict[str, str] | None = None,
) -> Run:
    workspace = tmp_path / "workspace"
    (workspace / "src").mkdir(parents=True, exist_ok=True)
    (workspace / "README.md").write_text("# ledger\n")
    (workspace / "src" / "app.py").write_text("print('hi')\n")
    folder = write_template(tmp_path / "template", template([one_step(action, given, "publish")]))
    return run(runtime, folder, workspace=workspace, dry_run=dry_run, secrets=secrets)


def bare(path: Path) -> Path:
    path.mkdir(parents=True)
    git("init", "--quiet", "--bare", str(path), cwd=path)
    return path


def head(repository: Path, branch: str = "main") -> str:
    return git("--git-dir", str(repository), "rev-parse", branch, cwd=repository).strip()


@pytest.fixture
def allowing_localhost(offline_runtime: Runtime) -> Iterator[Runtime]:
    settings = offline_runtime.settings.with_overrides(
        scaffolder={"allowed_hosts": ["github.com", "127.0.0.1"]}
    )
    built = build_runtime(settings, load_entry_points=False)
    yield built
    built.close()


class TestPublishGit:
    def test_the_workspace_is_pushed_to_an_empty_bare_repository(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = bare(tmp_path / "remote" / "ledger.git")
        done = publish(
            offline_runtime,
            tmp_path,
            {
                "repoUrl": repository.as_uri(),
                "defaultBranch": "trunk",
                "gitCommitMessage": "Scaffold ledger",
                "gitAuthorName": "Ada",
                "gitAuthorEmail": "ada@example.com",
            },
        )
        assert done.result.status == "completed", done.result.error
        output = done.result.steps[0].output
        assert output["remoteUrl"] == output["repoContentsUrl"] == repository.as_uri()
        assert output["commitHash"] == head(repository, "trunk")
        assert output["defaultBranch"] == "trunk"
        shown = git(
            "--git-dir",
            str(repository),
            "log",
            "-1",
            "--format=%an <%ae> %s",
            "trunk",
            cwd=repository,
        )
        assert shown.strip() == "Ada <ada@example.com> Scaffold ledger"
        files = git(
            "--git-dir", str(repository), "ls-tree", "-r", "--name-only", "trunk", cwd=repository
        ).split()
        # The run's record of its template goes in with the first commit.
        assert files == [".pavedroad/template.yaml", "README.md", "src/app.py"]

    def test_an_existing_repository_with_commits_is_never_overwritten(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = bare(tmp_path / "remote" / "taken.git")
        first = publish(offline_runtime, tmp_path / "first", {"repoUrl": repository.as_uri()})
        before = head(repository)
        second = publish(offline_runtime, tmp_path / "second", {"repoUrl": repository.as_uri()})
        assert second.result.status == "failed"
        assert "already exists and has commits; pavedroad never overwrites a repository" in str(
            second.result.error
        )
        assert first.result.status == "completed" and head(repository) == before

    def test_a_repository_under_the_root_is_created_once(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        root = offline_runtime.settings.resolved_repositories_root
        url = (root / "team" / "ledger.git").as_uri()
        assert publish(offline_runtime, tmp_path / "a", {"repoUrl": url}).result.status == (
            "completed"
        )
        assert head(root / "team" / "ledger.git")
        again = publish(offline_runtime, tmp_path / "b", {"repoUrl": url})
        assert "pavedroad never overwrites a repository" in str(again.result.error)

    def test_a_missing_repository_outside_the_root_is_not_created(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        target = tmp_path / "elsewhere" / "x.git"
        done = publish(offline_runtime, tmp_path, {"repoUrl": target.as_uri()})
        assert "does not exist; publish:git creates repositories only under" in str(
            done.result.error
        )
        assert not target.exists()

    def test_a_path_climbing_out_of_the_root_is_outside_it(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        root = offline_runtime.settings.resolved_repositories_root
        done = publish(offline_runtime, tmp_path, {"repoUrl": f"{root.as_uri()}/../../escape.git"})
        assert "creates repositories only under" in str(done.result.error)
        assert not (root.parent.parent / "escape.git").exists()

    def test_a_dry_run_pushes_nothing(self, offline_runtime: Runtime, tmp_path: Path) -> None:
        repository = bare(tmp_path / "remote" / "ledger.git")
        done = publish(offline_runtime, tmp_path, {"repoUrl": repository.as_uri()}, dry_run=True)
        assert done.statuses == {"publish": "completed"}
        assert "Dry run: would commit" in done.events.text()
        assert git("--git-dir", str(repository), "for-each-ref", cwd=repository) == ""
        assert not (tmp_path / "workspace" / ".git").exists()

    def test_only_the_source_path_is_published_and_it_stays_in_the_workspace(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = bare(tmp_path / "remote" / "src.git")
        done = publish(
            offline_runtime, tmp_path, {"repoUrl": repository.as_uri(), "sourcePath": "src"}
        )
        files = git(
            "--git-dir", str(repository), "ls-tree", "-r", "--name-only", "main", cwd=repository
        ).split()
        assert done.result.status == "completed" and files == [".pavedroad/template.yaml", "app.py"]
        escape = publish(
            offline_runtime, tmp_path / "x", {"repoUrl": repository.as_uri(), "sourcePath": "../"}
        )
        assert "sourcePath '../' leads outside the workspace" in str(escape.result.error)


class TestHttps:
    def test_a_host_not_allowed_is_refused(self, offline_runtime: Runtime, tmp_path: Path) -> None:
        done = publish(offline_runtime, tmp_path, {"repoUrl": "https://git.evil.example/x.git"})
        assert "host 'git.evil.example' is not allowed" in str(done.result.error)

    def test_credentials_in_the_url_are_refused(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = publish(
            offline_runtime, tmp_path, {"repoUrl": f"https://x:{TOKEN}@github.com/acme/x.git"}
        )
        assert "repoUrl holds credentials" in str(done.result.error)
        assert TOKEN not in done.events.text()

    def test_the_token_is_never_shown_even_when_git_fails(
        self, allowing_localhost: Runtime, tmp_path: Path
    ) -> None:
        done = publish(
            allowing_localhost,
            tmp_path,
            {"repoUrl": "https://127.0.0.1:9/x.git", "token": "${{ secrets.token }}"},
            secrets={"token": TOKEN},
        )
        assert done.result.status == "failed"
        shown = f"{done.result.error}\n{done.events.text()}"
        assert "git ls-remote failed" in shown
        assert TOKEN not in shown
        assert base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode() not in shown


class TestGithub:
    def test_publish_github_is_skipped_in_a_dry_run(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = publish(
            offline_runtime,
            tmp_path,
            {"repoUrl": "github.com?owner=acme&repo=x"},
            action="publish:github",
            dry_run=True,
        )
        assert done.statuses == {"publish": "skipped"}
        assert done.result.steps[0].output == {}

    def test_publish_github_checks_the_repo_url(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = publish(
            offline_runtime, tmp_path, {"repoUrl": "github.com?owner=acme"}, action="publish:github"
        )
        assert "has no repo" in str(done.result.error)

    def test_a_pull_request_dry_run_says_what_it_would_open(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        given = {
            "repoUrl": "github.com?owner=acme&repo=mono",
            "branchName": "add-ledger",
            "title": "Add ledger",
            "description": "New",
        }
        done = publish(
            offline_runtime, tmp_path, given, action="publish:github:pull-request", dry_run=True
        )
        assert done.result.steps[0].output == {
            "targetBranchName": "add-ledger",
            "remoteUrl": "github.com?owner=acme&repo=mono",
            "pullRequestNumber": 43,
        }

    def test_a_real_pull_request_needs_a_token(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        given = {
            "repoUrl": "github.com?owner=acme&repo=mono",
            "branchName": "b",
            "title": "t",
            "description": "d",
        }
        done = publish(offline_runtime, tmp_path, given, action="publish:github:pull-request")
        assert "a pull request needs a token" in str(done.result.error)
