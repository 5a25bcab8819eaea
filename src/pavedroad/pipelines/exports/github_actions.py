"""A pipeline as a GitHub Actions workflow: one job per step, ``needs`` as in the pipeline, and
a last ``report`` job (``if: always()``) posting the run's status back to pavedroad.

Jobs do not share a workspace on GitHub: each checks the commit out itself. Secret references
become repository secrets (``pypi-token`` -> ``${{ secrets.PYPI_TOKEN }}``); the callback's
token is the secret ``PAVEDROAD_TOKEN``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pavedroad.pipelines.definition.conditions import Untranslatable, translate_condition
from pavedroad.pipelines.exports.callback import REPORT_SCRIPT, callback_endpoint, step_ids_json
from pavedroad.pipelines.exports.commands import step_command, with_retries
from pavedroad.pipelines.exports.expressions import CStyleDialect
from pavedroad.pipelines.hooks import StepType
from pavedroad.pipelines.schemas import Pipeline, Step

CHECKOUT = "actions/checkout@v4"
UPLOAD = "actions/upload-artifact@v4"
RUNNER = "ubuntu-latest"
_SPECIALS = re.compile(r"[\\.+*?()\[\]{}|$^]")


def job_id(step_id: str) -> str:
    """GitHub job ids are letters, digits, ``-`` and ``_``, starting with a letter or ``_``."""
    job = step_id.replace(".", "--")
    return job if re.match(r"^[A-Za-z_]", job) else f"_{job}"


def secret_name(reference: str) -> str:
    """``pypi-token`` -> ``PYPI_TOKEN``: what GitHub allows in a secret's name."""
    name = re.sub(r"[^A-Z0-9_]", "_", reference.upper())
    return name if re.match(r"^[A-Z_]", name) else f"_{name}"


def expression(text: str) -> str:
    return "${{ " + text + " }}"


class _GitHub(CStyleDialect):
    """Conditions as GitHub Actions expressions (``github.*`` contexts, status functions)."""

    system = "GitHub Actions"

    def identifier(self, name: str) -> str:
        return {
            "branch": "(github.head_ref || github.ref_name)",
            "default": "github.event.repository.default_branch",
            "event": "github.event_name",
            "tag": "(startsWith(github.ref, 'refs/tags/') && github.ref_name || '')",
        }[name]

    def text(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def matches(self, left: str, pattern: str) -> str:
        """Only patterns that are a literal with ``^`` or ``$`` anchors translate."""
        start, end = pattern.startswith("^"), pattern.endswith("$") and not pattern.endswith("\\$")
        literal = pattern[1 if start else 0 : len(pattern) - (1 if end else 0)]
        if _SPECIALS.search(literal):
            raise Untranslatable(f"GitHub expressions have no regular expressions ({pattern!r})")
        if start and end:
            return f"{left} == {self.text(literal)}"
        if start:
            return f"startsWith({left}, {self.text(literal)})"
        if end:
            return f"endsWith({left}, {self.text(literal)})"
        return f"contains({left}, {self.text(literal)})"

    def call(self, name: str, arguments: list[str]) -> str:
        if name in ("success", "failure", "always"):
            return f"{name}()"
        if name == "changed":
            return self.changed()
        raise Untranslatable(f"{name}() has no GitHub Actions equivalent here")


def to_github_actions(
    pipeline: Pipeline,
    *,
    name: str,
    callback_url: str,
    step_types: Mapping[str, StepType] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The workflow (as a mapping, ready for YAML) that runs ``pipeline`` on GitHub Actions.

    ``warnings`` collects what does not translate exactly (a condition, a step type).
    """
    warnings = warnings if warnings is not None else []
    jobs: dict[str, Any] = {}
    for step in pipeline.steps:
        jobs[job_id(step.id)] = _job(step, step_types, warnings)
    step_ids = {job_id(step.id): step.id for step in pipeline.steps}
    jobs["report"] = {
        "name": "report to pavedroad",
        "if": "always()",
        "needs": list(step_ids),
        "runs-on": RUNNER,
        "timeout-minutes": 5,
        "steps": [
            {
                "name": "Post the run's status to pavedroad",
                "env": {
                    "SYSTEM": "github-actions",
                    "CALLBACK_URL": callback_endpoint(callback_url),
                    "PAVEDROAD_TOKEN": expression("secrets.PAVEDROAD_TOKEN"),
                    "REPOSITORY": expression("github.server_url")
                    + "/"
                    + expression("github.repository"),
                    "COMMIT": expression("github.sha"),
                    "BRANCH": expression("github.head_ref || github.ref_name"),
                    "EXTERNAL_ID": expression("github.run_id")
                    + "-"
                    + expression("github.run_attempt"),
                    "RUN_URL": expression("github.server_url")
                    + "/"
                    + expression("github.repository")
                    + "/actions/runs/"
                    + expression("github.run_id"),
                    "RESULTS": expression("toJSON(needs)"),
                    "STEP_IDS": step_ids_json(step_ids),
                },
                "run": "python3 - <<'PAVEDROAD'\n" + REPORT_SCRIPT + "PAVEDROAD\n",
            }
        ],
    }
    workflow: dict[str, Any] = {
        "name": name,
        "on": {"push": {}, "pull_request": {}, "workflow_dispatch": {}},
        "permissions": {"contents": "read"},
    }
    if pipeline.env:
        workflow["env"] = dict(pipeline.env)
    workflow["jobs"] = jobs
    return workflow


def _job(
    step: Step, step_types: Mapping[str, StepType] | None, warnings: list[str]
) -> dict[str, Any]:
    job: dict[str, Any] = {"name": step.id}
    if step.needs:
        job["needs"] = [job_id(need) for need in step.needs]
    if step.condition:
        try:
            job["if"] = translate_condition(step.condition, _GitHub(step, warnings))
        except Untranslatable as reason:
            warnings.append(f"{step.id}: condition {step.condition!r} is left out: {reason}")
    job["runs-on"] = RUNNER
    job["timeout-minutes"] = max(1, math.ceil(step.timeout_seconds / 60))
    env = dict(step.env)
    env.update({v: expression(f"secrets.{secret_name(r)}") for v, r in step.secrets.items()})
    if env:
        job["env"] = env
    steps: list[dict[str, Any]] = [
        {"uses": CHECKOUT},
        {
            "name": step.name,
            "run": with_retries(step_command(step, step_types, warnings), step.retries),
        },
    ]
    kept = [*step.artifacts, *step.reports.junit, *step.reports.coverage, *step.reports.sarif,
            *step.reports.cyclonedx]  # fmt: skip
    if kept:
        steps.append(
            {
                "name": "Keep reports and artifacts",
                "if": "always()",
                "uses": UPLOAD,
                "with": {
                    "name": job_id(step.id),
                    "path": "\n".join(kept),
                    "if-no-files-found": "ignore",
                },
            }
        )
    job["steps"] = steps
    return job
