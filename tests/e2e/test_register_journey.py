"""A developer's first registration, end to end in a real browser.

Paste a descriptor with a mistake, see the problem at its line, fix it, register it, find it
with search, star it and find it on the home page.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS

# `owner` is misspelled, so the required field is missing: the problem points at `spec`.
LEDGER_WITH_A_MISTAKE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: tariff-ledger
  title: Tariff Ledger
  description: Books every tariff change with its effective date.
spec:
  type: service
  lifecycle: experimental
  ownr: team-checkout
"""


def test_register_with_an_error_fix_it_find_it_star_it(page: Page) -> None:
    page.goto("/catalog-import")
    editor = page.locator("#descriptor")
    editor.fill(LEDGER_WITH_A_MISTAKE)
    problems = page.locator("#register-check ol.problems")
    expect(problems).to_contain_text("line 7")
    expect(problems).to_contain_text("owner")
    expect(page.locator("#descriptor-gutter span.error")).to_have_text("7")
    page.screenshot(path=_shot("register-error-at-its-line"))

    editor.fill(LEDGER_WITH_A_MISTAKE.replace("ownr:", "owner:"))
    expect(page.locator("#register-check")).to_contain_text("Ready to register 1 entity")
    expect(page.locator("#register-check")).to_contain_text("team-checkout")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_url(re.compile(r"/locations/[^/?]+\?registered=1"))
    expect(
        page.get_by_role("link", name=re.compile("Tariff Ledger|tariff-ledger")).first
    ).to_be_visible()

    page.locator("#global-search").fill("tariff ledger")
    page.locator("#global-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=tariff"))
    first_hit = page.locator("[data-keyboard-list] a").first
    expect(first_hit).to_contain_text("Tariff Ledger")
    first_hit.click()

    expect(page.get_by_role("heading", name="Tariff Ledger", level=1)).to_be_visible()
    page.get_by_role("button", name=re.compile("Star")).click()
    expect(page.get_by_role("button", name="★ Starred")).to_be_visible()
    page.goto("/")
    expect(page.locator("section", has=page.locator("#starred-heading"))).to_contain_text(
        "Tariff Ledger"
    )
    expect(page.locator("section", has=page.locator("#recent-heading"))).to_contain_text(
        "Tariff Ledger"
    )


def test_search_results_are_keyboard_navigable(page: Page) -> None:
    page.goto("/search?q=order")
    page.locator("#global-search").focus()
    page.keyboard.press("ArrowDown")
    first = page.locator("[data-keyboard-list] a").first
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("[data-keyboard-list] a").nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/catalog/default/"))


def _shot(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")
