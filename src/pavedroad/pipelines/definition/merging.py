"""``extends: golden``: the repository's file laid over the organisation's golden pipeline.

A repository stage named like a golden one replaces that stage's steps; in a mandatory stage its
steps are added to the golden ones instead, and a step of the same name changes that golden
step's settings without removing it. ``skip: true`` drops a golden stage that is not mandatory.
Stages the golden pipeline lacks go after the stage they follow in the repository's file.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from difflib import get_close_matches

from pavedroad.pipelines.definition.specs import FileSpec, StageSpec, StepSpec

_FIELDS = {
    "run": "run",
    "uses": "uses",
    "with": "with_",
    "needs": "needs",
    "if": "condition",
    "timeout": "timeout_seconds",
    "retries": "retries",
    "env": "env",
    "secrets": "secrets",
    "reports": "reports",
    "artifacts": "artifacts",
}


@dataclass(slots=True)
class _Slot:
    stage: StageSpec
    dropped: bool = False


def merge(golden: FileSpec, repository: FileSpec) -> list[StageSpec]:
    """The stages of the two files merged, in order; problems go to the repository's file."""
    slots = [_Slot(stage) for stage in golden.stages]
    by_name = {slot.stage.name: slot for slot in slots}
    golden_names = [stage.name for stage in golden.stages]
    anchor: _Slot | None = None
    for stage in repository.stages:
        slot = by_name.get(stage.name)
        if slot is None:
            if stage.skip:
                close = get_close_matches(stage.name, golden_names, n=1)
                repository.source.problem(
                    (*stage.path, "skip"),
                    f"the golden pipeline has no stage {stage.name!r} to skip",
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"its stages: {', '.join(golden_names)}",
                )
                continue
            new = _Slot(stage)
            slots.insert(slots.index(anchor) + 1 if anchor is not None else 0, new)
            by_name[stage.name] = new
            anchor = new
            continue
        anchor = slot
        if stage.skip:
            if slot.stage.mandatory:
                repository.source.problem(
                    (*stage.path, "skip"),
                    f"stage {stage.name!r} is mandatory (golden pipeline) and cannot be skipped",
                    "remove `skip: true`; you may add steps to the stage instead",
                )
            else:
                slot.dropped = True
            continue
        slot.stage = _merged_stage(slot.stage, stage, repository)
    return [slot.stage for slot in slots if not slot.dropped]


def _merged_stage(golden: StageSpec, stage: StageSpec, repository: FileSpec) -> StageSpec:
    merged = copy(golden)
    if "parallel" in stage.given:
        merged.parallel = stage.parallel
    if "if" in stage.given:
        if golden.mandatory:
            repository.source.problem(
                (*stage.path, "if"),
                f"stage {stage.name!r} is mandatory: its condition is the golden pipeline's",
                "remove `if:` here; put conditions on the steps you add",
            )
        else:
            merged.condition = stage.condition
    if "steps" not in stage.given:
        return merged
    if not golden.mandatory:
        merged.steps = list(stage.steps)
        return merged
    steps = list(golden.steps)
    index = {step.name: position for position, step in enumerate(steps)}
    for step in stage.steps:
        if step.name not in index:
            steps.append(step)
            continue
        if "if" in step.given:
            repository.source.problem(
                (*step.path, "if"),
                f"step {step.name!r} of the mandatory stage {stage.name!r} always runs",
                "remove `if:`; add a step of another name if it is conditional",
            )
        steps[index[step.name]] = _overridden(steps[index[step.name]], step)
    merged.steps = steps
    return merged


def _overridden(golden: StepSpec, step: StepSpec) -> StepSpec:
    """The golden step with the settings the repository's step of the same name writes."""
    merged = copy(golden)
    merged.source, merged.path, merged.line = step.source, step.path, step.line
    merged.given = golden.given | step.given
    same_type = step.uses in (None, golden.uses) and "run" not in step.given
    if "run" in step.given:
        merged.uses, merged.with_ = None, {}
    if "uses" in step.given:
        merged.run = None
    for key, attribute in _FIELDS.items():
        if key in step.given and key != "if":
            setattr(merged, attribute, getattr(step, attribute))
    if same_type and "with" in step.given:  # settings add to the golden step's, key by key
        merged.with_ = {**golden.with_, **step.with_}
    if "env" in step.given:
        merged.env = {**golden.env, **step.env}
    return merged
