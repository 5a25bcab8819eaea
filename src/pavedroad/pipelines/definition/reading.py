"""Reading a pipeline file (the golden one or a repository's) into specs, field by field.

YAML is read as the catalog reads descriptors (YAML 1.2, duplicate keys refused, positions of
fields recovered for messages). Every problem is collected; nothing here raises on bad input.
"""

from __future__ import annotations

import re
from difflib import get_close_matches
from typing import Any

from pavedroad.catalog.descriptors import DescriptorSyntaxError, Positions, parse_documents
from pavedroad.pipelines.definition.conditions import ConditionError, check_condition
from pavedroad.pipelines.definition.specs import FileSpec, Located, Path, StageSpec, StepSpec
from pavedroad.pipelines.schemas import PipelineProblem

TOP_KEYS = ("extends", "env", "stages")
STAGE_KEYS = ("name", "parallel", "if", "skip", "mandatory", "steps")
STEP_KEYS = (
    "name", "run", "uses", "with", "needs", "if", "timeout", "retries", "env", "secrets",
    "reports", "artifacts",
)  # fmt: skip
REPORT_KINDS = ("junit", "coverage", "sarif", "cyclonedx")
MAX_RETRIES = 5
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def read_file(text: str, file: str, *, golden: bool = False) -> FileSpec:
    """The file's specs, as far as they could be read; its problems are in ``.source``."""
    source = Located(file, None)
    try:
        documents = parse_documents(text)
    except DescriptorSyntaxError as error:
        source.problems.append(
            PipelineProblem(
                error.message, file=file, line=error.line, column=error.column, hint=error.hint
            )
        )
        return FileSpec(source, [])
    source.positions = Positions(text)
    if not documents:
        source.problem(
            (), "the file is empty", "write `extends: golden` to use the golden pipeline"
        )
        return FileSpec(source, [])
    if len(documents) > 1 or documents[0].index != 0:
        source.problem((), "a pipeline file holds one YAML document", "remove the `---` lines")
        return FileSpec(source, [])
    data = documents[0].data
    if not isinstance(data, dict):
        source.problem((), "a pipeline file is a mapping", "start with `extends: golden`")
        return FileSpec(source, [])
    return _File(source, golden).read(data)


