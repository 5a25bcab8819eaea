"""Signing in, in a real browser, on a portal that is not in demo mode: a local account, single
sign-on at a real OIDC provider, the CLI signed in through the browser, the "why can't I?"
explanations, and the auditor's page."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import (
    DEMO_CATALOG,
    PAVEDROAD,
    SCREENSHOTS,
    free_port,
    portal_environment,
    running_portal,
)
from tests.identity.oidc_provider import OidcTestProvider

PASSWORD = "a long demo passphrase"
ACCOUNTS = {
    "esi": "user:default/esi.mensah",  # team-checkout, a team lead
    "tariq": "user:default/tariq.haddad",  # an auditor
}


@dataclass(frozen=True)
class SecurePortal:
    url: str
    environment: dict[str, str]
    provider: OidcTestProvider


@pytest.fixture(scope="module")
def secure_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecurePortal]:
    data = tmp_path_factory.mktemp("secure-portal")
    port = free_port()
    with OidcTestProvider(
        redirect_uris=[f"http://127.0.0.1:{port}/auth/oidc/callback"]
    ) as provider:
        environment = portal_environment(
            data,
            port,
            PAVEDROAD_AUTH__OIDC__ISSUER=provider.issuer,
            PAVEDROAD_AUTH__OIDC__CLIENT_ID=provider.client_id,
            PAVEDROAD_AUTH__OIDC__CLIENT_SECRET=provider.client_secret,
        )
        setup = [
            [PAVEDROAD, "db", "upgrade"],
            [PAVEDROAD, "catalog", "register", str(DEMO_CATALOG)],
        ]
        for command in setup:
            subprocess.run(command, env=environment, check=True, capture_output=True)
        for username, ref in ACCOUNTS.items():
            subprocess.run(
                [PAVEDROAD, "users", "create", username, "--user", ref, "--password-stdin"],
                input=f"{PASSWORD}\n",
                env=environment,
                check=True,
                capture_output=True,
                text=True,
            )
        with running_portal([PAVEDROAD, "serve"], environment, data) as url:
            yield SecurePortal(url, environment, provider)


@pytest.fixture
def visitor(browser: Browser, secure_portal: SecurePortal) -> Iterator[Page]:
    context = browser.new_context(
        base_url=secure_portal.url, viewport={"width": 1280, "height": 900}
    )
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_a_local_account_signs_in_and_out(visitor: Page) -> None:
    visitor.goto("/catalog?kind=component")
    expect(visitor).to_have_url(re.compile(r"/sign-in\?next="))
    shot(visitor, "sign-in-page")
    sign_in(visitor, "esi", "not the password")
    expect(visitor.locator("#sign-in-error")).to_contain_text("username or password is wrong")
    sign_in(visitor, "esi")
    expect(visitor).to_have_url(re.compile(r"/catalog\?kind=component$"))
    expect(visitor.locator(".user-menu .name")).to_have_text("Esi Mensah")
    visitor.locator(".user-menu summary").click()
    visitor.get_by_role("menuitem", name="Sign out").click()
    expect(visitor.get_by_text("You are signed out.")).to_be_visible()
    visitor.goto("/")
    expect(visitor).to_have_url(re.compile(r"/sign-in"))


def test_single_sign_on_at_the_identity_provider(
    visitor: Page, secure_portal: SecurePortal
) -> None:
    secure_portal.provider.reset()
    visitor.goto("/sign-in")
    visitor.get_by_role("link", name="Sign in with single sign-on").click()
    expect(visitor).to_have_url(re.compile(re.escape(secure_portal.provider.issuer)))
    visitor.locator("input[name=email]").fill("esi.mensah@fernhollow.example.com")
    visitor.get_by_role("button", name="Sign in").click()
    expect(visitor.locator(".user-menu .name")).to_have_text("Esi Mensah")
    visitor.goto("/settings")
    expect(visitor.get_by_text("single sign-on").first).to_be_visible()


def test_why_a_developer_cannot_delete_another_teams_service(visitor: Page) -> None:
    visitor.goto("/sign-in?next=/catalog/default/component/payment-service")
    sign_in(visitor, "esi")
    delete = visitor.locator("#action-delete")
    expect(delete).to_be_disabled()
    visitor.get_by_text("Why can't I delete?").click()
    expect(visitor.locator("#why-delete")).to_contain_text("catalog.entity.delete")
    shot(visitor, "why-cant-i-delete")
    visitor.goto("/catalog/default/component/order-service")  # Esi's team owns this one
    expect(visitor.locator("#action-delete")).to_be_enabled()


def test_the_cli_signs_in_through_the_browser(visitor: Page, secure_portal: SecurePortal) -> None:
    login = subprocess.Popen(
        [PAVEDROAD, "login", "--no-browser", "--timeout", "60"],
        env=secure_portal.environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert login.stdout is not None
    url = login.stdout.readline().strip()
    assert url.startswith(f"{secure_portal.url}/cli/authorize?")
    visitor.goto(url)
    sign_in(visitor, "esi")
    visitor.get_by_role("button", name="Allow").click()
    expect(visitor.get_by_text("The CLI is signed in.")).to_be_visible()
    out, err = login.communicate(timeout=30)
    assert login.returncode == 0, err
    assert "Signed in as Esi Mensah" in out
    whoami = subprocess.run(
        [PAVEDROAD, "whoami"], env=secure_portal.environment, capture_output=True, text=True
    )
    assert whoami.stdout.startswith("user:default/esi.mensah")


def test_the_auditor_finds_failed_sign_ins_in_one_click(visitor: Page) -> None:
    visitor.goto("/sign-in")
    sign_in(visitor, "esi", "a wrong password for the auditor")
    visitor.goto("/sign-in?next=/audit")
    sign_in(visitor, "tariq")
    expect(visitor.get_by_role("heading", name=re.compile("Audit"))).to_be_visible()
    visitor.get_by_role("link", name=re.compile("[Ff]ailed sign-ins")).click()
    expect(visitor.locator("table")).to_contain_text("auth.failed")
    shot(visitor, "audit-failed-sign-ins")
