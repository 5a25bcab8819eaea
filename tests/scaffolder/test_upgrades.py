"""Keeping generated repositories current: the record a run commits, the drift report, and the
three-way upgrade onto a new branch — with real template runs and real git repositories.

The story of most tests: ``greeter`` 1.0.0 generates ``hello``; a developer edits its README and
adds a file; the template becomes 1.1.0 (one file the developer never touched changes, the
README changes too — apart from the developer's edit, or on the same line —, a file is added and
one removed); then drift and upgrade are run as people run them, through the CLI.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pavedroad.catalog import service as catalog_service
from pavedroad.cli import app
from pavedroad.config import get_settings
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from pavedroad.scaffolder.actions.base import ActionError
from pavedroad.scaffolder.engine.sources import template_version
from pavedroad.scaffolder.upgrades.merge import Entry, Labels, merge_into, read_tree
from tests.conftest import git
from tests.helpers import group, write, write_entities
from tests.scaffolder import test_engine_support as support

offline_runtime = support.offline_runtime  # the fixture, used by name

OPERATOR = Actor.system("test")
REF = "template:default/greeter"
BRANCH = "pavedroad/upgrade-greeter-1.1.0"
API_KEY = "sk-live-0123456789"  # a ui:widget: password field: kept in parameters, masked
DEPLOY_TOKEN = "tok-9876543210"  # a ui:field: Secret field: never a parameter at all
README = """\
# ${{ values.name }}

A service made from the greeter template.

## Running

Run it with make run.
"""
DEVELOPER_README_LINE = ("Run it with make run.", "Run it with make run PORT=8080.")
# 1.1.0's README: apart from the developer's line (merges), or on it (conflicts).
TEMPLATE_README_LINES = {
    "clean": ("made from the greeter template.", "made from the greeter template, 1.1."),
    "conflict": ("Run it with make run.", "Run it with make serve."),
}
runner = CliRunner()


def greeter(version: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": "greeter",
            "annotations": {"pavedroad.dev/template-version": version},
        },
        "spec": {
            "owner": "team-a",
            "type": "service",
            "parameters": [
                {
                    "required": ["name", "repoUrl"],
                    "properties": {
                        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                        "repoUrl": {"type": "string"},
                        "apiKey": {"type": "string", "ui:widget": "password"},
                        "deployToken": {"type": "string", "ui:field": "Secret"},
                    },
                }
            ],
            "steps": [
                {
                    "id": "fetch",
                    "action": "fetch:template",
                    "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}},
                },
                {
                    "id": "publish",
                    "action": "publish:git",
                    "input": {"repoUrl": "${{ parameters.repoUrl }}"},
                },
            ],
            "output": {
                "links": [{"title": "Repository", "url": "${{ steps.publish.output.remoteUrl }}"}]
            },
            **spec,
        },
    }


@dataclass
class Generated:
    """The template's folder and the repository a run of it published."""

    template: Path
    repository: Path

    @property
    def url(self) -> str:
        return self.repository.as_uri()

    def show(self, revision: str, path: str) -> str:
        return git(
            "--git-dir", str(self.repository), "show", f"{revision}:{path}", cwd=self.template
        )

    def files(self, revision: str) -> list[str]:
        listed = git(
            "--git-dir",
            str(self.repository),
            "ls-tree",
            "-r",
            "--name-only",
            revision,
            cwd=self.template,
        )
        return listed.split()

    def branches(self) -> dict[str, str]:
        refs = git("--git-dir", str(self.repository), "show-ref", cwd=self.template)
        return {name: sha for sha, name in (line.split() for line in refs.splitlines())}

    def record(self, revision: str = "main") -> dict[str, object]:
        loaded: dict[str, object] = yaml.safe_load(self.show(revision, ".pavedroad/template.yaml"))
        return loaded


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def drift_json(*args: str) -> list[dict[str, str]]:
    code, out, err = cli("templates", "drift", "--output", "json", *args)
    assert code == 0, err
    rows: list[dict[str, str]] = json.loads(out)
    return rows


