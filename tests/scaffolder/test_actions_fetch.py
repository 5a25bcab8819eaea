"""fetch:template, fetch:template:file, fetch:plain and fetch:plain:file: skeletons written into
the workspace as Backstage writes them, and never anything outside it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pavedroad.runtime import Runtime
from pavedroad.scaffolder.actions import ActionError, safe_child_path
from tests.scaffolder import test_engine_support as support
from tests.scaffolder.test_engine_support import (
    Run,
    one_step,
    run,
    template,
    write_template,
)

offline_runtime = support.offline_runtime  # the fixture, used by name

VALUES = {"name": "ledger", "package": "billing", "empty": "", "port": 8080}


def fetch(
    runtime: Runtime,
    tmp_path: Path,
    files: dict[str, str],
    action: str = "fetch:template",
    **step_input: Any,
) -> Run:
    given = {
        k: v
        for k, v in {"url": "./skeleton", "values": VALUES, **step_input}.items()
        if v is not None
    }
    folder = write_template(
        tmp_path / "template",
        template([one_step(action, given, "fetch")]),
        {f"skeleton/{path}": text for path, text in files.items()},
    )
    return run(runtime, folder, workspace=tmp_path / "workspace")


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


def failed_with(done: Run, text: str) -> None:
    assert done.result.status == "failed", done.result
    assert text in str(done.result.error), done.result.error


class TestFetchTemplate:
    def test_names_contents_and_folders_are_rendered(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = fetch(
            offline_runtime,
            tmp_path,
            {
                "README.md": "# ${{ values.name }}\nport ${{ values.port }}\n",
                "src/${{ values.package }}/app.py": "NAME = ${{ values.name | dump }}\n",
                "${{ values.empty }}/skipped.txt": "never",
                "plain.txt": "no templating here {{ keep }}\r\n",
            },
        )
        assert done.result.status == "completed", done.result.error
        workspace = done.result.workspace
        assert files_in(workspace) == ["README.md", "plain.txt", "src/billing/app.py"]
        assert done.read("README.md") == "# ledger\nport 8080\n"
        assert done.read("src/billing/app.py") == 'NAME = "ledger"\n'
        assert (workspace / "plain.txt").read_bytes() == b"no templating here {{ keep }}\r\n"

    def test_modes_are_kept_and_binary_files_copied_as_they_are(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        skeleton = tmp_path / "template" / "skeleton"
        skeleton.mkdir(parents=True)
        script = skeleton / "${{ values.name }}.sh"
        script.write_text("#!/bin/sh\necho ${{ values.name }}\n")
        script.chmod(0o755)
        binary = b"\x89PNG\r\n\x1a\n\x00${{ values.name }}\xff"
        (skeleton / "logo.png").write_bytes(binary)
        done = fetch(offline_runtime, tmp_path, {})
        workspace = done.result.workspace
        assert os.access(workspace / "ledger.sh", os.X_OK)
        assert done.read("ledger.sh") == "#!/bin/sh\necho ledger\n"
        assert (workspace / "logo.png").read_bytes() == binary
        assert "with mode 33261" in done.events.text()

    def test_copy_without_templating_keeps_contents_but_renders_names(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        files = {
            ".github/workflows/${{ values.name }}.yml": "run: ${{ github.sha }}\n",
            "a.txt": "${{ values.name }}",
        }
        done = fetch(
            offline_runtime, tmp_path, files, copyWithoutTemplating=[".github/workflows/*"]
        )
        assert done.read(".github/workflows/ledger.yml") == "run: ${{ github.sha }}\n"
        assert done.read("a.txt") == "ledger"

    def test_copy_without_render_keeps_names_too(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        files = {"raw/${{ values.name }}.txt": "${{ x }}"}
        done = fetch(offline_runtime, tmp_path, files, copyWithoutRender=["raw/*"])
        assert done.read("raw/${{ values.name }}.txt") == "${{ x }}"

    def test_both_copy_lists_together_are_refused(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = fetch(
            offline_runtime,
            tmp_path,
            {"a": "b"},
            copyWithoutRender=["x"],
            copyWithoutTemplating=["y"],
        )
        failed_with(done, "copyWithoutRender and copyWithoutTemplating cannot be used together")

    def test_a_template_file_extension_renders_only_those_files(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        files = {"app.py.njk": "${{ values.name }}", "raw.py": "${{ values.name }}"}
        done = fetch(offline_runtime, tmp_path, files, templateFileExtension=True)
        assert done.read("app.py") == "ledger"
        assert done.read("raw.py") == "${{ values.name }}"

    def test_existing_files_are_kept_unless_replace(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        workspace = tmp_path / "workspace"
        workspace.mkdir()
        (workspace / "a.txt").write_text("mine")
        assert fetch(offline_runtime, tmp_path, {"a.txt": "new"}).read("a.txt") == "mine"
        done = fetch(offline_runtime, tmp_path, {"a.txt": "new"}, replace=True)
        assert done.read("a.txt") == "new"

    def test_target_path_and_block_options(self, offline_runtime: Runtime, tmp_path: Path) -> None:
        files = {"list.txt": "{% for i in [1, 2] %}\n  - ${{ i }}\n  {% endfor %}\n"}
        done = fetch(
            offline_runtime, tmp_path, files, targetPath="svc", trimBlocks=True, lstripBlocks=True
        )
        assert done.read("svc/list.txt") == "  - 1\n  - 2\n"

    def test_cookiecutter_compat(self, offline_runtime: Runtime, tmp_path: Path) -> None:
        files = {"{{ cookiecutter.name }}.txt": "{{ cookiecutter.name | jsonify }}"}
        done = fetch(offline_runtime, tmp_path, files, cookiecutterCompat=True)
        assert done.read("ledger.txt") == '"ledger"'

    def test_a_missing_value_in_a_file_names_the_file_and_line(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        files = {"a.txt": "line one\n${{ values.nothing | parseRepoUrl }}\n"}
        done = fetch(offline_runtime, tmp_path, files)
        failed_with(
            done, "a.txt: line 2: ${{ values.nothing | parseRepoUrl }}: values.nothing is not set"
        )


class TestNothingLeavesTheWorkspace:
    @pytest.mark.parametrize(
        ("target", "message"),
        [
            ("../outside", "targetPath '../outside' leads outside the workspace"),
            ("/tmp/outside", "targetPath '/tmp/outside' is an absolute path"),
            ("a/../../outside", "leads outside the workspace"),
        ],
    )
    def test_a_target_path_out_of_the_workspace_is_refused(
        self, offline_runtime: Runtime, tmp_path: Path, target: str, message: str
    ) -> None:
        done = fetch(offline_runtime, tmp_path, {"a.txt": "x"}, targetPath=target)
        failed_with(done, message)
        assert not (tmp_path / "outside").exists()
        assert files_in(tmp_path / "workspace") == []

    def test_a_name_that_renders_to_dot_dot_is_refused(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = fetch(
            offline_runtime, tmp_path, {"${{ values.evil }}/x.txt": "x"}, values={"evil": "../.."}
        )
        failed_with(done, "leads outside the workspace")
        assert not (tmp_path / "x.txt").exists()

    def test_a_skeleton_link_pointing_out_is_refused(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        secret = tmp_path / "secret.txt"
        secret.write_text("do not copy")
        skeleton = tmp_path / "template" / "skeleton"
        skeleton.mkdir(parents=True)
        (skeleton / "leak.txt").symlink_to(secret)
        done = fetch(offline_runtime, tmp_path, {})
        failed_with(done, "the symbolic link leak.txt in the skeleton points outside it")
        assert files_in(tmp_path / "workspace") == []

    def test_a_skeleton_link_inside_it_is_kept_as_a_link(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        skeleton = tmp_path / "template" / "skeleton"
        skeleton.mkdir(parents=True)
        (skeleton / "real.txt").write_text("${{ values.name }}")
        (skeleton / "alias.txt").symlink_to("real.txt")
        done = fetch(offline_runtime, tmp_path, {})
        assert (done.result.workspace / "alias.txt").readlink() == Path("real.txt")
        assert done.read("alias.txt") == "ledger"

    def test_a_workspace_link_leading_out_is_not_written_through(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        workspace = tmp_path / "workspace"
        workspace.mkdir()
        (workspace / "out").symlink_to(elsewhere)
        done = fetch(offline_runtime, tmp_path, {"a.txt": "x"}, targetPath="out")
        failed_with(done, "leads outside the workspace")
        assert list(elsewhere.iterdir()) == []

    @pytest.mark.parametrize("url", ["../other", "file:///etc"])
    def test_files_outside_the_template_folder_are_not_read(
        self, offline_runtime: Runtime, tmp_path: Path, url: str
    ) -> None:
        (tmp_path / "other").mkdir()
        done = fetch(offline_runtime, tmp_path, {"a": "b"}, url=url)
        failed_with(done, "is outside the template's folder")

    def test_remote_urls_are_not_fetched(self, offline_runtime: Runtime, tmp_path: Path) -> None:
        done = fetch(
            offline_runtime,
            tmp_path,
            {},
            action="fetch:plain",
            url="https://github.com/backstage/community/tree/main/x",
            values=None,
        )
        failed_with(
            done, "fetching from URLs is not supported here; put the files next to the template"
        )

    def test_a_file_url_inside_the_template_folder_is_read(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        url = (tmp_path / "template" / "skeleton").resolve().as_uri()
        done = fetch(offline_runtime, tmp_path, {"a.txt": "${{ values.name }}"}, url=url)
        assert done.read("a.txt") == "ledger"


@pytest.mark.parametrize(
    ("action", "given"),
    [
        ("fetch:template:file", {"url": "./skeleton/a.txt", "targetPath": "../x.txt"}),
        ("fetch:plain", {"url": "./skeleton", "targetPath": "/tmp/x"}),
        ("fetch:plain:file", {"url": "./skeleton/a.txt", "targetPath": "../x.txt"}),
        ("catalog:write", {"filePath": "../x.txt", "entity": {"kind": "Component"}}),
        ("fs:delete", {"files": ["../x.txt"]}),
    ],
)
def test_every_writing_action_refuses_paths_out_of_the_workspace(
    offline_runtime: Runtime, tmp_path: Path, action: str, given: dict[str, Any]
) -> None:
    (tmp_path / "x.txt").write_text("untouched")
    folder = write_template(
        tmp_path / "template", template([one_step(action, given)]), {"skeleton/a.txt": "a"}
    )
    done = run(offline_runtime, folder, workspace=tmp_path / "workspace")
    assert done.result.status == "failed"
    assert "outside the workspace" in str(done.result.error) or "absolute path" in str(
        done.result.error
    )
    assert (tmp_path / "x.txt").read_text() == "untouched"


class TestSafeChildPath:
    def test_paths_inside_are_resolved_and_others_refused(self, tmp_path: Path) -> None:
        (tmp_path / "inside").mkdir()
        (tmp_path / "inside" / "up").symlink_to(tmp_path)
        (tmp_path / "inside" / "here").symlink_to("sub")
        root = tmp_path / "inside"
        assert safe_child_path(root, "a/b.txt") == root.resolve() / "a" / "b.txt"
        assert safe_child_path(root, "here/x") == root.resolve() / "sub" / "x"
        assert safe_child_path(root, "a/../b") == root.resolve() / "b"
        for bad in ("../x", "/etc/passwd", "up/x", "a/../../x", "C:/x"):
            with pytest.raises(ActionError):
                safe_child_path(root, bad)


class TestOtherFetches:
    def test_fetch_template_file_renders_one_file(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = fetch(
            offline_runtime,
            tmp_path,
            {"one.txt": "${{ values.name }}"},
            action="fetch:template:file",
            url="./skeleton/one.txt",
            targetPath="out/one.txt",
        )
        assert done.read("out/one.txt") == "ledger"

    def test_fetch_plain_copies_without_rendering(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        given: dict[str, Any] = {"url": "./skeleton", "targetPath": "copy"}
        folder = write_template(
            tmp_path / "template",
            template(
                [
                    one_step("fetch:plain", given, "plain"),
                    one_step(
                        "fetch:plain:file",
                        {"url": "./skeleton/a/b.txt", "targetPath": "single.txt"},
                        "one",
                    ),
                ]
            ),
            {"skeleton/a/b.txt": "${{ values.name }}"},
        )
        done = run(offline_runtime, folder, workspace=tmp_path / "workspace")
        assert done.read("copy/a/b.txt") == "${{ values.name }}"
        assert done.read("single.txt") == "${{ values.name }}"

    def test_the_wrong_kind_of_source_is_named(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        done = fetch(offline_runtime, tmp_path, {"a.txt": "x"}, url="./skeleton/a.txt")
        failed_with(done, "is a file; use fetch:template:file for one file")
