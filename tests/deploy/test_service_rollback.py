"""A deploy whose health breaches is rolled back automatically to the last good version on the
same target, with the evidence; the owners are told (a real HTTP receiver) and it is audited.
The health is that of a real HTTP service on 127.0.0.1, watched by the real analysis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from pavedroad.audit.models import AuditEvent
from pavedroad.config import Settings
from pavedroad.deploy import service
from pavedroad.deploy.models import Deployment
from pavedroad.runtime import Runtime
from tests.conftest import git
from tests.deploy.service_support import (
    DEVELOPER,
    deploy_settings,
    environment,
    finished,
    memory_runtime,
)
from tests.pipelines.engine_support import commit_files, make_repository
from tests.pipelines.trigger_support import register_component

FAST_ANALYSIS = """process:
  command: ./run
  health: /healthz
analysis:
  interval_seconds: 0.2
  window_seconds: 2
  warmup_seconds: 0
  health_failing_seconds: 0.3
"""


class Service(BaseHTTPRequestHandler):
    """Answers /healthz 200, or 500 while the server's ``broken`` is set; /hook records."""

    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        broken = getattr(self.server, "broken", False)
        self.send_response(500 if broken and self.path == "/healthz" else 200)
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        self.server.received.append(json.loads(self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_service() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Service)
    server.broken = False  # type: ignore[attr-defined]
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def component(runtime: Runtime, tmp_path: Path, analysis: str = FAST_ANALYSIS) -> str:
    repository = make_repository(tmp_path, {".pavedroad/deploy.yaml": analysis}, name="shop")
    work = tmp_path / "work" / "shop"
    git("tag", "1.0.0", cwd=work)
    commit_files(work, {"VERSION": "bad"}, "bad")
    git("tag", "1.1.0", cwd=work)
    git("push", "--quiet", "--tags", "origin", "main", cwd=work)
    return register_component(runtime, tmp_path / "catalog", "shop", repository)


def test_a_breach_rolls_back_to_the_last_good_version_with_evidence_and_a_notice(
    runtime: Runtime, settings: Settings, tmp_path: Path, http_service: ThreadingHTTPServer
) -> None:
    host, port = http_service.server_address[:2]
    receiver = f"http://{host}:{port}/hook"
    built, target = memory_runtime(runtime, deploy_settings(settings, notify_urls=[receiver]))
    target.url = f"http://{host}:{port}"
    ref = component(built, tmp_path)
    good = finished(built, service.deploy(
        built, component_ref=ref, environment="dev", version="1.0.0", actor=DEVELOPER
    ).id)  # fmt: skip
    assert good.status == "succeeded", good.evidence
    http_service.broken = True  # type: ignore[attr-defined]
    bad = finished(built, service.deploy(
        built, component_ref=ref, environment="dev", version="1.1.0", actor=DEVELOPER
    ).id)  # fmt: skip
    assert bad.status == "rolled_back", bad.evidence.get("analysis")
    analysis = bad.evidence["analysis"]
    assert analysis["verdict"] == "breached" and analysis["rollback"]["to"] == good.id
    assert "rolled back to 1.0.0" in (bad.error or "")
    assert target.calls[-1] == ("rollback", "1.0.0")
    state = environment(built, ref)
    with built.db.read_session() as session:
        back = session.get(Deployment, state.current_id)
        rolled = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "deployment.rolled_back")
        ).all()
    assert back is not None and back.kind == "rollback" and back.rollback_of == bad.id
    assert back.version == "1.0.0" and back.status == "succeeded"
    assert state.busy_with is None and state.last_good_id == back.id
    assert [r.details["deployment"] for r in rolled] == [bad.id]
    for _ in range(50):
        if http_service.received:  # type: ignore[attr-defined]
            break
        threading.Event().wait(0.1)
    notice = http_service.received[0]  # type: ignore[attr-defined]
    assert "was rolled back" in notice["text"] and "blocks" in notice


def test_in_shadow_mode_a_breach_is_reported_and_the_version_kept(
    runtime: Runtime, settings: Settings, tmp_path: Path, http_service: ThreadingHTTPServer
) -> None:
    host, port = http_service.server_address[:2]
    built, target = memory_runtime(runtime, deploy_settings(settings))
    target.url = f"http://{host}:{port}"
    ref = component(built, tmp_path, FAST_ANALYSIS + "  mode: shadow\n")
    finished(built, service.deploy(
        built, component_ref=ref, environment="dev", version="1.0.0", actor=DEVELOPER
    ).id)  # fmt: skip
    http_service.broken = True  # type: ignore[attr-defined]
    kept = finished(built, service.deploy(
        built, component_ref=ref, environment="dev", version="1.1.0", actor=DEVELOPER
    ).id)  # fmt: skip
    assert kept.status == "succeeded" and kept.mode == "shadow"
    assert kept.evidence["analysis"]["verdict"] == "breached"
    state = environment(built, ref)
    assert state.current_id == kept.id and state.healthy is False
    assert ("rollback", "1.0.0") not in target.calls