@pytest.fixture
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def sqlite_only(database_kind: str) -> None:
    if database_kind != "sqlite":
        # What these add is git work — clones, merges, pushes — which is the same on either
        # database; the database's part (runs, the catalog) is covered on both by the others.
        pytest.skip("the upgrade's git work is database independent: SQLite only")


@pytest.fixture
def generated(runtime: Runtime, environment: Path) -> Generated:
    """``greeter`` 1.0.0 in the catalog, and ``hello`` generated from it with `pavedroad create`."""
    folder = environment / "templates" / "greeter"
    write(folder / "template.yaml", yaml.safe_dump(greeter("1.0.0"), sort_keys=False))
    write(folder / "skeleton" / "README.md", README)
    write(folder / "skeleton" / "config.yaml", "name: ${{ values.name }}\nreplicas: 1\n")
    write(folder / "skeleton" / "old.txt", "obsolete\n")
    teams = write_entities(environment / "teams.yaml", group("team-a"))
    with runtime.db.session() as session:
        catalog_service.register_locations(
            session,
            runtime.catalog,
            [("file", str(teams)), ("file", str(folder / "template.yaml"))],
            actor=OPERATOR,
        )
    repository = environment / "data" / "repositories" / "hello.git"
    given = {
        "name": "hello",
        "repoUrl": repository.as_uri(),
        "apiKey": API_KEY,
        "deployToken": DEPLOY_TOKEN,
    }
    flags = [part for key, value in given.items() for part in ("--set", f"{key}={value}")]
    code, _, err = cli("create", "greeter", *flags)
    assert code == 0, err
    return Generated(folder, repository)


def develop(generated: Generated, work: Path) -> None:
    """A developer's commit on main: a line of the README changed, a file of their own added."""
    git("clone", "--quiet", generated.url, str(work), cwd=work.parent)
    readme = work / "README.md"
    readme.write_text(readme.read_text().replace(*DEVELOPER_README_LINE))
    write(work / "NOTES.md", "Ask #team-a before changing the port.\n")
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Document the port", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)


def release(runtime: Runtime, folder: Path, readme: str = "clean") -> None:
    """``greeter`` 1.1.0: config.yaml and the README changed, new.txt added, old.txt removed;
    the catalog refreshed so it serves the new version."""
    (folder / "template.yaml").write_text(yaml.safe_dump(greeter("1.1.0"), sort_keys=False))
    skeleton = folder / "skeleton"
    (skeleton / "README.md").write_text(README.replace(*TEMPLATE_README_LINES[readme]))
    (skeleton / "config.yaml").write_text("name: ${{ values.name }}\nreplicas: 2\n")
    (skeleton / "new.txt").write_text("added in 1.1.0\n")
    (skeleton / "old.txt").unlink()
    refresh(runtime)


def refresh(runtime: Runtime) -> None:
    """The template's location read again: the catalog serves the entity as it is now."""
    with runtime.db.session() as session:
        location = catalog_service.location_of_entity(session, REF)
        catalog_service.refresh_locations(session, runtime.catalog, [location.id], actor=OPERATOR)


def bare_with(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    """A repository with one commit of ``files`` on main, made by hand (not by a template)."""
    work, repository = tmp_path / f"{name}-work", tmp_path / f"{name}.git"
    for path, text in files.items():
        write(work / path, text)
    git("init", "--quiet", "-b", "main", cwd=work)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "By hand", cwd=work)
    git("clone", "--quiet", "--bare", str(work), str(repository), cwd=tmp_path)
    return repository


