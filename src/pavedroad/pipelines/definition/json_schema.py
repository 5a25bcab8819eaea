"""The JSON Schema of ``.pavedroad/pipeline.yaml`` for editors (``pavedroad pipeline schema``).

It says what ``pavedroad pipeline validate`` checks about each field's shape; what needs the
whole file (needs that exist, cycles, step types, the golden merge) only the validator checks.
"""

from __future__ import annotations

from typing import Any

from pavedroad.pipelines.definition.reading import MAX_RETRIES, REPORT_KINDS

_NAME = "^[a-z0-9][a-z0-9-]*$"
_ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"


def _globs(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}},
        ],
    }


def _env(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": "object",
        "propertyNames": {"pattern": _ENV_NAME},
        "additionalProperties": {"type": ["string", "number", "boolean"]},
    }


_CONDITION = {
    "type": "string",
    "minLength": 1,
    "description": (
        "When this runs. Identifiers: branch, default (the default branch), event, tag; "
        "operators ==, != and =~ (regular expression), and, or, not, parentheses; functions "
        "changed('glob', ...), success(), failure(), always(), result('stage.step'). Without "
        "success(), failure(), always() or result() the needs must have succeeded too."
    ),
    "examples": ["branch == default", "changed('src/**') and success()", "tag =~ ^v"],
}


def pipeline_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a pipeline file, with descriptions for editors."""
    step = {
        "type": "object",
        "description": "One unit of work: a shell command (run) or a step type (uses).",
        "additionalProperties": False,
        "oneOf": [{"required": ["run"]}, {"required": ["uses"]}],
        "properties": {
            "name": {
                "type": "string",
                "pattern": _NAME,
                "description": "Unique in the stage; by default the step type or the command's "
                "first words.",
            },
            "run": {"type": "string", "minLength": 1, "description": "A shell command (sh -c)."},
            "uses": {
                "type": "string",
                "minLength": 1,
                "description": "A step type: tests, build, sbom, sast, secrets-scan, vuln-scan, "
                "dast, deploy, or one a plugin adds.",
            },
            "with": {
                "type": "object",
                "description": "The step type's settings, checked against its own schema.",
            },
            "needs": {
                "description": "Steps that must finish first: names in this stage, or "
                "stage.step. Earlier stages are needed anyway.",
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}},
                ],
            },
            "if": _CONDITION,
            "timeout": {
                "description": "How long the step may run: seconds, or 30s, 10m, 1h30m. Default: "
                "the server's settings.pipelines.default_timeout_seconds.",
                "oneOf": [
                    {"type": "integer", "minimum": 1},
                    {"type": "string", "pattern": r"^(\d+|(\d+h)?(\d+m)?(\d+s)?)$", "minLength": 1},
                ],
            },
            "retries": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_RETRIES,
                "description": "How often a failed step is tried again.",
            },
            "env": _env("Environment variables of this step."),
            "secrets": {
                "type": "object",
                "description": "Environment variable -> secret reference, resolved by the "
                "secrets provider when the step runs and masked in its log.",
                "propertyNames": {"pattern": _ENV_NAME},
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "reports": {
                "type": "object",
                "description": "Report files the step writes, collected by path (globs).",
                "additionalProperties": False,
                "properties": {
                    kind: _globs(description)
                    for kind, description in zip(
                        REPORT_KINDS,
                        ("JUnit XML", "Cobertura XML coverage", "SARIF findings", "CycloneDX SBOM"),
                        strict=True,
                    )
                },
            },
            "artifacts": _globs("Files kept after the run (globs; a directory keeps its files)."),
        },
    }
    stage = {
        "type": "object",
        "description": "Stages run in order; a stage's steps need every step of the stage before.",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "pattern": _NAME,
                "description": "A golden stage's name changes that stage; another adds a stage.",
            },
            "parallel": {
                "type": "boolean",
                "default": False,
                "description": "true: the steps run together; false: in the order written.",
            },
            "if": _CONDITION,
            "skip": {
                "type": "boolean",
                "description": "true drops this stage of the golden pipeline (unless mandatory).",
            },
            "mandatory": {
                "type": "boolean",
                "description": "Golden pipeline only: repositories may add steps, never drop it.",
            },
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pavedroad pipeline (.pavedroad/pipeline.yaml)",
        "description": "Stages and steps pavedroad runs on every push; `extends: golden` builds "
        "on the organisation's golden pipeline. Check a file with `pavedroad pipeline validate`.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "extends": {
                "const": "golden",
                "description": "Inherit the organisation's golden pipeline; this file changes it.",
            },
            "env": _env("Environment variables of every step."),
            "stages": {"type": "array", "items": {"$ref": "#/$defs/stage"}},
        },
        "$defs": {"stage": stage, "step": step},
    }
