"""A component's deploy settings: ``.pavedroad/deploy.yaml`` at the commit being deployed.

The file says how each target runs the component (``process:``, ``gitops:``, ``kubernetes:``)
and may override the health analysis (``analysis:``, the field names of
``settings.deploy.analysis``, plus extra PromQL ``queries``). It is read as the catalog reads
descriptors (YAML 1.2, duplicate keys refused) and every problem names its line. A repository
without the file deploys with the environment's settings alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from difflib import get_close_matches
from typing import Any

from pydantic import ValidationError

from pavedroad.catalog.descriptors import DescriptorSyntaxError, Positions, parse_documents
from pavedroad.config import AnalysisSettings, Settings
from pavedroad.core.errors import InputError
from pavedroad.pipelines import workspace

FILE = ".pavedroad/deploy.yaml"
TARGET_SECTIONS = ("process", "gitops", "kubernetes")
TOP_KEYS = (*TARGET_SECTIONS, "analysis")
PROCESS_KEYS: dict[str, type] = {
    "build": str,
    "command": str,
    "health": str,
    "startup_seconds": float,
    "stop_grace_seconds": float,
    "proxy_port": int,
    "env": dict,
}
GITOPS_KEYS: dict[str, type] = {"repository": str, "path": str, "values_key": str, "image": str}
QUERY_KEYS = ("name", "promql", "max", "min")

Path = tuple[str | int, ...]


class DeployConfigInvalid(InputError):  # noqa: N818 - reads as what it is
    """``.pavedroad/deploy.yaml`` cannot be used; ``problems`` has each with its line."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        where = f"{first['file']}:{first['line']}" if first.get("line") else first["file"]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{where}: {first['message']}{more}",
            hint=first.get("hint") or "fix the file and push the fix",
            problems=problems,
        )
        self.problems = problems


def read_deploy_config(settings: Settings, repository: str, commit: str) -> dict[str, Any]:
    """The deploy settings at ``commit`` of the repository (its mirror must hold the commit):
    ``{}`` without the file; raises :class:`DeployConfigInvalid` on a bad one."""
    text = workspace.read_file_at(settings, repository, commit, FILE)
    if text is None:
        return {}
    return parse_deploy_config(text, settings, file=f"{FILE} at {commit[:12]}")


def parse_deploy_config(text: str, settings: Settings, *, file: str = FILE) -> dict[str, Any]:
    """The file's settings, checked; raises :class:`DeployConfigInvalid` with every problem."""
    try:
        documents = parse_documents(text)
    except DescriptorSyntaxError as error:
        raise DeployConfigInvalid(
            [
                {
                    "file": file,
                    "line": error.line,
                    "column": error.column,
                    "message": error.message,
                    "hint": error.hint,
                }
            ]
        ) from error
    checker = _Checker(file, Positions(text))
    if not documents:
        return {}
    if len(documents) > 1:
        checker.problem((), "the deploy file holds one YAML document", "remove the `---` lines")
    data = documents[0].data
    if not isinstance(data, dict):
        checker.problem((), "the deploy file is a mapping", "start with `process:`")
    else:
        checker.check(data, settings)
    if checker.problems:
        raise DeployConfigInvalid(checker.problems)
    return dict(data)


def target_config(
    component: Mapping[str, Any], environment_settings: Mapping[str, Any]
) -> dict[str, Any]:
    """What a target is given: the component's settings merged over the environment's (both
    shaped like the deploy file: ``{process: {...}, gitops: {...}}``), mappings key by key."""
    return _merged(environment_settings, component)


def analysis_config(settings: Settings, component: Mapping[str, Any]) -> dict[str, Any]:
    """The analysis settings of a deploy: the platform's, overridden by the component's
    ``analysis:`` (``component`` is shaped like the deploy file)."""
    merged: dict[str, Any] = {
        **settings.deploy.analysis.model_dump(),
        **dict(component.get("analysis") or {}),
    }
    merged.setdefault("queries", [])
    return merged


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


