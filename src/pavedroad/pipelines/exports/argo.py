"""A pipeline as an Argo Workflows ``WorkflowTemplate``: a DAG of one task per step after a
``checkout`` task, on a workspace volume the tasks share, with an exit handler reporting back.

Parameters a submission sets: ``repository`` (default: the one exported), ``commit`` (when
exported with ``commit_param``), ``branch``, ``default-branch``, ``event``, ``tag``, ``image``
(what steps run in), ``checkout-image`` (one with git) and ``run-url``. Secrets come from the
Kubernetes secret ``<name>-secrets`` (one key per secret reference); the callback's token
from the secret ``pavedroad-callback`` (key ``token``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pavedroad.pipelines.definition.conditions import (
    Untranslatable,
    functions_of,
    translate_condition,
)
from pavedroad.pipelines.exports.callback import REPORT_SCRIPT, callback_endpoint, step_ids_json
from pavedroad.pipelines.exports.commands import step_command
from pavedroad.pipelines.exports.expressions import CStyleDialect
from pavedroad.pipelines.hooks import StepType
from pavedroad.pipelines.schemas import Pipeline, Step

WORKSPACE = "/workspace"
SOURCE = f"{WORKSPACE}/src"
GIT_IMAGE = "alpine/git:v2.47.2"
REPORT_IMAGE = "python:3.12-alpine"
STEP_IMAGE = "python:3.11"
_FINISHED = ("Succeeded", "Skipped", "Failed", "Errored", "Omitted")

CHECKOUT_SCRIPT = """\
set -eu
rm -rf "$SOURCE"
git clone --quiet "$REPOSITORY" "$SOURCE"
cd "$SOURCE"
if [ -n "${COMMIT:-}" ]; then git checkout --quiet --detach "$COMMIT"; \
else git checkout --quiet "$BRANCH"; fi
git rev-parse HEAD > /tmp/commit
echo "checked out $(cat /tmp/commit)"
"""


def task_name(step_id: str) -> str:
    """Argo task and template names cannot hold dots: ``test.unit`` -> ``test--unit``."""
    return step_id.replace(".", "--")


class _Argo(CStyleDialect):
    """Conditions as Argo ``when`` expressions (govaluate) on the workflow's parameters."""

    system = "Argo"

    def identifier(self, name: str) -> str:
        parameter = {"default": "default-branch"}.get(name, name)
        return f"'{{{{workflow.parameters.{parameter}}}}}'"

    def text(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def matches(self, left: str, pattern: str) -> str:
        return f"{left} =~ {self.text(pattern)}"

    def call(self, name: str, arguments: list[str]) -> str:
        needs = [task_name(need) for need in self.step.needs]
        if name == "changed":
            return self.changed()
        if name == "always" or (name in ("success", "failure") and not needs):
            return "true" if name != "failure" else "false"
        if name == "success":
            return " && ".join(
                f"('{{{{tasks.{n}.status}}}}' == 'Succeeded' || '{{{{tasks.{n}.status}}}}' "
                "== 'Skipped')"
                for n in needs
            )
        if name == "failure":
            return " || ".join(
                f"'{{{{tasks.{n}.status}}}}' =~ 'Failed|Error|Omitted'" for n in needs
            )
        raise Untranslatable(f"{name}() has no Argo equivalent here")


def to_argo(
    pipeline: Pipeline,
    *,
    name: str,
    repository: str,
    commit_param: bool = True,
    callback_url: str,
    step_types: Mapping[str, StepType] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The ``WorkflowTemplate`` (as a mapping, ready for YAML) that runs ``pipeline``.

    ``warnings`` collects what does not translate exactly (a condition, a step type).
    """
    warnings = warnings if warnings is not None else []
    tasks: list[dict[str, Any]] = [{"name": "checkout", "template": "checkout"}]
    templates: list[dict[str, Any]] = []
    tolerant = False  # a task that runs after failures: the DAG must not stop at the first
    for step in pipeline.steps:
        task, template, runs_after_failure = _step(pipeline, step, name, step_types, warnings)
        tolerant = tolerant or runs_after_failure
        tasks.append(task)
        templates.append(template)
    dag: dict[str, Any] = {"tasks": tasks}
    if tolerant:
        dag["failFast"] = False
    parameters: list[dict[str, Any]] = [{"name": "repository", "value": repository}]
    if commit_param:
        parameters.append({"name": "commit", "description": "The commit (its sha) to run."})
    parameters += [
        {"name": "branch", "value": "main", "description": "The branch the commit is on."},
        {"name": "default-branch", "value": "main"},
        {"name": "event", "value": "push", "enum": ["push", "pull_request", "manual"]},
        {"name": "tag", "value": "", "description": "The tag pushed, if any."},
        {"name": "image", "value": STEP_IMAGE, "description": "The image steps run in."},
        {"name": "checkout-image", "value": GIT_IMAGE, "description": "An image with git."},
        {"name": "run-url", "value": "", "description": "Where people see this run."},
    ]
    step_ids = {task_name(step.id): step.id for step in pipeline.steps}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "pavedroad"},
            "annotations": {"pavedroad.dev/source": pipeline.source},
        },
        "spec": {
            "entrypoint": "pipeline",
            "onExit": "report",
            "arguments": {"parameters": parameters},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "workspace"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "2Gi"}},
                    },
                }
            ],
            "templates": [
                {"name": "pipeline", "dag": dag},
                _checkout(commit_param),
                *templates,
                _report(callback_url, commit_param, step_ids),
            ],
        },
    }


def _step(
    pipeline: Pipeline,
    step: Step,
    name: str,
    step_types: Mapping[str, StepType] | None,
    warnings: list[str],
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    task: dict[str, Any] = {"name": task_name(step.id), "template": task_name(step.id)}
    needs = [task_name(need) for need in step.needs] or ["checkout"]
    functions = functions_of(step.condition) if step.condition else frozenset()
    runs_after_failure = bool(functions & {"always", "failure"})
    if runs_after_failure:
        task["depends"] = " && ".join(
            "(" + " || ".join(f"{need}.{state}" for state in _FINISHED) + ")" for need in needs
        )
    else:
        task["dependencies"] = needs
    if step.condition:
        try:
            task["when"] = translate_condition(step.condition, _Argo(step, warnings))
        except Untranslatable as reason:
            warnings.append(f"{step.id}: condition {step.condition!r} is left out: {reason}")
    env: list[dict[str, Any]] = [
        {"name": key, "value": value} for key, value in {**pipeline.env, **step.env}.items()
    ]
    env += [
        {
            "name": variable,
            "valueFrom": {"secretKeyRef": {"name": f"{name}-secrets", "key": reference}},
        }
        for variable, reference in step.secrets.items()
    ]
    container: dict[str, Any] = {
        "image": "{{workflow.parameters.image}}",
        "command": ["sh", "-c"],
        "args": [step_command(step, step_types, warnings)],
        "workingDir": SOURCE,
        "volumeMounts": [{"name": "workspace", "mountPath": WORKSPACE}],
    }
    if env:
        container["env"] = env
    template: dict[str, Any] = {
        "name": task_name(step.id),
        "activeDeadlineSeconds": step.timeout_seconds,
        "container": container,
    }
    if step.retries:
        template["retryStrategy"] = {"limit": step.retries}
    return task, template, runs_after_failure


def _checkout(commit_param: bool) -> dict[str, Any]:
    env = [
        {"name": "REPOSITORY", "value": "{{workflow.parameters.repository}}"},
        {"name": "BRANCH", "value": "{{workflow.parameters.branch}}"},
        {"name": "SOURCE", "value": SOURCE},
    ]
    if commit_param:
        env.append({"name": "COMMIT", "value": "{{workflow.parameters.commit}}"})
    return {
        "name": "checkout",
        "activeDeadlineSeconds": 600,
        "retryStrategy": {"limit": 2},
        "container": {
            "image": "{{workflow.parameters.checkout-image}}",
            "command": ["sh", "-c"],
            "args": [CHECKOUT_SCRIPT],
            "env": env,
            "volumeMounts": [{"name": "workspace", "mountPath": WORKSPACE}],
        },
        "outputs": {
            "parameters": [
                {"name": "commit", "globalName": "commit", "valueFrom": {"path": "/tmp/commit"}}
            ]
        },
    }


def _report(callback_url: str, commit_param: bool, step_ids: dict[str, str]) -> dict[str, Any]:
    commit = (
        "{{workflow.parameters.commit}}"
        if commit_param
        else "{{workflow.outputs.parameters.commit}}"
    )
    env: list[dict[str, Any]] = [
        {"name": "SYSTEM", "value": "argo"},
        {"name": "CALLBACK_URL", "value": callback_endpoint(callback_url)},
        {
            "name": "PAVEDROAD_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "pavedroad-callback", "key": "token"}},
        },
        {"name": "REPOSITORY", "value": "{{workflow.parameters.repository}}"},
        {"name": "COMMIT", "value": commit},
        {"name": "BRANCH", "value": "{{workflow.parameters.branch}}"},
        {"name": "EXTERNAL_ID", "value": "{{workflow.uid}}"},
        {"name": "RUN_URL", "value": "{{workflow.parameters.run-url}}"},
        {"name": "STATUS", "value": "{{workflow.status}}"},
        {"name": "RESULTS", "value": "{{workflow.failures}}"},
        {"name": "STEP_IDS", "value": step_ids_json(step_ids)},
    ]
    return {
        "name": "report",
        "activeDeadlineSeconds": 120,
        "retryStrategy": {"limit": 3},
        "container": {
            "image": REPORT_IMAGE,
            "command": ["python", "-c"],
            "args": [REPORT_SCRIPT],
            "env": env,
        },
    }
