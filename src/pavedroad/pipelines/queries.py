"""What the portal's pipeline pages read: runs, their steps, logs and artifacts.

Read-only, and restricted to what the viewer may see: a run belongs to the component its
repository is, so when the policy hides some of the catalog (a :class:`Restriction`), runs of
hidden components are hidden too, and so are runs of repositories that are no component at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity
from pavedroad.catalog.queries import Restriction
from pavedroad.core.errors import NotFoundError
from pavedroad.pipelines.models import PipelineArtifact, PipelineLogChunk, PipelineRun, PipelineStep
from pavedroad.pipelines.repositories import SOURCE_LOCATION

FINISHED = ("succeeded", "failed", "cancelled", "rejected")
LIVE = ("queued", "running")
_BRANCH_IN_LOCATION = re.compile(r"/(?:-/)?(?:tree|blob|src/branch)/([^/]+)")


@dataclass(frozen=True, slots=True)
class RunFilter:
    """The run list's filters; empty values filter nothing."""

    status: str = ""
    component: str = ""
    branch: str = ""


@dataclass(slots=True)
class RunPage:
    runs: list[PipelineRun]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


@dataclass(slots=True)
class RunDetail:
    """A run with its steps (in order), their artifacts and their log so far."""

    run: PipelineRun
    steps: list[PipelineStep]
    artifacts: dict[int, list[PipelineArtifact]] = field(default_factory=dict)  # by step row id
    logs: dict[int, list[PipelineLogChunk]] = field(default_factory=dict)  # by step row id

    @property
    def last_chunk(self) -> int:
        return max((chunks[-1].id for chunks in self.logs.values() if chunks), default=0)


def visible(restriction: Restriction | None) -> ColumnElement[bool]:
    """The condition on runs that the viewer may see."""
    if restriction is None:
        return true()
    return PipelineRun.component_ref.in_(select(Entity.ref).where(restriction.condition))


def list_runs(
    session: Session,
    wanted: RunFilter = RunFilter(),
    *,
    restriction: Restriction | None = None,
    offset: int = 0,
    limit: int = 50,
) -> RunPage:
    """Runs newest first, with the total that matches (for pagination)."""
    condition = and_(visible(restriction), *_filter_conditions(wanted))
    total = session.scalar(select(func.count()).select_from(PipelineRun).where(condition)) or 0
    runs = session.scalars(
        _newest(select(PipelineRun).where(condition)).offset(offset).limit(limit)
    )
    return RunPage(list(runs), total, offset, limit)


def runs_of_component(
    session: Session,
    component_ref: str,
    *,
    restriction: Restriction | None = None,
    offset: int = 0,
    limit: int = 20,
) -> RunPage:
    return list_runs(
        session,
        RunFilter(component=component_ref),
        restriction=restriction,
        offset=offset,
        limit=limit,
    )


def latest_per_branch(
    session: Session, component_ref: str, *, restriction: Restriction | None = None
) -> list[PipelineRun]:
    """The newest run of each branch of a component, the most recently run branch first."""
    return latest_per_component_branch(session, [component_ref], restriction=restriction)


def latest_per_component_branch(
    session: Session, component_refs: Sequence[str], *, restriction: Restriction | None = None
) -> list[PipelineRun]:
    """The newest run of each branch of each component, newest first, in one query."""
    if not component_refs:
        return []
    ranked = (
        select(
            PipelineRun.id,
            func.row_number()
            .over(
                partition_by=(PipelineRun.component_ref, PipelineRun.branch),
                order_by=(PipelineRun.created_at.desc(), PipelineRun.number.desc()),
            )
            .label("rank"),
        )
        .where(PipelineRun.component_ref.in_(list(component_refs)), visible(restriction))
        .subquery()
    )
    newest = select(ranked.c.id).where(ranked.c.rank == 1)
    return list(session.scalars(_newest(select(PipelineRun).where(PipelineRun.id.in_(newest)))))


def default_branch(entity: dict[str, Any], branches: Sequence[str]) -> str | None:
    """The branch a component's badge and home card speak of: the one its source location
    names (``.../tree/main/``), else ``main``, ``master`` or ``trunk`` when it has runs there,
    else the branch run most recently (``branches`` newest first)."""
    annotations = (entity.get("metadata") or {}).get("annotations") or {}
    location = str(annotations.get(SOURCE_LOCATION) or "")
    named = _BRANCH_IN_LOCATION.search(location)
    if named:
        return named.group(1)
    for usual in ("main", "master", "trunk"):
        if usual in branches:
            return usual
    return branches[0] if branches else None


