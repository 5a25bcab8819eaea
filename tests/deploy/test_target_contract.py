"""The contract every deployment target keeps, run over the built-in ones as the runtime
registers them: a DeploymentTarget with a unique name, a TargetError (never another exception)
for settings it cannot use, and a status of False, not an exception, for a state it does not
know."""

from __future__ import annotations

import pytest

from pavedroad.config import Settings
from pavedroad.deploy.hooks import DeploymentTarget, TargetError
from pavedroad.deploy.targets.builtin import BuiltinTargets
from pavedroad.runtime import build_runtime
from tests.deploy.target_support import context

TARGETS = BuiltinTargets().pavedroad_deployment_targets(Settings())


def test_the_runtime_registers_the_builtin_targets(tmp_path):
    runtime = build_runtime(
        Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/p.db"),
        load_entry_points=False,
    )
    try:
        names = [
            target.name
            for group in runtime.plugins.hook.pavedroad_deployment_targets(
                settings=runtime.settings
            )
            for target in group
        ]
    finally:
        runtime.close()
    assert {"process", "gitops", "kubernetes"} <= set(names)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
class TestContract:
    def test_is_a_deployment_target(self, target):
        assert isinstance(target, DeploymentTarget)

    def test_settings_it_cannot_use_are_a_target_error(self, target, tmp_path):
        with pytest.raises(TargetError):
            target.deploy(
                context(tmp_path, deployment_id="d", version="1", workspace=None, config={})
            )

    def test_an_unknown_state_is_not_running(self, target):
        assert target.status({}) is False
