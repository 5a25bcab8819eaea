"""Newly imported advisories alert the owners of components already scanned, once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime, build_runtime
from pavedroad.security.advisories import import_advisories
from pavedroad.security.alerts import notify_alerts, record_alerts
from pavedroad.security.sbom import build_bom, store_sbom
from pavedroad.security.sbom.packages import locked
from tests.conftest import SHARED
from tests.helpers import component, write_entities

ACTOR = Actor("user:default/tester")
DJANGO = SHARED / "advisories" / "pypa" / "vulns" / "django"


@pytest.fixture
def scanned(session: Session, runtime: Runtime, tmp_path: Path) -> Session:
    write_entities(
        tmp_path / "catalog.yaml",
        component("shop", owner="user:default/tester"),
        component("blog", owner="team-b"),
    )
    service.register_locations(
        session, runtime.catalog, [("file", str(tmp_path / "catalog.yaml"))], actor=ACTOR
    )
    for ref, version in (("component:default/shop", "2.2"), ("component:default/blog", "4.2.16")):
        packages = [locked("PyPI", "Django", version, "requirements.txt")]
        document = build_bom(packages, component_ref=ref, version="1", commit="d" * 40)
        store_sbom(
            session,
            component_ref=ref,
            commit="d" * 40,
            version="1",
            document=document,
            packages=packages,
            actor=ACTOR,
        )
    session.commit()
    return session


def test_an_import_alerts_the_components_its_advisories_affect_and_only_once(
    scanned: Session,
) -> None:
    report = import_advisories(scanned, DJANGO, actor=ACTOR)
    alerts = record_alerts(scanned, report.changed)
    scanned.commit()
    again = import_advisories(scanned, DJANGO, actor=ACTOR)

    assert {alert.component_ref for alert in alerts} == {"component:default/shop"}
    assert any(a.advisory_id == "PYSEC-2019-13" and a.fixed == "2.2.4" for a in alerts)
    assert again.changed == []
    assert record_alerts(scanned, [a.advisory_id for a in alerts]) == []


class Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        self.received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_alerts_are_posted_to_the_webhooks_as_slack_json_once(
    scanned: Session, runtime: Runtime, receiver: str
) -> None:
    security = runtime.settings.security.model_copy(update={"notify_urls": [receiver]})
    notifying = build_runtime(
        runtime.settings.model_copy(update={"security": security}), db=runtime.db
    )
    alerts = record_alerts(scanned, import_advisories(scanned, DJANGO, actor=ACTOR).changed)
    scanned.commit()

    sent = notify_alerts(notifying, [alert.id for alert in alerts])
    resent = notify_alerts(notifying, [alert.id for alert in alerts])

    assert sent == len(alerts) and resent == 0
    (message,) = Receiver.received
    assert message["text"] == "New advisories affect 1 component(s)"
    assert "component:default/shop (user:default/tester)" in message["blocks"][1]["text"]["text"]
    assert {a["advisory"] for a in message["alerts"]} >= {"PYSEC-2019-13"}


def test_the_owner_sees_the_alert_on_the_home_page(scanned: Session, client: TestClient) -> None:
    record_alerts(scanned, import_advisories(scanned, DJANGO, actor=ACTOR).changed)
    scanned.commit()

    home = client.get("/", headers={"accept": "text/html"})

    assert "New advisories affecting you" in home.text
    assert "component:default/shop" in home.text or "shop" in home.text
    assert "django 2.2: upgrade to" in home.text
    assert "blog" not in home.text  # team-b's, and not affected
