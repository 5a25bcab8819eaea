"""The golden pipeline's security stage on a repository made from the Python service template.

    .venv/bin/python benchmarks/bench_security_stage.py --runs 3 --database sqlite postgres

For each database: a fresh database with the demo organisation and the real PyPA advisories
imported; the python-service template run for real (rendered, committed, pushed to a bare
repository, registered as a component). Then, ``--runs`` times, a pipeline run of that
repository's commit whose file is the golden security stage and gate alone — ``sbom``, ``sast``
(bandit and semgrep), ``secrets-scan`` and ``vuln-scan`` side by side, then ``security-gate`` —
carried out by an in-process worker. Figure: seconds from ``start_run`` to the run's end
(checkout, the four scans, storing the SBOM, findings and gate decision). Target: under 30 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from harness import ROOT, WORK, database_url, print_table
from pavedroad import demo
from pavedroad.config import Settings
from pavedroad.core import migrations
from pavedroad.core.actors import Actor
from pavedroad.pipelines.models import PipelineRun, PipelineStep
from pavedroad.pipelines.service import start_run
from pavedroad.pipelines.worker import PipelineWorker
from pavedroad.runtime import Runtime, build_runtime
from pavedroad.scaffolder.engine import apply_defaults, run_template, template_from_directory
from pavedroad.scaffolder.hooks import TemplateUser
from pavedroad.security.advisories import import_advisories

ACTOR = Actor("user:default/esi.mensah")
GOLDEN = ROOT / "src" / "pavedroad" / "scaffolder" / "golden" / "python-service"
PYPA = ROOT.parent / "shared" / "advisories" / "pypa"
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
SECURITY_STAGE = """\
stages:
  - name: security
    parallel: true
    steps:
      - uses: sbom
      - uses: sast
        with: {fail-on: none}
      - uses: secrets-scan
      - uses: vuln-scan
        with: {fail-on: none}
  - name: gate
    steps:
      - uses: security-gate
        if: always()
"""
FORM = {
    "name": "bench-service",
    "description": "A service for the security stage benchmark",
    "owner": "group:default/team-checkout",
    "system": "system:default/orders",
}


def generated_repository(runtime: Runtime, folder: Path) -> Path:
    """The template run for real; then the security stage as the repository's pipeline file."""
    repository = runtime.settings.resolved_repositories_root / "bench-service.git"
    source = template_from_directory(GOLDEN)
    values = apply_defaults(source.entity, {**FORM, "repoUrl": repository.as_uri()})
    done = run_template(
        runtime,
        source,
        values,
        workspace=folder / "workspace",
        user=TemplateUser(ACTOR.ref),
        actor=ACTOR,
    )
    if done.status != "completed":
        raise SystemExit(f"the template run ended {done.status}: {done.error}")
    clone = folder / "clone"
    subprocess.run(["git", "clone", "-q", str(repository), str(clone)], check=True)
    (clone / ".pavedroad" / "pipeline.yaml").write_text(SECURITY_STAGE)
    for command in (["commit", "-qam", "The security stage alone"], ["push", "-q"]):
        subprocess.run([*GIT, *command], cwd=clone, check=True)
    return repository


def measure(kind: str, runs: int) -> list[dict[str, object]]:
    folder = WORK / f"security-stage-{kind}"
    shutil.rmtree(folder, ignore_errors=True)
    url = database_url(kind, "pavedroad_bench_security")
    migrations.upgrade(url)
    runtime = build_runtime(
        Settings(data_dir=folder / "data", database_url=url, log_level="WARNING")
    )
    with runtime.db.session() as session:
        demo.load(session, runtime.catalog)
        import_advisories(session, PYPA, actor=ACTOR)
    repository = generated_repository(runtime, folder)
    worker = PipelineWorker(runtime, 1)
    worker.start()
    rows = []
    try:
        for number in range(runs):
            started = time.perf_counter()
            run_id = start_run(
                runtime,
                repository=repository.as_uri(),
                trigger="manual",
                actor=ACTOR,
                component_ref="component:default/bench-service",
            ).id
            status = wait(runtime, run_id)
            took = time.perf_counter() - started
            rows.append(
                {
                    "database": kind,
                    "run": number + 1,
                    "status": status,
                    "seconds": f"{took:.1f}",
                    **step_seconds(runtime, run_id),
                }
            )
    finally:
        worker.stop()
        runtime.close()
    return rows


def wait(runtime: Runtime, run_id: str) -> str:
    while True:
        with runtime.db.read_session() as session:
            run = session.get(PipelineRun, run_id)
            if run is not None and run.status not in ("queued", "running"):
                return run.status
        time.sleep(0.1)


def step_seconds(runtime: Runtime, run_id: str) -> dict[str, str]:
    with runtime.db.read_session() as session:
        steps = session.query(PipelineStep).filter(PipelineStep.run_id == run_id).all()
        return {
            step.name: (
                f"{(step.finished_at - step.started_at).total_seconds():.1f}"
                if step.started_at and step.finished_at
                else "-"
            )
            for step in steps
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    arguments = parser.parse_args()
    rows = [row for kind in arguments.database for row in measure(kind, arguments.runs)]
    print_table("Security stage on the python-service template's repository", rows)
    seconds = [float(str(row["seconds"])) for row in rows]
    print(f"\nmedian {statistics.median(seconds):.1f} s, worst {max(seconds):.1f} s")


if __name__ == "__main__":
    main()
