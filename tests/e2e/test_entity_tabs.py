"""The Relations graph and the API viewer in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS

ORDER_SERVICE = "/catalog/default/component/order-service"


def related_count(page: Page) -> int:
    heading = page.locator("#graph-heading").inner_text()
    found = re.search(r"(\d+) related", heading)
    assert found, heading
    return int(found.group(1))


def test_expanding_the_graph_and_clicking_a_node_opens_that_entity(page: Page) -> None:
    page.goto(f"{ORDER_SERVICE}?tab=relations&depth=1")
    graph = page.locator("#relations-graph")
    expect(graph.locator("canvas").first).to_be_visible()
    near = related_count(page)

    page.locator("label[for=graph-depth-3]").click()
    expect(page).to_have_url(re.compile(r"depth=3"))
    expect(page.locator("#graph-heading")).not_to_have_text(re.compile(rf"^{near} related"))
    assert related_count(page) > near
    expect(page.locator("#relations-graph canvas").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "relations-graph-depth-3.png"))

    page.locator("#graph-rel-apis").uncheck()
    expect(page).to_have_url(re.compile(r"rel=(?!.*apis)"))
    expect(page.locator("#graph-rel-apis")).not_to_be_checked()

    # Click the owning team's node where Cytoscape drew it.
    graph = page.locator("#relations-graph")
    expect(graph.locator("canvas").first).to_be_visible()
    point = graph.evaluate(
        """(container) => {
            const node = container._cy.getElementById("group:default/team-checkout");
            return node.renderedPosition();
        }"""
    )
    box = graph.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    expect(page).to_have_url(re.compile(r"/catalog/default/group/team-checkout$"))
    expect(page.get_by_role("heading", name="Checkout", level=1)).to_be_visible()


def test_an_openapi_definition_opens_in_the_viewer(page: Page) -> None:
    page.goto("/catalog/default/api/payment-api")
    page.get_by_role("tab", name="API").click()
    expect(page).to_have_url(re.compile(r"tab=api"))
    viewer = page.locator(".swagger-host .swagger-ui")
    expect(viewer).to_contain_text("/refunds")
    viewer.get_by_text("/payment-intents", exact=True).first.click()
    expect(viewer.locator(".opblock.is-open")).to_contain_text("Idempotency-Key")


def test_grpc_definitions_are_highlighted(page: Page) -> None:
    page.goto("/catalog/default/api/authz-api?tab=api")
    code = page.locator("#api-definition")
    expect(code).to_contain_text("service Authorizer")
    expect(code.locator("span.hljs-keyword").first).to_be_visible()