class _File:
    def __init__(self, source: Located, golden: bool) -> None:
        self.source = source
        self.golden = golden

    def problem(self, path: Path, message: str, hint: str = "") -> None:
        self.source.problem(path, message, hint)

    def read(self, data: dict[str, Any]) -> FileSpec:
        self.unknown_keys(data, (), TOP_KEYS)
        spec = FileSpec(self.source, [])
        if "extends" in data:
            extends = data["extends"]
            if self.golden:
                self.problem(("extends",), "the golden pipeline cannot extend another")
            elif extends != "golden":
                self.problem(
                    ("extends",),
                    f"extends must be `golden`, not {extends!r}",
                    "write `extends: golden`, or leave it out to use this file alone",
                )
            else:
                spec.extends = "golden"
        spec.env = self.env(data.get("env"), ("env",))
        stages = data.get("stages")
        if stages is None:
            if spec.extends is None:
                self.problem((), "no stages", "add `stages:`, or `extends: golden`")
            return spec
        if not isinstance(stages, list):
            self.problem(("stages",), "stages must be a list", "write `- name: test` items")
            return spec
        seen: set[str] = set()
        for index, raw in enumerate(stages):
            stage = self.stage(raw, ("stages", index))
            if stage is None:
                continue
            if stage.name in seen:
                self.problem(
                    (*stage.path, "name"),
                    f"two stages are named {stage.name!r}",
                    "give each stage its own name",
                )
                continue
            seen.add(stage.name)
            spec.stages.append(stage)
        return spec

    def unknown_keys(self, data: dict[str, Any], path: Path, known: tuple[str, ...]) -> None:
        for key in data:
            if key in known:
                continue
            close = get_close_matches(str(key), known, n=1)
            hint = (
                f"did you mean `{close[0]}`?" if close else f"the keys here are {', '.join(known)}"
            )
            self.problem((*path, str(key)), f"unknown key {key!r}", hint)

    def stage(self, raw: Any, path: Path) -> StageSpec | None:
        if not isinstance(raw, dict):
            self.problem(path, "a stage is a mapping", "write `- name: test` and its `steps:`")
            return None
        self.unknown_keys(raw, path, STAGE_KEYS)
        name = self.name(raw.get("name"), (*path, "name"), "stage", required=True)
        if name is None:
            return None
        stage = StageSpec(name, path, self.source, frozenset(str(k) for k in raw))
        stage.parallel = self.flag(raw, "parallel", path)
        stage.skip = self.flag(raw, "skip", path)
        stage.mandatory = self.flag(raw, "mandatory", path)
        if stage.mandatory and not self.golden:
            self.problem(
                (*path, "mandatory"),
                "only the golden pipeline marks stages mandatory",
                "remove `mandatory:` from this file",
            )
        if stage.skip and self.golden:
            self.problem((*path, "skip"), "the golden pipeline does not skip its own stages")
        stage.condition = self.condition(raw, path)
        steps = raw.get("steps")
        if steps is None:
            if not stage.skip and not self.golden:
                return stage  # a stage of the golden pipeline named to change its settings
            if not stage.skip:
                self.problem(path, f"stage {name!r} has no steps", "add `steps:`")
            return stage
        if stage.skip:
            self.problem(
                (*path, "steps"),
                "a stage with `skip: true` takes no steps",
                "remove `skip: true` or the steps",
            )
        if not isinstance(steps, list) or not steps:
            self.problem(
                (*path, "steps"), "steps must be a non-empty list", "write `- run: make test`"
            )
            return stage
        names: set[str] = set()
        for index, raw_step in enumerate(steps):
            step = self.step(raw_step, (*path, "steps", index))
            if step is None:
                continue
            if step.name in names:
                self.problem(
                    (*step.path, "name") if "name" in step.given else step.path,
                    f"two steps of stage {name!r} are named {step.name!r}",
                    "give each step its own `name:`",
                )
                continue
            names.add(step.name)
            stage.steps.append(step)
        return stage

    def step(self, raw: Any, path: Path) -> StepSpec | None:
        if isinstance(raw, str):
            self.problem(path, "a step is a mapping", f"write `- run: {raw}`")
            return None
        if not isinstance(raw, dict):
            self.problem(path, "a step is a mapping", "write `- run: make test` or `- uses: tests`")
            return None
        self.unknown_keys(raw, path, STEP_KEYS)
        run = self.text(raw, "run", path)
        uses = self.text(raw, "uses", path)
        if "run" not in raw and "uses" not in raw:
            self.problem(
                path, "a step has `run:` or `uses:`", "add `run: <command>` or `uses: tests`"
            )
        elif "run" in raw and "uses" in raw:
            self.problem((*path, "uses"), "a step has `run:` or `uses:`, not both")
        if "name" in raw:
            name = self.name(raw["name"], (*path, "name"), "step")
        else:
            name = _derived_name(run, uses)
        if name is None:
            return None
        position = self.source.positions.locate(0, path) if self.source.positions else None
        step = StepSpec(name, path, self.source, frozenset(str(k) for k in raw), run=run, uses=uses)
        step.line = position[0] if position else None
        if "with" in raw:
            if not isinstance(raw["with"], dict):
                self.problem((*path, "with"), "with must be a mapping of the step type's settings")
            else:
                step.with_ = dict(raw["with"])
            if run is not None:
                self.problem(
                    (*path, "with"), "`with:` belongs to `uses:` steps", "use `env:` for a command"
                )
        step.needs = self.needs(raw.get("needs"), (*path, "needs"))
        step.condition = self.condition(raw, path)
        if "timeout" in raw:
            step.timeout_seconds = self.timeout(raw["timeout"], (*path, "timeout"))
        step.retries = self.retries(raw.get("retries", 0), (*path, "retries"))
        step.env = self.env(raw.get("env"), (*path, "env"))
        step.secrets = self.secrets(raw.get("secrets"), (*path, "secrets"))
        step.reports = self.reports(raw.get("reports"), (*path, "reports"))
        step.artifacts = self.globs(raw.get("artifacts"), (*path, "artifacts"))
        return step

    def name(self, value: Any, path: Path, what: str, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.problem(path[:-1], f"a {what} needs a `name:`", "for example `name: test`")
            return None
        if not isinstance(value, str | int) or not NAME.match(str(value)):
            self.problem(
                path,
                f"{what} name {value!r} is not lower-case letters, digits and dashes",
                f"for example `name: {_slug(str(value)) or what}`",
            )
            return None
        return str(value)

    def flag(self, raw: dict[str, Any], key: str, path: Path) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.problem((*path, key), f"{key} must be true or false, not {value!r}")
            return False
        return value

    def text(self, raw: dict[str, Any], key: str, path: Path) -> str | None:
        if key not in raw:
            return None
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            self.problem((*path, key), f"{key} must be a non-empty string, not {value!r}")
            return None
        return value

    def condition(self, raw: dict[str, Any], path: Path) -> str | None:
        if "if" not in raw:
            return None
        value = raw["if"]
        if not isinstance(value, str) or not value.strip():
            self.problem(
                (*path, "if"),
                f"if must be a condition in a string, not {value!r}",
                "for example `if: branch == default`",
            )
            return None
        try:
            check_condition(value)
        except ConditionError as error:
            self.problem((*path, "if"), f"invalid condition {value!r}: {error.message}", error.hint)
            return None
        return value

    def needs(self, value: Any, path: Path) -> list[tuple[str, Path]]:
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.problem(path, "needs must be a step name or a list of them")
            return []
        needs: list[tuple[str, Path]] = []
        for index, item in enumerate(items):
            item_path = (*path, index) if not isinstance(value, str) else path
            if not isinstance(item, str) or not item:
                self.problem(item_path, f"needs holds step names, not {item!r}")
                continue
            needs.append((item, item_path))
        return needs

    def timeout(self, value: Any, path: Path) -> int | None:
        seconds = parse_duration(value)
        if seconds is None or seconds <= 0:
            self.problem(
                path,
                f"timeout {value!r} is not a duration",
                "write seconds (90) or a duration such as 30s, 10m or 1h30m",
            )
            return None
        return seconds

    def retries(self, value: Any, path: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
            self.problem(
                path, f"retries must be a whole number from 0 to {MAX_RETRIES}, not {value!r}"
            )
            return 0
        return value

    def env(self, value: Any, path: Path) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(
                path, "env must be a mapping of names to values", "write `env: {KEY: value}`"
            )
            return {}
        env: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not ENV_NAME.match(key):
                self.problem((*path, str(key)), f"{key!r} is not an environment variable name")
            elif isinstance(item, dict | list) or item is None:
                self.problem((*path, key), f"the value of {key} must be text or a number")
            else:
                env[key] = str(item).lower() if isinstance(item, bool) else str(item)
        return env

    def secrets(self, value: Any, path: Path) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(
                path,
                "secrets must map environment variables to secret references",
                "write `secrets: {PYPI_TOKEN: pypi-token}`",
            )
            return {}
        secrets: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not ENV_NAME.match(key):
                self.problem((*path, str(key)), f"{key!r} is not an environment variable name")
            elif not isinstance(item, str) or not item:
                self.problem((*path, key), f"the secret reference of {key} must be a name")
            else:
                secrets[key] = item
        return secrets

    def reports(self, value: Any, path: Path) -> dict[str, tuple[str, ...]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(
                path, "reports must map report kinds to paths", "write `junit: reports/junit.xml`"
            )
            return {}
        self.unknown_keys(value, path, REPORT_KINDS)
        return {
            kind: self.globs(value[kind], (*path, kind)) for kind in REPORT_KINDS if kind in value
        }

    def globs(self, value: Any, path: Path) -> tuple[str, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            self.problem(path, "expected a path (glob) or a list of them", "write `reports/*.xml`")
            return ()
        return tuple(items)


def parse_duration(value: Any) -> int | None:
    """Seconds of ``90``, ``"90"``, ``30s``, ``10m``, ``1h30m``; None when it is none of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")


def _derived_name(run: str | None, uses: str | None) -> str:
    """A step's name when it has none: its step type, or the first words of its command."""
    if uses is not None:
        return _slug(uses) or "step"
    words = _slug((run or "").splitlines()[0] if run else "").split("-")
    name = ""
    for word in words:
        if len(name) + len(word) + 1 > 40:
            break
        name = f"{name}-{word}" if name else word
    return name or "step"
