"""``load_pipeline``: a repository's ``.pavedroad/pipeline.yaml``, or none, to a Pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pavedroad.config import Settings
from pavedroad.pipelines.definition.merging import merge
from pavedroad.pipelines.definition.reading import read_file
from pavedroad.pipelines.definition.resolution import resolve
from pavedroad.pipelines.definition.specs import FileSpec, Located
from pavedroad.pipelines.hooks import StepType
from pavedroad.pipelines.schemas import Pipeline, PipelineProblem

SHIPPED_GOLDEN = Path(__file__).resolve().parent.parent / "golden.yaml"
DEFAULT_FILE = ".pavedroad/pipeline.yaml"


def golden_path(settings: Settings) -> Path:
    """The golden pipeline in force: settings.pipelines.golden_file, or the shipped one."""
    return settings.pipelines.golden_file or SHIPPED_GOLDEN


def load_pipeline(
    text: str | None,
    *,
    settings: Settings,
    step_types: Mapping[str, StepType],
    file: str = DEFAULT_FILE,
) -> tuple[Pipeline | None, list[PipelineProblem]]:
    """The pipeline a repository runs, or None and every problem of its file (and the golden's).

    ``text`` None: the repository has no file and runs the golden pipeline as it is.
    """
    golden = _read_golden(settings)
    if text is None:
        if golden.source.problems:
            return None, golden.source.problems
        return _resolved(golden, golden, "golden", None, settings, step_types)
    spec = read_file(text, file)
    if spec.extends != "golden":
        for stage in spec.stages:
            if stage.skip:
                spec.source.problem(
                    (*stage.path, "skip"),
                    "`skip: true` drops a stage of the golden pipeline, and this file does not "
                    "extend it",
                    "add `extends: golden`, or remove the stage",
                )
        return _resolved(spec, spec, file, None, settings, step_types)
    if golden.source.problems:
        return None, [*golden.source.problems, *spec.source.problems]
    merged_stages = merge(golden, spec)
    merged = FileSpec(spec.source, merged_stages, env={**golden.env, **spec.env}, extends="golden")
    return _resolved(merged, spec, file, "golden", settings, step_types)


def _read_golden(settings: Settings) -> FileSpec:
    path = golden_path(settings)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        spec = FileSpec(Located(str(path), None), [])
        spec.source.problems.append(
            PipelineProblem(
                f"the golden pipeline cannot be read: {error}",
                file=str(path),
                hint="fix settings.pipelines.golden_file (PAVEDROAD_PIPELINES__GOLDEN_FILE)",
            )
        )
        return spec
    return read_file(text, str(path), golden=True)


def _resolved(
    spec: FileSpec,
    own: FileSpec,
    source: str,
    extends: str | None,
    settings: Settings,
    step_types: Mapping[str, StepType],
) -> tuple[Pipeline | None, list[PipelineProblem]]:
    pipeline = resolve(
        spec.stages,
        env=spec.env,
        extends=extends,
        source=source,
        step_types=step_types,
        default_timeout=settings.pipelines.default_timeout_seconds,
    )
    files = {id(own.source): own.source}
    for stage in spec.stages:
        files.setdefault(id(stage.source), stage.source)
        for step in stage.steps:
            files.setdefault(id(step.source), step.source)
    problems = [problem for located in files.values() for problem in located.problems]
    problems.sort(key=lambda p: (p.file != own.source.file, p.line or 0, p.column or 0))
    if problems:
        return None, problems
    return pipeline, []