class TestRecord:
    def test_a_published_repository_records_its_template_version_and_values(
        self, generated: Generated, environment: Path
    ) -> None:
        record = generated.record()
        content_version = template_version(generated.template)
        assert record["template"] == REF
        assert (record["version"], record["contentVersion"]) == ("1.0.0", content_version)
        assert record["values"] == {"name": "hello", "repoUrl": generated.url, "apiKey": "***"}
        assert str(record["generatedAt"]).startswith("20")
        snapshot = environment / "data" / "scaffolder" / "template-versions" / content_version
        assert (snapshot / "template" / "skeleton" / "old.txt").read_text() == "obsolete\n"

    def test_the_record_never_holds_a_secret_value(self, generated: Generated) -> None:
        text = generated.show("main", ".pavedroad/template.yaml")
        assert API_KEY not in text and DEPLOY_TOKEN not in text
        assert "deployToken" not in text

    def test_a_template_that_opts_out_records_nothing(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        repository = offline_runtime.settings.resolved_repositories_root / "quiet.git"
        publish = support.one_step("publish:git", {"repoUrl": repository.as_uri()}, "publish")
        entity = support.template([publish], name="quiet")
        entity["spec"]["EXPERIMENTAL_pavedroad"] = {"recordTemplate": False}
        folder = support.write_template(tmp_path / "quiet", entity)
        workspace = tmp_path / "workspace"
        write(workspace / "README.md", "# quiet\n")
        done = support.run(offline_runtime, folder, workspace=workspace)
        assert done.result.status == "completed", done.result.error
        listed = git(
            "--git-dir", str(repository), "ls-tree", "-r", "--name-only", "main", cwd=tmp_path
        )
        assert listed.split() == ["README.md"]


class TestDrift:
    def test_a_repository_is_current_then_behind_when_the_template_changes(
        self, generated: Generated, runtime: Runtime
    ) -> None:
        [row] = drift_json()  # found through the completed run that published it
        assert row == {
            "repository": generated.url,
            "template": REF,
            "generatedVersion": "1.0.0",
            "currentVersion": "1.0.0",
            "status": "current",
        }
        release(runtime, generated.template)
        [row] = drift_json(generated.url)
        assert (row["status"], row["generatedVersion"], row["currentVersion"]) == (
            "behind",
            "1.0.0",
            "1.1.0",
        )

    def test_repositories_without_a_record_or_a_template_are_reported_as_such(
        self, generated: Generated, environment: Path
    ) -> None:
        by_hand = bare_with(environment, "by-hand", {"README.md": "# made by hand\n"})
        record = {"template": "template:default/retired", "version": "0.9", "contentVersion": "ab"}
        retired = bare_with(
            environment, "retired", {".pavedroad/template.yaml": yaml.safe_dump(record)}
        )
        rows = drift_json(str(by_hand), str(retired))
        assert [row["status"] for row in rows] == ["no record", "template gone"]
        assert "No template template:default/retired" in rows[1]["problem"]

    def test_the_table_names_each_repository_and_its_status(self, generated: Generated) -> None:
        code, out, _ = cli("templates", "drift", generated.url)
        assert code == 0
        # The console is as wide as the runner's (80 columns): headers and URLs are folded.
        assert all(word in out for word in ("repository", "generated", "version", "status"))
        assert "current" in out and "greeter" in out

    def test_a_template_folder_without_a_template_is_an_error(self, environment: Path) -> None:
        code, _, err = cli("templates", "drift", "--template-dir", str(environment))
        assert code == 1 and "has no template.yaml" in err

    def test_a_repository_argument_that_names_nothing_is_an_error(self, environment: Path) -> None:
        code, _, err = cli("templates", "drift", str(environment / "nowhere"))
        assert code == 1 and "neither a repository URL nor an existing folder" in err


@pytest.mark.usefixtures("sqlite_only")
class TestUpgrade:
    def test_a_clean_upgrade_pushes_a_branch_with_both_sides_changes(
        self, generated: Generated, runtime: Runtime, environment: Path
    ) -> None:
        develop(generated, environment / "dev")
        release(runtime, generated.template, readme="clean")
        main_before = generated.branches()["refs/heads/main"]

        code, out, err = cli("templates", "upgrade", generated.url)

        assert code == 0, err
        assert f"Pushed {BRANCH}" in out
        readme = generated.show(BRANCH, "README.md")
        assert "Run it with make run PORT=8080." in readme  # the developer's change kept
        assert "made from the greeter template, 1.1." in readme  # the template's applied
        assert generated.show(BRANCH, "config.yaml") == "name: hello\nreplicas: 2\n"
        files = generated.files(BRANCH)
        assert "new.txt" in files and "NOTES.md" in files and "old.txt" not in files
        assert "PAVEDROAD-UPGRADE.md" not in files
        record = generated.record(BRANCH)
        assert (record["version"], record["contentVersion"]) == (
            "1.1.0",
            template_version(generated.template),
        )
        author = git(
            "--git-dir",
            str(generated.repository),
            "log",
            "-1",
            "--format=%an",
            BRANCH,
            cwd=environment,
        )
        assert author.strip() == "pavedroad templates"
        assert generated.branches()["refs/heads/main"] == main_before  # never touched

    def test_a_conflict_is_marked_listed_and_pushed_and_exits_1(
        self, generated: Generated, runtime: Runtime, environment: Path
    ) -> None:
        develop(generated, environment / "dev")
        release(runtime, generated.template, readme="conflict")
        main_before = generated.branches()["refs/heads/main"]

        code, out, err = cli("templates", "upgrade", generated.url)

        assert code == 1
        assert "conflict README.md: changed by both: 1 conflict(s)" in out
        assert "1 conflict(s):" in err and "the branch is pushed" in err
        readme = generated.show(BRANCH, "README.md")
        assert "<<<<<<< repository (main)" in readme and ">>>>>>> template 1.1.0" in readme
        assert "||||||| template 1.0.0\nRun it with make run.\n=======" in readme
        assert "Run it with make run PORT=8080." in readme and "make serve." in readme
        note = generated.show(BRANCH, "PAVEDROAD-UPGRADE.md")
        assert "`README.md`: changed by both" in note
        assert generated.show(BRANCH, "config.yaml") == "name: hello\nreplicas: 2\n"
        assert generated.branches()["refs/heads/main"] == main_before

    def test_an_up_to_date_repository_is_left_alone(self, generated: Generated) -> None:
        before = generated.branches()
        code, out, _ = cli("templates", "upgrade", generated.url)
        assert code == 0
        assert "the current version: nothing to do" in out
        assert generated.branches() == before

    def test_once_the_branch_is_merged_the_repository_is_current(
        self, generated: Generated, runtime: Runtime, environment: Path
    ) -> None:
        release(runtime, generated.template)
        assert cli("templates", "upgrade", generated.url)[0] == 0
        work = environment / "merge"
        git("clone", "--quiet", generated.url, str(work), cwd=environment)
        git("merge", "--quiet", "--ff-only", f"origin/{BRANCH}", cwd=work)
        git("push", "--quiet", "origin", "main", cwd=work)
        [row] = drift_json(generated.url)
        assert (row["status"], row["generatedVersion"]) == ("current", "1.1.0")

    def test_no_push_leaves_the_clone_and_a_template_folder_can_be_the_new_version(
        self, generated: Generated, environment: Path
    ) -> None:
        newer = environment / "greeter-next"
        shutil.copytree(generated.template, newer)
        (newer / "template.yaml").write_text(yaml.safe_dump(greeter("1.1.0"), sort_keys=False))
        (newer / "skeleton" / "new.txt").write_text("added in 1.1.0\n")
        before = generated.branches()

        args = ["--template-dir", str(newer), "--branch", "try-it", "--no-push"]
        code, out, err = cli("templates", "upgrade", generated.url, *args)

        assert code == 0, err
        clone = Path(out.split("the clone is in ")[1].strip())
        assert (clone / "new.txt").read_text() == "added in 1.1.0\n"
        assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone).strip() == "try-it"
        assert generated.branches() == before  # nothing pushed
        shutil.rmtree(clone.parent)

    def test_a_parameter_the_new_version_requires_is_asked_for_then_recorded(
        self, generated: Generated, runtime: Runtime
    ) -> None:
        release(runtime, generated.template)
        entity = yaml.safe_load((generated.template / "template.yaml").read_text())
        page = entity["spec"]["parameters"][0]
        page["required"].append("port")
        page["properties"]["port"] = {"title": "Port", "type": "integer"}
        (generated.template / "template.yaml").write_text(yaml.safe_dump(entity))
        refresh(runtime)
        before = generated.branches()

        code, _, err = cli("templates", "upgrade", generated.url)
        assert code == 1 and "port: Port (port) is required" in err and "--set" in err
        assert generated.branches() == before

        assert cli("templates", "upgrade", generated.url, "--set", "port=8080")[0] == 0
        assert generated.record(BRANCH)["values"] == {
            "name": "hello",
            "repoUrl": generated.url,
            "apiKey": "***",
            "port": 8080,
        }

    def test_a_missing_snapshot_is_a_clear_error_and_changes_nothing(
        self, generated: Generated, runtime: Runtime, environment: Path
    ) -> None:
        shutil.rmtree(environment / "data" / "scaffolder" / "template-versions")
        release(runtime, generated.template)
        before = generated.branches()
        code, _, err = cli("templates", "upgrade", generated.url)
        assert code == 1
        assert "No snapshot of template:default/greeter at content version" in err
        assert "three-way merge is not possible" in err
        assert generated.branches() == before

    def test_an_existing_upgrade_branch_is_never_overwritten(
        self, generated: Generated, runtime: Runtime
    ) -> None:
        release(runtime, generated.template)
        assert cli("templates", "upgrade", generated.url)[0] == 0
        before = generated.branches()
        code, _, err = cli("templates", "upgrade", generated.url)
        assert code == 1 and f"has a branch {BRANCH} already" in err
        assert generated.branches() == before


