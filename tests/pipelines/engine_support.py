"""What the engine's tests share: real git repositories holding a pipeline file, and running
a queued run to its end in the test's thread, as one worker slot would."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from pavedroad.core.actors import Actor
from pavedroad.pipelines import queue
from pavedroad.pipelines.engine import RunControl, execute_run
from pavedroad.pipelines.models import PipelineLogChunk, PipelineRun, PipelineStep
from pavedroad.pipelines.service import start_run
from pavedroad.runtime import Runtime
from tests.conftest import git

ACTOR = Actor(ref="user:default/tester")
WORKER = "test-worker"


def make_repository(tmp_path: Path, files: dict[str, str], name: str = "service") -> str:
    """A bare repository ``name.git`` whose main branch holds ``files``; its file:// URL."""
    bare = tmp_path / "remotes" / f"{name}.git"
    bare.mkdir(parents=True)
    git("init", "--quiet", "--bare", "-b", "main", cwd=bare)
    work = tmp_path / "work" / name
    work.mkdir(parents=True)
    git("init", "--quiet", "-b", "main", cwd=work)
    commit_files(work, files, "first")
    git("remote", "add", "origin", str(bare), cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return bare.as_uri()


def commit_files(work: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", message, cwd=work)
    return git("rev-parse", "HEAD", cwd=work).strip()


def pipeline_file(steps: str, *, stage: str = "build") -> dict[str, str]:
    """A pipeline file of one stage holding ``steps`` (YAML, indented as list items)."""
    return {".pavedroad/pipeline.yaml": f"stages:\n  - name: {stage}\n    steps:\n{steps}"}


def start(runtime: Runtime, repository: str, **options: object) -> str:
    run = start_run(runtime, repository=repository, trigger="manual", actor=ACTOR, **options)  # type: ignore[arg-type]
    return run.id


def claim(runtime: Runtime, run_id: str, worker: str = WORKER) -> None:
    with runtime.db.session() as session:
        assert queue.claim_next(session, worker, runtime.settings, run_id=run_id) == run_id


def run_now(runtime: Runtime, run_id: str, control: RunControl | None = None) -> str:
    """Claim ``run_id`` and carry it out in this thread; its final status."""
    claim(runtime, run_id)
    return execute_run(runtime, run_id, worker=WORKER, control=control)


def run_row(runtime: Runtime, run_id: str) -> PipelineRun:
    with runtime.db.read_session() as session:
        run = session.get(PipelineRun, run_id)
        assert run is not None
        return run


def steps_of(runtime: Runtime, run_id: str) -> dict[str, PipelineStep]:
    with runtime.db.read_session() as session:
        rows = session.scalars(
            select(PipelineStep)
            .where(PipelineStep.run_id == run_id)
            .order_by(PipelineStep.position)
        ).all()
        return {row.step_id: row for row in rows}


def log_of(runtime: Runtime, run_id: str, step_id: str) -> str:
    with runtime.db.read_session() as session:
        chunks = session.scalars(
            select(PipelineLogChunk.text)
            .join(PipelineStep, PipelineStep.id == PipelineLogChunk.step_id)
            .where(PipelineStep.run_id == run_id, PipelineStep.step_id == step_id)
            .order_by(PipelineLogChunk.id)
        ).all()
    return "".join(chunks)


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("the condition did not hold in time")
