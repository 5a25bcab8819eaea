"""Every portal page passes axe-core's WCAG 2 A and AA rules, in the light and the dark theme.

axe checks what people with screen readers, keyboards and low vision meet: colour contrast,
labels on form controls, names on buttons and links, landmarks, valid ARIA.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import SCREENSHOTS

AXE = (Path(__file__).parent / "assets" / "axe.min.js").read_text()
PAGES = {
    "home": "/",
    "catalog": "/catalog?kind=component",
    "component": "/catalog/default/component/order-service",
    "component-yaml": "/catalog/default/component/order-service?tab=yaml",
    "group": "/catalog/default/group/team-checkout",
    "user": "/catalog/default/user/esi.mensah",
    "not-found": "/catalog/default/component/ghost",
    "relations": "/catalog/default/component/order-service?tab=relations",
    "api": "/catalog/default/api/authz-api?tab=api",
    "another-teams-service": "/catalog/default/component/payment-service",  # disabled actions
    "settings": "/settings",
    "sign-in": "/sign-in",
    "audit-refused": "/audit",  # Esi is no auditor: the refusal page
    "create": "/create",
    "create-form": "/create/templates/default/python-service",
    "create-runs": "/create/tasks",
    "pipelines": "/pipelines",
    "component-cicd": "/catalog/default/component/order-service?tab=cicd",
    "security": "/security",
    "who-is-affected": "/security/affected?advisory=CVE-2021-44228",
    "component-security": "/catalog/default/component/order-service?tab=security",
    "component-deployments": "/catalog/default/component/order-service?tab=deployments",
    "deployments": "/deployments",
}
Scheme = Literal["light", "dark"]


@pytest.fixture(params=["light", "dark"])
def themed_page(
    browser: Browser, portal_url: str, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, Scheme]]:
    scheme: Scheme = request.param
    context = browser.new_context(
        base_url=portal_url, viewport={"width": 1280, "height": 900}, color_scheme=scheme
    )
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened, scheme
    context.close()


def violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE)
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
        })"""
    )
    return list(result["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['failureSummary']}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_meets_wcag_aa(themed_page: tuple[Page, Scheme], name: str) -> None:
    page, scheme = themed_page
    page.goto(PAGES[name])
    page.wait_for_load_state("networkidle")
    found = violations(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"accessibility-{name}-{scheme}.png"))
    assert not found, f"{PAGES[name]} in the {scheme} theme:\n{describe(found)}"


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_content(
    themed_page: tuple[Page, Scheme],
) -> None:
    page, _ = themed_page
    page.goto("/catalog")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused skip link must show a focus ring"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_fits_a_390_pixel_phone_without_sideways_scrolling(
    browser: Browser, portal_url: str, name: str
) -> None:
    context = browser.new_context(base_url=portal_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(PAGES[name])
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= 390, f"{PAGES[name]} is {width} px wide on a 390 px phone"
