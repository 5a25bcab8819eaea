"""Our matching agrees with pip-audit on old pins, over the real PyPA advisory database.

Three answers are compared for each pin:

- pavedroad's own matching (``vulnerabilities_of``), which evaluates the OSV ranges;
- ``pip-audit --osv-url`` against pavedroad's OSV-compatible endpoint, served by a real server;
- ``pip-audit --osv-url`` against a small independent OSV server written here, which answers
  from each record's explicit ``versions`` list (the releases OSV's own tooling enumerated),
  never from the ranges.

The third one is the referee: if our range evaluation were wrong, it would disagree.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from packaging.version import InvalidVersion, Version
from sqlalchemy.orm import Session

from pavedroad.app import create_app
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime
from pavedroad.security.advisories import PackageVersion, import_advisories, vulnerabilities_of
from pavedroad.security.advisories.versions import normalise_package_name
from tests.conftest import SHARED
from tests.e2e.conftest import free_port

PYPA = SHARED / "advisories" / "pypa" / "vulns"
PIP_AUDIT = str(Path(sys.executable).with_name("pip-audit"))
OLD_PINS = {
    "django": "2.2",
    "requests": "2.19.0",
    "flask": "0.12",
    "jinja2": "2.10",
    "pyyaml": "5.1",
    "urllib3": "1.24.1",
    "pillow": "6.0.0",
    "werkzeug": "0.15.0",
    "cryptography": "2.3",
    "sqlalchemy": "1.2.0",
    "lxml": "4.2.0",
    "paramiko": "2.4.0",
}


def _same_version(listed: str, pin: str) -> bool:
    try:
        return Version(listed) == Version(pin)
    except InvalidVersion:
        return listed == pin


class VersionsListOsv(BaseHTTPRequestHandler):
    """OSV's /v1/query, answered from the records' enumerated ``versions`` only."""

    records: dict[str, list[dict[str, Any]]] = {}

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["content-length"])))
        name = normalise_package_name("PyPI", query["package"]["name"])
        found = [
            record
            for record in self.records.get(name, [])
            if any(
                normalise_package_name("PyPI", a["package"]["name"]) == name
                and any(_same_version(v, query["version"]) for v in a.get("versions") or [])
                for a in record["affected"]
            )
        ]
        body = json.dumps({"vulns": found} if found else {}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def referee_url() -> Iterator[str]:
    records: dict[str, list[dict[str, Any]]] = {}
    for name in OLD_PINS:
        for file in sorted((PYPA / name).glob("*.yaml")):
            record = yaml.load(file.read_text(), Loader=yaml.CBaseLoader)
            if not record.get("withdrawn"):
                records.setdefault(name, []).append(record)
    VersionsListOsv.records = records
    server = ThreadingHTTPServer(("127.0.0.1", 0), VersionsListOsv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()


@pytest.fixture
def pavedroad_url(runtime: Runtime, session: Session) -> Iterator[str]:
    import_advisories(session, PYPA, actor=Actor("user:default/tester"))
    session.commit()
    port = free_port()
    app = create_app(runtime, run_jobs=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/api/security/osv/v1/query"
    server.should_exit = True
    thread.join(10)


def pip_audit(osv_url: str, folder: Path) -> dict[str, list[dict[str, Any]]]:
    requirements = folder / "requirements.txt"
    requirements.write_text("".join(f"{name}=={pin}\n" for name, pin in OLD_PINS.items()))
    finished = subprocess.run(
        [
            PIP_AUDIT,
            "--osv-url",
            osv_url,
            "--vulnerability-service",
            "osv",
            "--disable-pip",
            "--no-deps",
            "--requirement",
            str(requirements),
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--cache-dir",
            str(folder / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode in (0, 1) and finished.stdout, finished.stderr[-3000:]
    report = json.loads(finished.stdout)
    return {dependency["name"]: dependency["vulns"] for dependency in report["dependencies"]}


def ids(vulns: list[dict[str, Any]]) -> set[str]:
    return {identifier for v in vulns for identifier in (v["id"], *v["aliases"])}


def test_pip_audit_agrees_with_our_matching_on_old_pins(
    pavedroad_url: str, referee_url: str, session: Session, tmp_path: Path
) -> None:
    (tmp_path / "ours").mkdir()
    (tmp_path / "referee").mkdir()
    through_pavedroad = pip_audit(pavedroad_url, tmp_path / "ours")
    through_referee = pip_audit(referee_url, tmp_path / "referee")
    packages = [PackageVersion("PyPI", name, pin) for name, pin in OLD_PINS.items()]
    ours = vulnerabilities_of(session, packages)

    assert sum(len(vulns) for vulns in through_referee.values()) > 50  # the pins are old
    for package in packages:
        mine = {i for v in ours[package] for i in (v.advisory_id, *v.aliases)}
        assert ids(through_referee[package.name]) == mine, package
        assert ids(through_pavedroad[package.name]) == mine, package
        for vulnerability in ours[package]:
            reported = next(
                v
                for v in through_pavedroad[package.name]
                if vulnerability.advisory_id in (v["id"], *v["aliases"])
            )
            if vulnerability.fixed is not None:
                fixes = [Version(f) for f in reported["fix_versions"]]
                assert Version(vulnerability.fixed) in fixes, (package, vulnerability)
