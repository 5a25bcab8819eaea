"""fs:rename, fs:delete, fs:readdir, debug:log and debug:wait: the workspace's own files only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pavedroad.runtime import Runtime
from tests.scaffolder import test_engine_support as support
from tests.scaffolder.test_engine_support import (
    Run,
    one_step,
    run,
    template,
    write_template,
)

offline_runtime = support.offline_runtime  # the fixture, used by name


def act(runtime: Runtime, tmp_path: Path, action: str, given: dict[str, Any]) -> Run:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    folder = write_template(tmp_path / "template", template([one_step(action, given)]))
    return run(runtime, folder, workspace=workspace)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    for name in ("a.txt", "docs/one.md", "docs/two.md", "keep/b.txt"):
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(name)
    (tmp_path / "outside.txt").write_text("outside")
    return workspace


class TestRename:
    def test_files_and_folders_move(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path
    ) -> None:
        done = act(
            offline_runtime,
            tmp_path,
            "fs:rename",
            {"files": [{"from": "a.txt", "to": "new/a.txt"}, {"from": "docs", "to": "manual"}]},
        )
        assert done.result.status == "completed", done.result.error
        assert (files / "new/a.txt").read_text() == "a.txt"
        assert (files / "manual/one.md").exists() and not (files / "docs").exists()

    def test_an_existing_target_needs_overwrite(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path
    ) -> None:
        done = act(
            offline_runtime,
            tmp_path,
            "fs:rename",
            {"files": [{"from": "a.txt", "to": "keep/b.txt"}]},
        )
        assert "files[0].to 'keep/b.txt' exists already" in str(done.result.error)
        assert (files / "a.txt").exists()
        done = act(
            offline_runtime,
            tmp_path,
            "fs:rename",
            {"files": [{"from": "a.txt", "to": "keep/b.txt", "overwrite": True}]},
        )
        assert (files / "keep/b.txt").read_text() == "a.txt"

    @pytest.mark.parametrize("target", ["../moved.txt", "/tmp/moved.txt"])
    def test_nothing_moves_out_of_the_workspace(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path, target: str
    ) -> None:
        done = act(
            offline_runtime, tmp_path, "fs:rename", {"files": [{"from": "a.txt", "to": target}]}
        )
        assert done.result.status == "failed"
        assert "files[0].to" in str(done.result.error)
        assert (files / "a.txt").exists() and not (tmp_path / "moved.txt").exists()

    def test_nothing_is_brought_in_from_outside(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path
    ) -> None:
        done = act(
            offline_runtime,
            tmp_path,
            "fs:rename",
            {"files": [{"from": "../outside.txt", "to": "in.txt"}]},
        )
        assert "files[0].from '../outside.txt' leads outside the workspace" in str(
            done.result.error
        )
        assert (tmp_path / "outside.txt").exists()


class TestDelete:
    def test_paths_and_globs_are_deleted_and_missing_ones_ignored(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path
    ) -> None:
        done = act(
            offline_runtime, tmp_path, "fs:delete", {"files": ["a.txt", "docs/*.md", "not-there"]}
        )
        assert done.result.status == "completed", done.result.error
        assert sorted(p.name for p in files.rglob("*") if p.is_file()) == ["b.txt"]

    @pytest.mark.parametrize("pattern", ["../outside.txt", "../*.txt", "/etc/hostname"])
    def test_nothing_outside_the_workspace_is_deleted(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path, pattern: str
    ) -> None:
        done = act(offline_runtime, tmp_path, "fs:delete", {"files": [pattern]})
        assert done.result.status == "failed"
        assert (tmp_path / "outside.txt").exists()


class TestReadDir:
    def test_lists_files_and_folders(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path
    ) -> None:
        steps = [
            {"id": "read", "action": "fs:readdir", "input": {"paths": ["."], "recursive": True}},
            {
                "id": "say",
                "action": "debug:log",
                "input": {
                    "message": "${{ steps.read.output.files | map(attribute='path') | join(',') }}"
                },
            },
        ]
        folder = write_template(tmp_path / "template", template(steps))
        done = run(offline_runtime, folder, workspace=files)
        assert done.events.lines[-2][1] == "a.txt,docs/one.md,docs/two.md,keep/b.txt"

    def test_a_folder_outside_is_refused(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path
    ) -> None:
        done = act(offline_runtime, tmp_path, "fs:readdir", {"paths": [".."]})
        assert "paths[0] '..' leads outside the workspace" in str(done.result.error)


class TestDebug:
    def test_log_writes_the_message_and_lists_the_workspace(
        self, offline_runtime: Runtime, tmp_path: Path, files: Path
    ) -> None:
        done = act(
            offline_runtime,
            tmp_path,
            "debug:log",
            {"message": "hello", "listWorkspace": "with-contents"},
        )
        text = done.events.text()
        assert "hello" in text and "docs/one.md:\ndocs/one.md" in text

    def test_log_refuses_an_unknown_listing(self, offline_runtime: Runtime, tmp_path: Path) -> None:
        done = act(offline_runtime, tmp_path, "debug:log", {"listWorkspace": "everything"})
        assert "invalid input for debug:log: listWorkspace" in str(done.result.error)

    def test_wait_waits_and_refuses_too_long(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        assert (
            act(offline_runtime, tmp_path, "debug:wait", {"milliseconds": 20}).result.status
            == "completed"
        )
        done = act(offline_runtime, tmp_path, "debug:wait", {"minutes": 60})
        assert "debug:wait may wait at most 600 s" in str(done.result.error)