def default_branch_run(entity: dict[str, Any], latest: Sequence[PipelineRun]) -> PipelineRun | None:
    """Of the newest run per branch (newest first), the one on the component's default branch."""
    branch = default_branch(entity, [run.branch for run in latest])
    return next((run for run in latest if run.branch == branch), None)


def finished_runs(
    session: Session,
    component_ref: str,
    *,
    restriction: Restriction | None = None,
    limit: int = 30,
) -> list[PipelineRun]:
    """The last ``limit`` runs that started and finished, oldest first (for a trend)."""
    statement = _newest(
        select(PipelineRun).where(
            PipelineRun.component_ref == component_ref,
            PipelineRun.status.in_(FINISHED),
            PipelineRun.started_at.is_not(None),
            PipelineRun.finished_at.is_not(None),
            visible(restriction),
        )
    ).limit(limit)
    return list(reversed(session.scalars(statement).all()))


def get_run_detail(
    session: Session, run_id: str, *, restriction: Restriction | None = None, logs: bool = True
) -> RunDetail:
    """A run with its steps, artifacts and (``logs``) its log; NotFoundError when missing or
    hidden."""
    run = session.scalar(select(PipelineRun).where(PipelineRun.id == run_id, visible(restriction)))
    if run is None:
        raise NotFoundError(f"There is no pipeline run {run_id}.")
    steps = list(
        session.scalars(
            select(PipelineStep)
            .where(PipelineStep.run_id == run_id)
            .order_by(PipelineStep.position, PipelineStep.id)
        )
    )
    detail = RunDetail(run, steps, {s.id: [] for s in steps}, {s.id: [] for s in steps})
    for artifact in session.scalars(
        select(PipelineArtifact)
        .join(PipelineStep, PipelineStep.id == PipelineArtifact.step_id)
        .where(PipelineStep.run_id == run_id)
        .order_by(PipelineArtifact.id)
    ):
        detail.artifacts[artifact.step_id].append(artifact)
    for chunk in log_chunks_after(session, run_id, 0) if logs else ():
        detail.logs[chunk.step_id].append(chunk)
    return detail


def log_chunks_after(session: Session, run_id: str, after: int) -> Sequence[PipelineLogChunk]:
    """The run's log chunks with an id above ``after``, in order (what a live page lacks)."""
    return session.scalars(
        select(PipelineLogChunk)
        .join(PipelineStep, PipelineStep.id == PipelineLogChunk.step_id)
        .where(PipelineStep.run_id == run_id, PipelineLogChunk.id > after)
        .order_by(PipelineLogChunk.id)
    ).all()


def step_log_tail(
    session: Session, step_pk: int, *, characters: int = 20_000
) -> tuple[list[PipelineLogChunk], bool]:
    """The end of one step's log, about ``characters`` long, and whether earlier output was
    left out."""
    kept: list[PipelineLogChunk] = []
    size = 0
    statement = (
        select(PipelineLogChunk)
        .where(PipelineLogChunk.step_id == step_pk)
        .order_by(PipelineLogChunk.id.desc())
        .limit(200)
    )
    for chunk in session.scalars(statement):
        if kept and size + len(chunk.text) > characters:
            return list(reversed(kept)), True
        kept.append(chunk)
        size += len(chunk.text)
    return list(reversed(kept)), len(kept) == 200


def failing_steps(session: Session, run_ids: Sequence[str]) -> dict[str, PipelineStep]:
    """The first failed step of each run (by position)."""
    found: dict[str, PipelineStep] = {}
    if not run_ids:
        return found
    statement = (
        select(PipelineStep)
        .where(PipelineStep.run_id.in_(list(run_ids)), PipelineStep.status == "failed")
        .order_by(PipelineStep.run_id, PipelineStep.position)
    )
    for step in session.scalars(statement):
        found.setdefault(step.run_id, step)
    return found


def _filter_conditions(wanted: RunFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if wanted.status:
        conditions.append(PipelineRun.status == wanted.status)
    if wanted.component:
        conditions.append(PipelineRun.component_ref == wanted.component.lower())
    if wanted.branch:
        conditions.append(PipelineRun.branch == wanted.branch)
    return conditions


def _newest(statement: Select[Any]) -> Select[Any]:
    return statement.order_by(PipelineRun.created_at.desc(), PipelineRun.number.desc())
