"""What the deploy service's tests share: a component whose repository is a real bare git
repository with tagged versions, and a tiny in-memory deployment target registered through the
``pavedroad_deployment_targets`` hook as any plugin's would be (it runs nothing: it records what
it was asked and says what "runs")."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.core.plugins import hookimpl
from pavedroad.deploy.hooks import DeploymentTarget, TargetContext, TargetError, TargetResult
from pavedroad.deploy.models import Deployment, EnvironmentState
from pavedroad.deploy.runner import wait_for
from pavedroad.runtime import Runtime, build_runtime
from tests.conftest import git
from tests.pipelines.engine_support import commit_files, make_repository
from tests.pipelines.trigger_support import register_component

DEVELOPER = Actor(ref="user:default/dev")
DEPLOY_FILE = "process:\n  command: ./run\n  health: /healthz\n"


class MemoryTarget:
    """Runs nothing; ``running`` is the set of deployment ids it has "up"."""

    name = "memory"

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.fail_with: str | None = None
        self.hold = threading.Event()  # set: deploys wait for ``release``
        self.release = threading.Event()
        self.url: str | None = None  # where the deployed service "answers" (for analysis)

    def deploy(self, context: TargetContext) -> TargetResult:
        self.calls.append(("deploy", context.version))
        assert context.workspace is not None and (context.workspace / ".git").exists()
        if self.hold.is_set():
            self.release.wait(30)
        if self.fail_with:
            raise TargetError(self.fail_with)
        previous = (context.previous or {}).get("id")
        self.running.add(context.deployment_id)
        self.running.discard(str(previous))
        state = {"id": context.deployment_id, "version": context.version}
        return TargetResult(state, url=self.url)

    def rollback(self, context: TargetContext, to: Mapping[str, Any]) -> TargetResult:
        self.calls.append(("rollback", str(to.get("version"))))
        self.running.discard(str((context.previous or {}).get("id")))
        self.running.add(str(to.get("id")))
        return TargetResult(dict(to), url=self.url)

    def status(self, state: Mapping[str, Any]) -> bool:
        return str(state.get("id")) in self.running


class MemoryTargets:
    def __init__(self, target: MemoryTarget) -> None:
        self.target = target

    @hookimpl
    def pavedroad_deployment_targets(self, settings: Settings) -> Sequence[DeploymentTarget]:
        return [self.target]


def deploy_settings(settings: Settings, **deploy: Any) -> Settings:
    """``settings`` with dev, staging and production on the memory target."""
    environments = [{"name": name, "target": "memory"} for name in ("dev", "staging", "production")]
    values = {**settings.deploy.model_dump(), "environments": environments, **deploy}
    return settings.model_copy(update={"deploy": settings.deploy.model_validate(values)})


def memory_runtime(runtime: Runtime, settings: Settings) -> tuple[Runtime, MemoryTarget]:
    """A runtime on the test's database whose plugins include a fresh memory target."""
    built = build_runtime(settings, db=runtime.db, load_entry_points=False)
    target = MemoryTarget()
    built.plugins.register(MemoryTargets(target))
    return built, target


def tagged_component(
    runtime: Runtime, tmp_path: Path, name: str = "shop", deploy_file: str = DEPLOY_FILE
) -> tuple[str, Path]:
    """A component whose repository has versions 1.0.0 and 1.1.0 (tags); (ref, work tree)."""
    repository = make_repository(
        tmp_path, {".pavedroad/deploy.yaml": deploy_file, "VERSION": "1.0.0"}, name=name
    )
    work = tmp_path / "work" / name
    git("tag", "1.0.0", cwd=work)
    commit_files(work, {"VERSION": "1.1.0"}, "1.1.0")
    git("tag", "1.1.0", cwd=work)
    git("push", "--quiet", "--tags", "origin", "main", cwd=work)
    ref = register_component(runtime, tmp_path / "catalog", name, repository)
    return ref, work


def finished(runtime: Runtime, deployment_id: str) -> Deployment:
    found = wait_for(runtime, deployment_id, timeout=60)
    assert found.status not in ("queued", "deploying", "analysing"), found.status
    return found


def environment(runtime: Runtime, ref: str, name: str = "dev") -> EnvironmentState:
    with runtime.db.read_session() as session:
        state = session.get(EnvironmentState, (ref, name))
        assert state is not None
        return state


def commit_of(work: Path, version: str) -> str:
    return git("rev-parse", f"{version}^{{commit}}", cwd=work).strip()
