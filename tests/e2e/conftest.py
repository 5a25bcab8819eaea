"""Browser tests: Debian's Chromium driven by Playwright against a real portal on 127.0.0.1.

The portal is started as people start it (``pavedroad demo``: migrations, demo organisation,
server) in a scratch data folder, acting as Esi Mensah of the demo's checkout team. Every test
saves a screenshot of the page it checks under ``test-artifacts/screenshots``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("PAVEDROAD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWER = "user:default/esi.mensah"


PAVEDROAD = str(Path(sys.executable).with_name("pavedroad"))
DEMO_CATALOG = (
    Path(__file__).resolve().parents[2] / "src" / "pavedroad" / "demo" / "catalog-info.yaml"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def portal_environment(data: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PAVEDROAD_DATA_DIR": str(data),
        "PAVEDROAD_DATABASE_URL": "",
        "PAVEDROAD_PORT": str(port),
        "PAVEDROAD_WORKERS": "1",
        "PAVEDROAD_CATALOG__REFRESH_INTERVAL_SECONDS": "0",
        "PAVEDROAD_CREDENTIALS_FILE": str(data / "credentials.json"),
        **extra,
    }


@contextmanager
def running_portal(command: list[str], environment: dict[str, str], data: Path) -> Iterator[str]:
    """Start the portal as people do, wait until it is ready, stop it by its PID after."""
    log = open(data / "server.log", "wb")  # noqa: SIM115 - open for the server's lifetime
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{environment['PAVEDROAD_PORT']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the portal exited: {(data / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        raise RuntimeError("the portal did not become ready within 60 s")
    try:
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The README's demo: ``pavedroad demo``, everyone signed in as the demo user."""
    data = tmp_path_factory.mktemp("portal")
    port = free_port()
    environment = portal_environment(data, port, PAVEDROAD_AUTH__DEMO_USER_REF=VIEWER)
    command = [PAVEDROAD, "demo", "--port", str(port)]
    with running_portal(command, environment, data) as url:
        yield url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: the browser tests need Debian's chromium "
            "(`apt-get install chromium`; `make test` installs it when missing)"
        )
    launched = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
    )
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, portal_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=portal_url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("[", "-").replace("]", "")
    opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    context.close()
