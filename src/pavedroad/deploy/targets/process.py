"""The ``process`` target: the platform runs the service as local processes on this machine.

A deploy takes the built checkout (the platform's, kept for a rollback, or a copy it builds
under ``data_dir/deployments/<id>``), starts the new version beside the old one on a free port,
waits for its health check, switches the component's proxy to it (blue/green), lets requests
still on the old version finish, then stops the old version's process group. Until the switch
nothing of the old version is touched: a new version that never gets healthy is stopped and the
old one keeps serving.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pavedroad.deploy.hooks import TargetContext, TargetError, TargetResult
from pavedroad.deploy.targets.local_processes import (
    ProcessConfig,
    Started,
    build,
    healthy,
    is_alive,
    is_recorded_process,
    proxied_backend,
    start_healthy,
    stop_group,
)
from pavedroad.deploy.targets.proxy import (
    HOST,
    ReverseProxy,
    Route,
    ensure_proxy,
    running_proxy,
)

__all__ = ["ProcessConfig", "ProcessTarget", "stop_group"]


class ProcessTarget:
    """Local processes behind a per-environment reverse proxy (the embedded default)."""

    name = "process"

    def deploy(self, context: TargetContext) -> TargetResult:
        config = ProcessConfig.of(context.config)
        workspace = self._ready(context, config)
        return self._bring_up(context, workspace, config, context.previous)

    def rollback(self, context: TargetContext, to: Mapping[str, Any]) -> TargetResult:
        """Start the version ``to`` describes again from its kept workspace (built already),
        or from a fresh checkout in the context when that is gone, then switch back to it."""
        config = self._config_of(to, context.config)
        kept = Path(str(to.get("workspace") or ""))
        if to.get("workspace") and kept.is_dir():
            context.log(f"rolling back to {to.get('version', '?')} from {kept}")
            workspace = kept
        else:
            context.log("the earlier version's workspace is gone: using a new checkout of it")
            workspace = self._ready(context, config)
        return self._bring_up(context, workspace, config, context.previous)

    def status(self, state: Mapping[str, Any]) -> bool:
        """Whether the recorded process runs and answers its health check. After a restart of
        the platform this also puts its proxy back on the recorded port (the process itself
        survives the platform: it has its own session)."""
        pid, port = state.get("pid"), state.get("port")
        if not isinstance(pid, int) or not isinstance(port, int):
            return False
        running = is_alive(pid) and healthy(port, str(state.get("health") or "/healthz"))
        if running:
            self._proxy_back(state)
        return running

    def resume(self, state: Mapping[str, Any]) -> TargetResult | None:
        """The recorded version's result again with its proxy in front (after a restart);
        None when its process is gone."""
        if not self.status(state):
            return None
        proxy = running_proxy(str(state["component_ref"]), str(state["environment"]))
        url = proxy.url if proxy is not None else f"http://{HOST}:{state.get('proxy_port')}"
        return self._result(state, url)

    # -- the parts --------------------------------------------------------------------

    def _proxy_back(self, state: Mapping[str, Any]) -> None:
        component, environment = state.get("component_ref"), state.get("environment")
        route, port = state.get("route"), state.get("proxy_port")
        if not (component and environment and route and isinstance(port, int)):
            return
        if running_proxy(str(component), str(environment)) is not None:
            return
        if not Path(str(route)).exists():  # the file, when there, says what the last switch chose
            Route(Path(str(route))).write(int(state["port"]))
        with contextlib.suppress(OSError):  # held: by a proxy in another platform process
            ensure_proxy(
                str(component), str(environment), route=Path(str(route)), port=port, fixed=True
            )

    def _data_dir(self, context: TargetContext) -> Path:
        if str(context.data_dir) not in ("", "."):
            return context.data_dir
        return Path(context.runtime.settings.data_dir)

    def _ready(self, context: TargetContext, config: ProcessConfig) -> Path:
        """The built checkout to run, kept for a later rollback. One the platform keeps for the
        deployment (under the context's ``data_dir``) is used where it is and comes built, as
        TargetContext says; one from elsewhere is copied under ``data_dir`` and built there."""
        if context.workspace is None or not context.workspace.is_dir():
            raise TargetError("the process target needs a checkout of the commit to deploy")
        data_dir = self._data_dir(context).resolve()
        if context.workspace.resolve().is_relative_to(data_dir):
            return context.workspace
        release = data_dir / "deployments" / context.deployment_id / "workspace"
        shutil.rmtree(release, ignore_errors=True)
        shutil.copytree(context.workspace, release, symlinks=True)
        if config.build:
            build(release, config, context.log)
        return release

    def _config_of(self, state: Mapping[str, Any], config: Mapping[str, Any]) -> ProcessConfig:
        recorded = state.get("config")
        if isinstance(recorded, Mapping) and recorded.get("command"):
            merged = {**config, "process": {**dict(config.get("process") or {}), **recorded}}
            return ProcessConfig.of(merged)
        return ProcessConfig.of(config)

    def _route_file(self, context: TargetContext) -> Path:
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{context.component_ref}@{context.environment}")
        return self._data_dir(context).resolve() / "proxies" / f"{name}.json"

    def _bring_up(
        self,
        context: TargetContext,
        workspace: Path,
        config: ProcessConfig,
        previous: Mapping[str, Any] | None,
    ) -> TargetResult:
        log_path = self._data_dir(context) / "deployments" / context.deployment_id / "service.log"
        started = start_healthy(workspace, config, log_path, context.log)
        route_file = Path(str((previous or {}).get("route") or self._route_file(context)))
        route = Route(route_file)
        old_backend = route.write(started.port)  # the switch, for a proxy in any process
        try:
            proxy_url, local = self._proxy_for(context, config, previous, route_file, started)
        except TargetError:
            if old_backend is not None:
                route.write(old_backend)
            stop_group(started.pid, grace_seconds=2.0)
            raise
        context.log(f"switched {proxy_url} to port {started.port}")
        if old_backend is not None and old_backend != started.port:
            if local is not None:
                local.drain(old_backend, config.stop_grace_seconds)
            else:
                time.sleep(min(1.0, config.stop_grace_seconds))  # its proxy is elsewhere
        old_pid = (previous or {}).get("pid")
        old_workspace = str((previous or {}).get("workspace") or "")
        if (
            isinstance(old_pid, int)
            and old_pid != started.pid
            and is_recorded_process(old_pid, old_workspace)
        ):
            context.log(f"stopping the old version (process group {old_pid})")
            stop_group(old_pid, config.stop_grace_seconds)
        state: dict[str, Any] = {
            "component_ref": context.component_ref,
            "environment": context.environment,
            "version": context.version,
            "pid": started.pid,
            "port": started.port,
            "proxy_port": int(proxy_url.rsplit(":", 1)[1]),
            "route": str(route_file),
            "health": config.health,
            "workspace": str(workspace),
            "log": str(started.log),
            "config": {
                "command": config.command,
                "build": config.build,
                "health": config.health,
                "startup_seconds": config.startup_seconds,
                "env": config.env,
            },
        }
        return self._result(state, proxy_url)

    def _proxy_for(
        self,
        context: TargetContext,
        config: ProcessConfig,
        previous: Mapping[str, Any] | None,
        route_file: Path,
        started: Started,
    ) -> tuple[str, ReverseProxy | None]:
        """The proxy's URL, and the proxy when it runs in this process. The port is the
        environment's setting, else the one recorded; held by a proxy of another platform
        process (it answers with the new backend's header), that one serves."""
        local = running_proxy(context.component_ref, context.environment)
        if local is not None:
            return local.url, local
        port = config.proxy_port or int((previous or {}).get("proxy_port") or 0)
        try:
            local = ensure_proxy(
                context.component_ref,
                context.environment,
                route=route_file,
                port=port,
                fixed=bool(port),
            )
            return local.url, local
        except OSError as error:
            if proxied_backend(port, config.health) == started.port:
                return f"http://{HOST}:{port}", None
            if config.proxy_port:
                raise TargetError(
                    f"the proxy cannot listen on {HOST}:{port} (set in the environment's "
                    f"settings): {error}; the old version keeps running"
                ) from None
        context.log(f"port {port} is taken by another program: the proxy moves to a free port")
        local = ensure_proxy(context.component_ref, context.environment, route=route_file, port=0)
        return local.url, local

    def _result(self, state: Mapping[str, Any], url: str) -> TargetResult:
        return TargetResult(
            state=dict(state),
            url=url,
            metrics_url=f"http://{HOST}:{state['port']}/metrics",
        )
