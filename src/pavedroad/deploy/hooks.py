"""The deployments' extension point: a target is where a version runs (local processes, a
GitOps repository, a Kubernetes cluster). Built-ins register through the same hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pavedroad.config import Settings
from pavedroad.core.plugins import hookspec


class TargetError(RuntimeError):
    """The target could not deploy, roll back or report: what failed and how to fix it."""


@dataclass(slots=True)
class TargetContext:
    """One deploy or rollback on a target. ``workspace`` is a checkout of ``commit`` (built
    with the component's build command when it has one); ``config`` is the component's deploy
    settings (``.pavedroad/deploy.yaml``, merged over the environment's); ``previous`` is the
    target state of what runs there now (None on the first deploy)."""

    deployment_id: str
    component_ref: str
    environment: str
    version: str
    commit: str | None
    workspace: Path | None
    config: Mapping[str, Any]
    previous: Mapping[str, Any] | None
    log: Callable[[str], None]
    runtime: Any  # pavedroad.runtime.Runtime
    data_dir: Path = field(default_factory=lambda: Path())


@dataclass(frozen=True, slots=True)
class TargetResult:
    """What the target did: its state to keep (pids, ports, a pushed commit sha...), the URL
    the service answers on, and where its metrics are (for analysis without Prometheus)."""

    state: dict[str, Any]
    url: str | None = None
    metrics_url: str | None = None


@runtime_checkable
class DeploymentTarget(Protocol):
    @property
    def name(self) -> str: ...

    def deploy(self, context: TargetContext) -> TargetResult:
        """Bring ``context.version`` up beside what runs, switch to it, stop the old one."""
        ...

    def rollback(self, context: TargetContext, to: Mapping[str, Any]) -> TargetResult:
        """Bring back the deployment whose target state is ``to`` (gitops: a revert commit)."""
        ...

    def status(self, state: Mapping[str, Any]) -> bool:
        """Whether what ``state`` describes is running (after a restart of the platform)."""
        ...


@hookspec
def pavedroad_deployment_targets(settings: Settings) -> Sequence[DeploymentTarget]:  # type: ignore[empty-body]
    """Deployment targets this plugin contributes (an environment's ``target`` names one)."""