LABELS = Labels("repository", "template 1", "template 2")


def tree(root: Path, files: dict[str, str | bytes]) -> dict[str, Entry]:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return read_tree(root)


class TestMergeInto:
    """The file-by-file rules on their own, for the cases the story above does not reach."""

    def test_a_file_the_repository_deleted_and_the_template_changed_is_a_conflict(
        self, tmp_path: Path
    ) -> None:
        base = {"a.txt": Entry(b"one\n")}
        theirs = {"a.txt": Entry(b"two\n")}
        [change] = merge_into(tmp_path, base, theirs, LABELS)
        assert change.kind == "conflict" and "deleted in the repository" in change.reason
        assert not (tmp_path / "a.txt").exists()

    def test_a_file_the_template_removed_but_the_repository_changed_is_kept(
        self, tmp_path: Path
    ) -> None:
        tree(tmp_path, {"a.txt": "mine\n"})
        [change] = merge_into(tmp_path, {"a.txt": Entry(b"one\n")}, {}, LABELS)
        assert change.kind == "conflict" and "removed by the template" in change.reason
        assert (tmp_path / "a.txt").read_text() == "mine\n"

    def test_a_file_added_by_both_sides_differently_gets_conflict_markers(
        self, tmp_path: Path
    ) -> None:
        tree(tmp_path, {"ci.yaml": "mine\n"})
        [change] = merge_into(tmp_path, {}, {"ci.yaml": Entry(b"theirs\n")}, LABELS)
        assert change.kind == "conflict"
        text = (tmp_path / "ci.yaml").read_text()
        assert text == (
            "<<<<<<< repository\nmine\n||||||| template 1\n=======\ntheirs\n>>>>>>> template 2\n"
        )

    def test_a_binary_file_changed_by_both_keeps_the_repository_version(
        self, tmp_path: Path
    ) -> None:
        tree(tmp_path, {"logo.png": b"\x89PNG\0mine"})
        base = {"logo.png": Entry(b"\x89PNG\0base")}
        theirs = {"logo.png": Entry(b"\x89PNG\0theirs")}
        [change] = merge_into(tmp_path, base, theirs, LABELS)
        assert change.kind == "conflict" and "cannot hold conflict markers" in change.reason
        assert (tmp_path / "logo.png").read_bytes() == b"\x89PNG\0mine"

    def test_a_removed_file_takes_its_empty_folder_with_it(self, tmp_path: Path) -> None:
        tree(tmp_path, {"docs/old.md": "old\n", "keep.txt": "x\n"})
        [change] = merge_into(tmp_path, {"docs/old.md": Entry(b"old\n")}, {}, LABELS)
        assert change.kind == "deleted"
        assert not (tmp_path / "docs").exists() and (tmp_path / "keep.txt").exists()

    def test_a_write_through_a_link_out_of_the_repository_is_refused(self, tmp_path: Path) -> None:
        outside, root = tmp_path / "outside", tmp_path / "repo"
        outside.mkdir()
        root.mkdir()
        (root / "docs").symlink_to(outside)
        with pytest.raises(ActionError, match="leads outside"):
            merge_into(root, {}, {"docs/new.md": Entry(b"x\n")}, LABELS)
        assert list(outside.iterdir()) == []
