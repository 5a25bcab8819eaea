"""The golden path in a real browser: choose the Python service template, fill the form, watch
the run, open the new service in the catalog."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS


def test_a_new_python_service_from_the_gallery_to_the_catalog(page: Page) -> None:
    page.goto("/create")
    page.get_by_role("link", name="Choose Python service").click()
    page.get_by_label("Name").fill("tariff-quotes")
    page.get_by_label("Description").fill("Quotes tariffs for new installations.")
    page.get_by_label("Owner").fill("group:default/team-checkout")
    page.get_by_label("System").fill("system:default/orders")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Repository URL")).to_have_value(re.compile(r"tariff-quotes\.git$"))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/create/tasks/[0-9a-f-]+$"))
    expect(page.locator("#run-status-heading")).to_contain_text("Completed", timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "create-run-completed.png"), full_page=True)
    page.get_by_role("link", name="View in catalog").click()
    expect(
        page.get_by_role("heading", name=re.compile("tariff-quotes|Tariff", re.I), level=1)
    ).to_be_visible()


def test_a_mistake_is_shown_at_its_field_before_anything_runs(page: Page) -> None:
    page.goto("/create/templates/default/python-service")
    page.get_by_label("Name").fill("Not A Valid Name")
    page.get_by_label("Description").click()  # leaving the field checks it
    expect(page.locator("#param-name-error")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#param-owner-error")).to_be_visible()