class _Checker:
    def __init__(self, file: str, positions: Positions) -> None:
        self.file = file
        self.positions = positions
        self.problems: list[dict[str, Any]] = []

    def problem(self, path: Path, message: str, hint: str = "") -> None:
        position = self.positions.locate(0, path)
        line, column = position if position else (None, None)
        dotted = ".".join(str(part) for part in path)
        self.problems.append(
            {
                "file": self.file,
                "line": line,
                "column": column,
                "path": dotted,
                "message": f"{dotted}: {message}" if dotted else message,
                "hint": hint,
            }
        )

    def check(self, data: dict[str, Any], settings: Settings) -> None:
        self.unknown(data, (), TOP_KEYS)
        self.section(data, "process", PROCESS_KEYS)
        # The gitops target may take settings beyond these; only their types are checked.
        self.section(data, "gitops", GITOPS_KEYS, strict=False)
        if "kubernetes" in data and not isinstance(data["kubernetes"], dict):
            self.problem(("kubernetes",), "must be a mapping of the kubernetes target's settings")
        process = data.get("process")
        if isinstance(process, dict) and "health" in process:
            health = process["health"]
            if isinstance(health, str) and not health.startswith("/"):
                self.problem(("process", "health"), f"{health!r} is not a path", "e.g. /healthz")
        if "analysis" in data:
            self.analysis(data["analysis"], settings)

    def unknown(self, data: dict[str, Any], path: Path, known: tuple[str, ...]) -> None:
        for key in data:
            if key in known:
                continue
            close = get_close_matches(str(key), known, n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"the keys are {', '.join(known)}"
            self.problem((*path, str(key)), f"unknown key {key!r}", hint)

    def section(
        self, data: dict[str, Any], name: str, fields: Mapping[str, type], *, strict: bool = True
    ) -> None:
        if name not in data:
            return
        section = data[name]
        if not isinstance(section, dict):
            self.problem((name,), f"must be a mapping of the {name} target's settings")
            return
        if strict:
            self.unknown(section, (name,), tuple(fields))
        for key, kind in fields.items():
            if key not in section:
                continue
            value = section[key]
            if kind is dict:
                if not isinstance(value, dict):
                    self.problem((name, key), f"must be a mapping, not {value!r}")
            elif kind is int:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    self.problem((name, key), f"must be a whole number, not {value!r}")
            elif kind is float:
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    self.problem((name, key), f"must be a positive number, not {value!r}")
            elif not isinstance(value, str) or not value.strip():
                self.problem((name, key), f"must be a non-empty string, not {value!r}")

    def analysis(self, value: Any, settings: Settings) -> None:
        if not isinstance(value, dict):
            self.problem(("analysis",), "must be a mapping", "e.g. `analysis: {mode: shadow}`")
            return
        known = (*AnalysisSettings.model_fields, "queries")
        self.unknown(value, ("analysis",), tuple(known))
        fields = {k: v for k, v in value.items() if k in AnalysisSettings.model_fields}
        try:
            AnalysisSettings.model_validate({**settings.deploy.analysis.model_dump(), **fields})
        except ValidationError as error:
            for item in error.errors():
                where = tuple(str(part) for part in item["loc"])
                self.problem(("analysis", *where), str(item["msg"]).lower())
        queries = value.get("queries")
        if queries is None:
            return
        if not isinstance(queries, list):
            self.problem(("analysis", "queries"), "must be a list of {name, promql, max}")
            return
        for index, query in enumerate(queries):
            self.query(query, ("analysis", "queries", index))

    def query(self, query: Any, path: Path) -> None:
        if not isinstance(query, dict):
            self.problem(path, "a query is a mapping", "write `- {name: ..., promql: ..., max: 1}`")
            return
        self.unknown(query, path, QUERY_KEYS)
        for key in ("name", "promql"):
            if not isinstance(query.get(key), str) or not str(query.get(key)).strip():
                self.problem((*path, key) if key in query else path, f"a query needs `{key}:`")
        if "max" not in query and "min" not in query:
            self.problem(path, "a query needs a threshold", "add `max: 100` or `min: 1`")
        for key in ("max", "min"):
            if key in query and (
                isinstance(query[key], bool) or not isinstance(query[key], int | float)
            ):
                self.problem((*path, key), f"must be a number, not {query[key]!r}")
