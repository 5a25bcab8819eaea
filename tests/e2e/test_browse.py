"""Browsing the catalog in a real browser: filter, open an entity, star it, find it on home."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_filtering_the_catalog_updates_the_table_and_the_url(page: Page) -> None:
    page.goto("/catalog")
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    page.locator("#facet-kind").get_by_text("Component", exact=True).click()
    expect(page).to_have_url(re.compile(r"kind=Component"))
    expect(page.locator("#catalog-results")).to_contain_text("58 entities")
    page.locator("#facet-lifecycle").get_by_text("deprecated", exact=True).click()
    expect(page.locator("#catalog-results")).to_contain_text("3 entities")
    page.get_by_placeholder("Filter by name").fill("alarm")
    expect(page).to_have_url(re.compile(r"q=alarm"))


def test_opening_an_entity_and_switching_tabs(page: Page) -> None:
    page.goto("/catalog?kind=component&q=order")
    page.get_by_role("link", name="Order Service").click()
    expect(page.get_by_role("heading", name="Order Service", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="team-checkout").first).to_be_visible()
    page.get_by_role("tab", name="YAML").click()
    expect(page).to_have_url(re.compile(r"tab=yaml"))
    expect(page.locator("#entity-yaml")).to_contain_text("kind: Component")


def test_a_starred_entity_appears_on_home(page: Page) -> None:
    page.goto("/catalog/default/system/orders")
    star = page.get_by_role("button", name=re.compile("Star"))
    if star.get_attribute("aria-pressed") == "false":
        star.click()
    expect(page.get_by_role("button", name="★ Starred")).to_be_visible()
    page.goto("/")
    expect(page.locator("section", has=page.locator("#starred-heading"))).to_contain_text("Orders")


def test_slash_focuses_search_and_the_404_page_says_where_to_go(page: Page) -> None:
    page.goto("/catalog/default/component/ghost")
    expect(page.get_by_text("Nothing here")).to_be_visible()
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()


def test_on_a_phone_the_sidebar_is_a_drawer(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/catalog")
    expect(page.locator("#sidebar")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#sidebar")).to_be_visible()
