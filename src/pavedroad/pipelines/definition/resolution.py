"""From merged stages to a runnable :class:`Pipeline`: every step's needs made explicit, its
conditions combined, its step type and ``with`` settings checked, and the graph free of cycles.

Stage order becomes needs: every step of a stage needs every step of the last earlier stage
that has steps; in a stage that is not ``parallel`` each step also needs the one before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from difflib import get_close_matches
from itertools import pairwise

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from pavedroad.pipelines.definition.specs import StageSpec, StepSpec
from pavedroad.pipelines.hooks import StepType
from pavedroad.pipelines.schemas import Pipeline, Reports, Stage, Step


def resolve(
    stages: list[StageSpec],
    *,
    env: dict[str, str],
    extends: str | None,
    source: str,
    step_types: Mapping[str, StepType],
    default_timeout: int,
) -> Pipeline | None:
    """The pipeline, or None when a problem was recorded (in the specs' files)."""
    ok = True
    stages = [stage for stage in stages if stage.steps or _no_steps(stage)]
    ids = {f"{stage.name}.{step.name}": step for stage in stages for step in stage.steps}
    for stage in stages:
        for step in stage.steps:
            ok = _check_step_type(step, step_types) and ok
    built: list[Stage] = []
    previous: list[str] = []
    needs_of: dict[str, list[str]] = {}
    for stage in stages:
        ids_here: list[str] = []
        for step in stage.steps:
            step_id = f"{stage.name}.{step.name}"
            needs = list(previous)
            if not stage.parallel and ids_here:
                needs.append(ids_here[-1])
            for need, path in step.needs:
                target = need if "." in need else f"{stage.name}.{need}"
                if target not in ids:
                    close = get_close_matches(target, ids, n=1)
                    step.source.problem(
                        path,
                        f"step {step_id!r} needs {need!r}, which is not a step of this pipeline",
                        f"did you mean {close[0]!r}?"
                        if close
                        else "name a step of this stage, or another stage's as stage.step",
                    )
                    ok = False
                elif target not in needs:
                    needs.append(target)
            needs_of[step_id] = needs
            ids_here.append(step_id)
        if ids_here:
            previous = ids_here
    if not ok:
        return None
    if not _acyclic(needs_of, ids):
        return None
    for stage in stages:
        steps = tuple(
            _step(stage, step, needs_of[f"{stage.name}.{step.name}"], default_timeout)
            for step in stage.steps
        )
        built.append(Stage(stage.name, steps, stage.mandatory, stage.parallel))
    return Pipeline(tuple(built), env=env, extends=extends, source=source)


def _no_steps(stage: StageSpec) -> bool:
    stage.source.problem(
        stage.path,
        f"stage {stage.name!r} has no steps",
        "add `steps:`; only a stage of the golden pipeline can be named without them",
    )
    return False


def _check_step_type(step: StepSpec, step_types: Mapping[str, StepType]) -> bool:
    if step.uses is None:
        return True
    step_type = step_types.get(step.uses)
    if step_type is None:
        names = sorted(step_types)
        close = get_close_matches(step.uses, names, n=1)
        available = ", ".join(names) if names else "none (no step-type plugin is installed)"
        step.source.problem(
            (*step.path, "uses"),
            f"unknown step type {step.uses!r}",
            (f"did you mean {close[0]!r}? " if close else "")
            + f"the step types: {available}; or write `run:` with a command",
        )
        return False
    schema = dict(step_type.with_schema)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as broken:
        step.source.problem(
            (*step.path, "uses"),
            f"step type {step.uses!r} declares an invalid with_schema: {broken.message}",
            "this is a bug of the plugin that provides the step type",
        )
        return False
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(step.with_), key=lambda e: list(e.absolute_path))
    for error in errors:
        where = tuple(error.absolute_path)
        field = ".".join(str(part) for part in where)
        step.source.problem(
            (*step.path, "with", *where),
            f"with{'.' + field if field else ''}: {error.message}",
            f"see what `{step.uses}` takes: {step_type.description}".rstrip(": "),
        )
    return not errors


def _acyclic(needs_of: dict[str, list[str]], ids: Mapping[str, StepSpec]) -> bool:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for need in needs_of.get(node, ()):
            if state.get(need) == 1:
                return [*trail[trail.index(need) :], need]
            if need not in state and (cycle := visit(need)) is not None:
                return cycle
        trail.pop()
        state[node] = 2
        return None

    for node in needs_of:
        if node in state:
            continue
        cycle = visit(node)
        if cycle is not None:
            # Report it at the step whose explicit need closes the loop.
            culprit, path = ids[cycle[0]], ids[cycle[0]].path
            for here, wanted in pairwise(cycle):
                explicit = [
                    p for n, p in ids[here].needs if wanted in (n, f"{here.split('.')[0]}.{n}")
                ]
                if explicit:
                    culprit, path = ids[here], explicit[0]
                    break
            culprit.source.problem(
                path,
                "the steps' needs form a cycle: " + " → ".join(cycle),
                "(a → b: a needs b) a step cannot need one that, through stage order or needs, "
                "needs it; remove one of these needs",
            )
            return False
    return True


def _step(stage: StageSpec, step: StepSpec, needs: list[str], default_timeout: int) -> Step:
    condition = _combined(stage.condition, step.condition)
    reports = Reports(**{kind: tuple(paths) for kind, paths in step.reports.items()})
    return Step(
        id=f"{stage.name}.{step.name}",
        stage=stage.name,
        name=step.name,
        run=step.run,
        uses=step.uses,
        with_=dict(step.with_),
        needs=tuple(needs),
        condition=condition,
        timeout_seconds=step.timeout_seconds or default_timeout,
        retries=step.retries,
        env=dict(step.env),
        secrets=dict(step.secrets),
        reports=reports,
        artifacts=step.artifacts,
        line=step.line,
    )


def _combined(stage: str | None, step: str | None) -> str | None:
    if stage and step:
        return f"({stage}) and ({step})"
    return stage or step
