"""The built-in tabs of entity pages, registered through the same hook as any plugin's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from pavedroad.catalog.hooks import EntityPageTab, TabContext
from pavedroad.catalog.views import api_tab, overview, relations_graph
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.web.templating import templates


def fragment(template: str, **context: Any) -> str:
    """A template rendered to HTML without the page around it."""
    return templates.get_template(template).render(**context)


@dataclass(frozen=True, slots=True)
class OverviewTab:
    id: str = "overview"
    title: str = "Overview"
    order: int = 10

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return True

    def render(self, context: TabContext) -> str:
        return fragment("catalog/tabs/overview.html", **overview.build(context))


@dataclass(frozen=True, slots=True)
class RelationsTab:
    """The entity's neighbourhood as a graph (with JavaScript) and as lists of links."""

    id: str = "relations"
    title: str = "Relations"
    order: int = 20

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return True

    def render(self, context: TabContext) -> str:
        return fragment("catalog/tabs/relations.html", **relations_graph.build(context))


@dataclass(frozen=True, slots=True)
class ApiTab:
    """An API's definition: Swagger UI for OpenAPI, highlighted source for the others."""

    id: str = "api"
    title: str = "API"
    order: int = 30

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return str(entity.get("kind", "")).lower() == "api"

    def render(self, context: TabContext) -> str:
        return fragment("catalog/tabs/api.html", **api_tab.build(context))


@dataclass(frozen=True, slots=True)
class YamlTab:
    id: str = "yaml"
    title: str = "YAML"
    order: int = 90

    def applies_to(self, entity: dict[str, Any]) -> bool:
        return True

    def render(self, context: TabContext) -> str:
        stored = {key: value for key, value in context.entity.items() if key != "relations"}
        text = yaml.safe_dump(stored, sort_keys=False, allow_unicode=True, width=100)
        return fragment("catalog/tabs/yaml.html", text=text, ref=context.ref)


class BuiltinTabs:
    @hookimpl
    def pavedroad_entity_page_tabs(self, settings: Settings) -> Sequence[EntityPageTab]:
        return [OverviewTab(), RelationsTab(), ApiTab(), YamlTab()]
