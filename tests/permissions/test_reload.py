"""A configured policy file is read again when it changes (checked at most once a second); a
broken file keeps the last good policy at reload and stops the start."""

from __future__ import annotations

import logging
from pathlib import Path

import pluggy
import pytest

from pavedroad.catalog.permission_rules import CatalogPermissionRules
from pavedroad.config import Settings
from pavedroad.core.plugins import make_plugin_manager
from pavedroad.identity.schemas import Identity, Principal
from pavedroad.permissions import PolicyFileError, Result
from pavedroad.permissions.builtin import BuiltinPermissionRules
from pavedroad.permissions.engine import PolicyEngine
from pavedroad.runtime import HOOKSPEC_MODULES, build_runtime
from tests.helpers import write

ALLOW_SECRETS = """
rules:
  - name: everyone-reads-secrets
    permissions: [secret.read]
    decision: allow
default: deny
"""
DENY_SECRETS = """
rules:
  - name: nobody-reads-secrets-any-more
    permissions: [secret.read]
    decision: deny
default: deny
"""
BROKEN = """
rules:
  - name: oops
    permissions: [secret.raed]
    decision: allow
"""
SOMEONE = Principal(
    "user:default/sam",
    "session",
    Identity("user:default/sam", "Sam", None, (), ("user:default/sam",), True),
)


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def plugins() -> pluggy.PluginManager:
    builtins = [BuiltinPermissionRules(), CatalogPermissionRules()]
    return make_plugin_manager(HOOKSPEC_MODULES, builtins, load_entry_points=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def policy_path(tmp_path: Path) -> Path:
    return write(tmp_path / "policy.yaml", ALLOW_SECRETS)


@pytest.fixture
def engine(policy_path: Path, plugins: pluggy.PluginManager, clock: Clock) -> PolicyEngine:
    settings = Settings(permissions={"policy_file": policy_path})
    return PolicyEngine(settings, plugins=plugins, clock=clock)


def secret_rule(engine: PolicyEngine) -> str:
    return engine.decide(SOMEONE, "secret.read").rule


class TestReloadOnChange:
    def test_a_changed_file_is_in_force_after_the_next_check(
        self, engine: PolicyEngine, policy_path: Path, clock: Clock
    ) -> None:
        assert secret_rule(engine) == "everyone-reads-secrets"
        write(policy_path, DENY_SECRETS)
        clock.now += 0.5
        assert secret_rule(engine) == "everyone-reads-secrets"  # not checked again yet
        clock.now += 0.6
        assert engine.decide(SOMEONE, "secret.read").result is Result.DENY
        assert secret_rule(engine) == "nobody-reads-secrets-any-more"

    def test_a_broken_file_keeps_the_last_good_policy_and_reports_why(
        self,
        engine: PolicyEngine,
        policy_path: Path,
        clock: Clock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        write(policy_path, BROKEN)
        clock.now += 1
        with caplog.at_level(logging.ERROR, logger="pavedroad.permissions.active_policy"):
            assert secret_rule(engine) == "everyone-reads-secrets"
        assert engine.policy.errors == [
            f"{policy_path}:3:19: rule 1 'oops': unknown permission 'secret.raed'; did you mean "
            "'secret.read'? — pavedroad permissions list shows them all"
        ]
        assert "the last good one stays in force" in caplog.text
        write(policy_path, DENY_SECRETS)
        clock.now += 1
        assert secret_rule(engine) == "nobody-reads-secrets-any-more"
        assert engine.policy.errors == []

    def test_a_deleted_file_keeps_the_last_good_policy(
        self, engine: PolicyEngine, policy_path: Path, clock: Clock
    ) -> None:
        policy_path.unlink()
        clock.now += 1
        assert secret_rule(engine) == "everyone-reads-secrets"
        assert engine.policy.errors[0].startswith(f"{policy_path}: cannot read the file")

    def test_the_default_policy_is_never_reread(
        self, plugins: pluggy.PluginManager, clock: Clock
    ) -> None:
        engine = PolicyEngine(Settings(), plugins=plugins, clock=clock)
        assert not engine.policy.watched
        assert engine.policy.path.name == "default_policy.yaml"


class TestStart:
    def test_a_broken_file_stops_the_start_with_its_problems(
        self, tmp_path: Path, plugins: pluggy.PluginManager
    ) -> None:
        path = write(tmp_path / "policy.yaml", BROKEN)
        with pytest.raises(PolicyFileError) as error:
            PolicyEngine(Settings(permissions={"policy_file": path}), plugins=plugins)
        assert error.value.message.startswith(f"the permission policy {path} is invalid:\n")
        assert f"{path}:3:19: rule 1 'oops'" in error.value.message

    def test_the_runtime_does_not_build_on_a_broken_file(
        self, tmp_path: Path, database_url: str
    ) -> None:
        path = write(tmp_path / "policy.yaml", "rules: [\n")
        settings = Settings(database_url=database_url, permissions={"policy_file": path})
        with pytest.raises(PolicyFileError, match="YAML syntax error"):
            build_runtime(settings, load_entry_points=False)
