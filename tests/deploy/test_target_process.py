"""The process target with real processes on 127.0.0.1: the tiny service deployed, switched
blue/green behind the proxy, refused when unhealthy, rolled back, and found again after a
restart of the platform."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pavedroad.deploy.hooks import DeploymentTarget, TargetError
from pavedroad.deploy.targets import local_processes
from pavedroad.deploy.targets.process import ProcessTarget
from pavedroad.deploy.targets.proxy import running_proxy, stop_proxy
from tests.deploy.target_support import context, process_config, service_checkout

COMPONENT = "component:default/tiny"


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not running; the target reaps its own children
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[1][0] != "Z"


@pytest.fixture
def target() -> Iterator[ProcessTarget]:
    yield ProcessTarget()
    for environment in ("dev", "staging"):
        stop_proxy(COMPONENT, environment)
    for pid in list(local_processes._children):
        local_processes.stop_group(pid, grace_seconds=1)


class TestDeploy:
    def test_first_deploy_serves_through_the_proxy(self, target, tmp_path):
        lines: list[str] = []
        result = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1.0.0",
                workspace=service_checkout(tmp_path, "1.0.0"),
                config=process_config(),
                lines=lines,
            )
        )
        assert result.url is not None
        assert get(result.url + "/") == (200, "version 1.0.0\n")
        assert result.state["proxy_port"] != result.state["port"]
        assert result.metrics_url == f"http://127.0.0.1:{result.state['port']}/metrics"
        assert "http_requests_total" in get(result.metrics_url)[1]
        kept = tmp_path / "data" / "deployments" / "d1" / "workspace"
        assert result.state["workspace"] == str(kept)
        assert (kept / "VERSION").read_text() == "1.0.0"
        assert target.status(result.state)
        assert any("healthy" in line for line in lines)

    def test_second_deploy_switches_the_proxy_and_stops_the_old_version(self, target, tmp_path):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(),
            )
        )
        v2 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d2",
                version="2",
                workspace=service_checkout(tmp_path, "2"),
                config=process_config(),
                previous=v1.state,
            )
        )
        assert v2.url == v1.url  # the same address, now in front of the new version
        assert get(v2.url + "/") == (200, "version 2\n")
        assert not running(v1.state["pid"])
        assert not target.status(v1.state)
        assert target.status(v2.state)

    def test_a_request_in_flight_finishes_on_the_old_version(self, target, tmp_path):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(),
            )
        )
        answers: list[tuple[int, str]] = []
        slow = threading.Thread(target=lambda: answers.append(get(v1.url + "/wait?seconds=1.5")))
        slow.start()
        time.sleep(0.3)
        v2 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d2",
                version="2",
                workspace=service_checkout(tmp_path, "2"),
                config=process_config(),
                previous=v1.state,
            )
        )
        slow.join(10)
        assert answers == [(200, "version 1\n")]
        assert get(v2.url + "/") == (200, "version 2\n")
        assert not running(v1.state["pid"])

    def test_no_request_fails_while_a_new_version_takes_over(self, target, tmp_path):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(),
            )
        )
        answers: list[tuple[int, str]] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                answers.append(get(v1.url + "/"))

        workers = [threading.Thread(target=load) for _ in range(3)]
        for worker in workers:
            worker.start()
        try:
            target.deploy(
                context(
                    tmp_path / "data",
                    deployment_id="d2",
                    version="2",
                    workspace=service_checkout(tmp_path, "2"),
                    config=process_config(),
                    previous=v1.state,
                )
            )
            time.sleep(0.2)
        finally:
            stop.set()
            for worker in workers:
                worker.join(10)
        assert {status for status, _ in answers} == {200}
        assert {body for _, body in answers} == {"version 1\n", "version 2\n"}

    def test_a_version_that_never_gets_healthy_is_stopped_and_the_old_keeps_serving(
        self, target, tmp_path
    ):
        v2 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d2",
                version="2",
                workspace=service_checkout(tmp_path, "2"),
                config=process_config(),
            )
        )
        with pytest.raises(TargetError) as error:
            target.deploy(
                context(
                    tmp_path / "data",
                    deployment_id="d3",
                    version="3",
                    workspace=service_checkout(tmp_path, "3"),
                    config=process_config(startup_seconds=1.5, env={"HEALTH_FAIL": "1"}),
                    previous=v2.state,
                )
            )
        message = str(error.value)
        assert "did not answer GET /healthz with 2xx within 1.5 s" in message
        assert "the old version keeps running" in message
        assert "version 3 listening on" in message  # the last lines of its log
        assert get(v2.url + "/") == (200, "version 2\n")
        assert target.status(v2.state)
        assert list(local_processes._children) == [v2.state["pid"]]

    def test_a_version_that_crashes_at_start_says_its_exit_code(self, target, tmp_path):
        with pytest.raises(TargetError, match="exited with code 3 before it was healthy") as error:
            target.deploy(
                context(
                    tmp_path / "data",
                    deployment_id="d1",
                    version="1",
                    workspace=service_checkout(tmp_path, "1"),
                    config=process_config(env={"CRASH": "1"}),
                )
            )
        assert "crashing on purpose" in str(error.value)
        assert running_proxy(COMPONENT, "dev") is None

    def test_a_failing_build_starts_nothing_and_shows_its_output(self, target, tmp_path):
        lines: list[str] = []
        with pytest.raises(TargetError, match="failed with exit code 2") as error:
            target.deploy(
                context(
                    tmp_path / "data",
                    deployment_id="d1",
                    version="1",
                    workspace=service_checkout(tmp_path, "1"),
                    config=process_config(build="echo compiling; exit 2"),
                    lines=lines,
                )
            )
        assert "compiling" in str(error.value)
        assert "compiling" in lines
        assert local_processes._children == {}

    def test_the_build_runs_in_the_kept_workspace(self, target, tmp_path):
        result = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(build="echo built > BUILT"),
            )
        )
        assert (Path(result.state["workspace"]) / "BUILT").read_text() == "built\n"

    def test_without_a_command_it_says_what_to_write(self, target, tmp_path):
        with pytest.raises(TargetError, match=r"needs `process.command`"):
            target.deploy(
                context(
                    tmp_path / "data",
                    deployment_id="d1",
                    version="1",
                    workspace=service_checkout(tmp_path, "1"),
                    config={},
                )
            )

    def test_a_checkout_the_platform_keeps_under_its_data_dir_is_used_in_place_as_built(
        self, target, tmp_path
    ):
        kept = service_checkout(tmp_path / "data" / "workspaces", "1")
        result = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=kept,
                config=process_config(build="echo built > BUILT"),
            )
        )
        assert result.state["workspace"] == str(kept)
        assert not (tmp_path / "data" / "deployments" / "d1" / "workspace").exists()
        assert not (kept / "BUILT").exists()  # the platform built it (TargetContext's contract)

    def test_the_proxy_port_from_the_environment_settings_is_used(self, target, tmp_path):
        from pavedroad.deploy.targets.proxy import free_port

        port = free_port()
        result = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config={**process_config(), "proxy_port": port},
            )
        )
        assert result.url == f"http://127.0.0.1:{port}"
        assert get(f"http://127.0.0.1:{port}/") == (200, "version 1\n")


class TestRollback:
    def _two_versions(self, target, tmp_path):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(build="echo built >> BUILDS"),
            )
        )
        v2 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d2",
                version="2",
                workspace=service_checkout(tmp_path, "2"),
                config=process_config(build="echo built >> BUILDS"),
                previous=v1.state,
            )
        )
        return v1, v2

    def test_rollback_brings_back_the_earlier_version_from_its_kept_workspace(
        self, target, tmp_path
    ):
        v1, v2 = self._two_versions(target, tmp_path)
        back = target.rollback(
            context(
                tmp_path / "data",
                deployment_id="r1",
                version="1",
                workspace=None,
                config=process_config(),
                previous=v2.state,
            ),
            to=v1.state,
        )
        assert back.url == v2.url
        assert get(back.url + "/") == (200, "version 1\n")
        assert not running(v2.state["pid"])
        assert back.state["workspace"] == v1.state["workspace"]
        # not built again: rolling back is only a start and a switch
        assert (Path(v1.state["workspace"]) / "BUILDS").read_text() == "built\n"

    def test_rollback_builds_a_fresh_checkout_when_the_kept_workspace_is_gone(
        self, target, tmp_path
    ):
        import shutil

        v1, v2 = self._two_versions(target, tmp_path)
        shutil.rmtree(v1.state["workspace"])
        back = target.rollback(
            context(
                tmp_path / "data",
                deployment_id="r1",
                version="1",
                workspace=service_checkout(tmp_path / "again", "1"),
                config=process_config(build="echo built >> BUILDS"),
                previous=v2.state,
            ),
            to=v1.state,
        )
        assert get(back.url + "/") == (200, "version 1\n")
        assert back.state["workspace"] == str(
            tmp_path / "data" / "deployments" / "r1" / "workspace"
        )

    def test_rollback_to_a_version_that_cannot_start_keeps_the_current_one(self, target, tmp_path):
        v1, v2 = self._two_versions(target, tmp_path)
        (Path(v1.state["workspace"]) / "service.py").write_text("raise SystemExit(4)\n")
        with pytest.raises(TargetError, match="exited with code 4"):
            target.rollback(
                context(
                    tmp_path / "data",
                    deployment_id="r1",
                    version="1",
                    workspace=None,
                    config=process_config(),
                    previous=v2.state,
                ),
                to=v1.state,
            )
        assert get(v2.url + "/") == (200, "version 2\n")


def test_v1_then_v2_then_an_unhealthy_v3_then_a_rollback_to_v1(target, tmp_path):
    data = tmp_path / "data"

    def deploy(version: str, previous=None, **process):
        return target.deploy(
            context(
                data,
                deployment_id=f"d{version}",
                version=version,
                workspace=service_checkout(tmp_path, version),
                config=process_config(**process),
                previous=previous,
            )
        )

    v1 = deploy("1")
    v2 = deploy("2", v1.state)
    assert get(v2.url + "/") == (200, "version 2\n") and not running(v1.state["pid"])
    with pytest.raises(TargetError, match="did not answer GET /healthz"):
        deploy("3", v2.state, startup_seconds=1, env={"HEALTH_FAIL": "1"})
    assert get(v2.url + "/") == (200, "version 2\n")
    back = target.rollback(
        context(
            data,
            deployment_id="r1",
            version="1",
            workspace=None,
            config=process_config(),
            previous=v2.state,
        ),
        to=v1.state,
    )
    assert back.url == v1.url
    assert get(back.url + "/") == (200, "version 1\n")
    assert not running(v2.state["pid"])
    assert list(local_processes._children) == [back.state["pid"]]


class TestRestart:
    def test_the_proxy_comes_back_on_its_port_after_a_platform_restart(self, target, tmp_path):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(),
            )
        )
        stop_proxy(COMPONENT, "dev")  # what a restart of the platform does to it
        assert target.status(v1.state)  # the service itself runs on, in its own session
        resumed = target.resume(v1.state)
        assert resumed is not None
        assert resumed.url == v1.url
        assert get(v1.url + "/") == (200, "version 1\n")

    def test_asking_the_status_after_a_restart_puts_the_proxy_back(self, target, tmp_path):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(),
            )
        )
        stop_proxy(COMPONENT, "dev")
        assert target.status(v1.state)
        assert get(v1.url + "/") == (200, "version 1\n")

    def test_a_proxy_listening_in_another_platform_process_follows_the_switch(
        self, target, tmp_path
    ):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(),
            )
        )
        stop_proxy(COMPONENT, "dev")  # the proxy now lives in another server process:
        other = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time\n"
                "from pathlib import Path\n"
                "from pavedroad.deploy.targets.proxy import ensure_proxy\n"
                "ensure_proxy('c', 'dev', route=Path(sys.argv[1]), port=int(sys.argv[2]))\n"
                "print('ready', flush=True)\n"
                "time.sleep(60)\n",
                v1.state["route"],
                str(v1.state["proxy_port"]),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert other.stdout is not None and other.stdout.readline() == "ready\n"
            v2 = target.deploy(
                context(
                    tmp_path / "data",
                    deployment_id="d2",
                    version="2",
                    workspace=service_checkout(tmp_path, "2"),
                    config=process_config(),
                    previous=v1.state,
                )
            )
            assert running_proxy(COMPONENT, "dev") is None  # none started here
            assert v2.url == v1.url
            assert get(v2.url + "/") == (200, "version 2\n")
            assert not running(v1.state["pid"])
        finally:
            other.kill()
            other.wait()

    def test_resume_of_a_process_that_is_gone_says_so(self, target, tmp_path):
        v1 = target.deploy(
            context(
                tmp_path / "data",
                deployment_id="d1",
                version="1",
                workspace=service_checkout(tmp_path, "1"),
                config=process_config(),
            )
        )
        local_processes.stop_group(v1.state["pid"], grace_seconds=1)
        assert not target.status(v1.state)
        assert target.resume(v1.state) is None


def test_the_process_target_is_a_deployment_target():
    assert isinstance(ProcessTarget(), DeploymentTarget)
    assert ProcessTarget().name == "process"
