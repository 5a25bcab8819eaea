"""Running a template: steps in order with their ``if`` and ``each``, outputs passed on, inputs
checked against each action's schema, the first failure ending the run, dry runs, secrets."""

from __future__ import annotations

from pathlib import Path

from pavedroad.runtime import Runtime
from pavedroad.scaffolder import engine
from tests.scaffolder import test_engine_support as support
from tests.scaffolder.test_engine_support import (
    TESTER,
    USER,
    one_step,
    run,
    template,
    write_template,
)

offline_runtime = support.offline_runtime  # the fixture, used by name


def log(step_id: str, message: str, **extra: object) -> dict[str, object]:
    return {
        "id": step_id,
        "name": step_id,
        "action": "debug:log",
        "input": {"message": message},
        **extra,
    }


def write_step(step_id: str, path: str, text: str) -> dict[str, object]:
    return {
        "id": step_id,
        "action": "catalog:write",
        "input": {"filePath": path, "entity": {"metadata": {"name": text}}},
    }


class TestSteps:
    def test_steps_run_in_order_and_read_earlier_outputs(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [
            {"id": "list", "action": "fs:readdir", "input": {"paths": ["."]}},
            log(
                "show",
                "${{ steps.list.output.files | length }} files, "
                "${{ steps['list'].output.folders | length }} folders",
            ),
        ]
        folder = write_template(tmp_path / "t", template(steps))
        (tmp_path / "workspace").mkdir()
        (tmp_path / "workspace" / "a.txt").write_text("a")
        done = run(offline_runtime, folder)
        assert done.result.status == "completed"
        assert "1 files, 0 folders" in done.events.text()
        assert [status for _, status in done.events.statuses] == [
            "processing",
            "completed",
            "processing",
            "completed",
        ]

    def test_if_skips_a_step_by_backstages_truthiness(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [
            log("empty-list", "no", **{"if": "${{ parameters.items }}"}),
            log("false", "no", **{"if": False}),
            log("missing", "no", **{"if": "${{ parameters.absent }}"}),
            log("false-string", "yes", **{"if": "false"}),  # a non-empty string is true
            log("object", "yes", **{"if": "${{ parameters.settings }}"}),  # {} is true
        ]
        parameters = {"properties": {k: {} for k in ("items", "absent", "settings")}}
        folder = write_template(tmp_path / "t", template(steps, parameters=parameters))
        done = run(offline_runtime, folder, {"items": [], "settings": {}})
        assert done.statuses == {
            "empty-list": "skipped",
            "false": "skipped",
            "missing": "skipped",
            "false-string": "completed",
            "object": "completed",
        }
        assert "Skipping step false because its if condition was false" in done.events.text()

    def test_each_runs_once_per_item_and_collects_outputs_in_arrays(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [
            {
                **write_step("write", "${{ each.value }}.yaml", "${{ each.key }}"),
                "each": "${{ parameters.names }}",
            },
            {
                "id": "list",
                "action": "fs:readdir",
                "input": {"paths": ["."]},
                "each": {"first": 1, "second": 2},
            },
            log("show", "count ${{ steps.list.output.files | length }}"),
        ]
        folder = write_template(
            tmp_path / "t", template(steps, parameters={"properties": {"names": {}}})
        )
        done = run(offline_runtime, folder, {"names": ["a", "b"]})
        assert done.result.status == "completed", done.result.error
        assert sorted(p.name for p in done.result.workspace.iterdir()) == ["a.yaml", "b.yaml"]
        assert "name: '0'" in done.read("a.yaml")
        assert done.events.lines[-2] == ("show", "count 2")  # two runs of fs:readdir, two arrays

    def test_a_failing_step_stops_the_run_and_no_later_step_runs(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [
            log("first", "one"),
            {
                "id": "broken",
                "action": "fs:rename",
                "input": {"files": [{"from": "nothing-here", "to": "b"}]},
            },
            write_step("later", "later.yaml", "never"),
        ]
        folder = write_template(tmp_path / "t", template(steps))
        done = run(offline_runtime, folder)
        assert done.result.status == "failed"
        assert done.statuses == {"first": "completed", "broken": "failed"}
        assert done.result.error == (
            "step 'broken' (fs:rename): files[0].from 'nothing-here' does not exist"
        )
        assert not (done.result.workspace / "later.yaml").exists()

    def test_a_missing_value_fails_the_step_naming_the_expression(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [log("publish", "${{ parameters.repoUrl | parseRepoUrl }}")]
        parameters = {"properties": {"repoUrl": {"type": "string"}}}
        folder = write_template(tmp_path / "t", template(steps, parameters=parameters))
        done = run(offline_runtime, folder)
        assert done.result.error == (
            "step 'publish': ${{ parameters.repoUrl | parseRepoUrl }}: "
            "parameters.repoUrl is not set"
        )

    def test_input_is_checked_against_the_actions_schema_naming_step_and_field(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [
            one_step("fetch:template", {"targetPath": 3}, "fetch"),
            log("later", "never"),
        ]
        folder = write_template(tmp_path / "t", template(steps))
        done = run(offline_runtime, folder)
        assert done.result.status == "failed"
        assert done.result.error is not None
        assert done.result.error.startswith("step 'fetch': invalid input for fetch:template: ")
        assert "url is required" in done.result.error
        assert "targetPath: 3 is not of type 'string'" in done.result.error
        assert "later" not in done.statuses

    def test_a_template_with_an_unknown_action_runs_nothing(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        folder = write_template(tmp_path / "t", template([log("a", "x"), one_step("nope", {})]))
        done = run(offline_runtime, folder)
        assert done.result.status == "failed" and done.result.steps == []
        assert "uses the unknown action 'nope'" in str(done.result.error)


class TestContext:
    def test_user_task_and_each_are_readable(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        message = "${{ user.ref }} ${{ user.entity.metadata.name }} ${{ context.task.id }}"
        folder = write_template(tmp_path / "t", template([log("who", message)]))
        done = run(offline_runtime, folder)
        assert ("who", "user:default/tester tester task-1") in done.events.lines


class TestDryRun:
    def test_actions_without_dry_run_are_skipped_and_give_example_outputs(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [
            one_step("publish:github", {"repoUrl": "github.com?owner=a&repo=b"}, "publish"),
            one_step(
                "catalog:register",
                {"repoContentsUrl": "${{ steps.publish.output.repoContentsUrl }}"},
                "register",
            ),
        ]
        output = {
            "links": [
                {"title": "Repo", "url": "${{ steps.publish.output.remoteUrl }}"},
                {"title": "Catalog", "entityRef": "${{ steps.register.output.entityRef }}"},
            ]
        }
        folder = write_template(tmp_path / "t", template(steps, output=output))
        done = run(offline_runtime, folder, dry_run=True)
        assert done.statuses == {"publish": "skipped", "register": "skipped"}
        assert "Skipping because publish:github does not support dry-run" in done.events.text()
        assert '"repoContentsUrl": "<example>"' in done.events.text()
        assert done.result.output == {
            "links": [{"title": "Repo", "url": "<example>"}, {"title": "Catalog"}]
        }


class TestOutput:
    def test_links_and_texts_with_a_false_if_are_left_out(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        output = {
            "links": [
                {
                    "title": "Docs",
                    "url": "https://docs.example.com",
                    "if": "${{ parameters.docs }}",
                },
                {"title": "Home", "url": "https://example.com"},
            ],
            "text": [
                {
                    "title": "Next",
                    "content": "Run **${{ parameters.name }}**",
                    "if": "${{ parameters.absent }}",
                }
            ],
            "name": "${{ parameters.name }}",
        }
        parameters = {"properties": {k: {} for k in ("docs", "name", "absent")}}
        folder = write_template(tmp_path / "t", template([], parameters=parameters, output=output))
        done = run(offline_runtime, folder, {"docs": False, "name": "ledger"})
        assert done.result.output == {
            "links": [{"title": "Home", "url": "https://example.com"}],
            "text": [],
            "name": "ledger",
        }


class TestSecrets:
    def test_secrets_reach_inputs_but_never_the_log(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [log("say", "token is ${{ secrets.token }}")]
        parameters = {"properties": {"token": {"type": "string", "ui:field": "Secret"}}}
        folder = write_template(tmp_path / "t", template(steps, parameters=parameters))
        done = run(offline_runtime, folder, secrets={"token": "s3cret-value"})
        assert done.result.status == "completed"
        assert "token is ***" in done.events.text()
        assert "s3cret-value" not in done.events.text()

    def test_a_dry_run_logs_its_inputs_with_secrets_redacted(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [log("say", "${{ secrets.token }}")]
        folder = write_template(tmp_path / "t", template(steps))
        done = run(offline_runtime, folder, secrets={"token": "s3cret-value"}, dry_run=True)
        assert '"message": "***"' in done.events.text()

    def test_a_secret_read_as_a_parameter_says_where_it_is(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        steps = [log("say", "${{ parameters.token }}")]
        parameters = {"properties": {"token": {"type": "string", "ui:field": "Secret"}}}
        folder = write_template(tmp_path / "t", template(steps, parameters=parameters))
        done = run(offline_runtime, folder, secrets={"token": "x"})
        assert "read it as ${{ secrets.token }}" in str(done.result.error)


class TestCancel:
    def test_a_cancelled_run_stops_before_the_next_step(
        self, offline_runtime: Runtime, tmp_path: Path
    ) -> None:
        folder = write_template(tmp_path / "t", template([log("a", "x"), log("b", "y")]))
        asked = iter([False, True])
        result = engine.run_template(
            offline_runtime,
            engine.template_from_directory(folder),
            {},
            workspace=tmp_path / "w",
            user=USER,
            actor=TESTER,
            is_cancelled=lambda: next(asked, True),
        )
        assert result.status == "cancelled"
        assert [step.id for step in result.steps] == ["a"]
