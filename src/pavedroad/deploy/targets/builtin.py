"""The built-in targets, registered through the same hook as any plugin's."""

from __future__ import annotations

from collections.abc import Sequence

from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.deploy.hooks import DeploymentTarget
from pavedroad.deploy.targets.gitops import GitOpsTarget
from pavedroad.deploy.targets.kubernetes import KubernetesTarget
from pavedroad.deploy.targets.process import ProcessTarget


class BuiltinTargets:
    @hookimpl
    def pavedroad_deployment_targets(self, settings: Settings) -> Sequence[DeploymentTarget]:
        return [ProcessTarget(), GitOpsTarget(), KubernetesTarget()]
