"""An example plugin, shaped like any third-party one: a pip package with an entry point.

It contributes an entity provider that reads a YAML file of entities (say, an export from an HR
system) and a custom kind, ``Product`` (``example.com/v1``), with its own rules and relations.
Configure it in pavedroad's YAML settings::

    plugin_settings:
      example-provider:
        path: /srv/hr/teams.yaml
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from pavedroad.catalog.hooks import EntityProcessor, EntityProvider, Relation
from pavedroad.catalog.kinds import OWNED_BY, KindSchema, SchemaProcessor, SpecField
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl

PRODUCT = KindSchema(
    "Product",
    ("example.com/v1",),
    (
        SpecField("owner", "string", True, '"owner: team-payments"', OWNED_BY),
        SpecField("components", "string[]"),
    ),
)


class FileProvider:
    """Every entity in one YAML file, as a provider (a stand-in for an HR system's export)."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    def read(self) -> Iterable[dict[str, Any]]:
        return list(yaml.safe_load_all(self.path.read_text()))


class ProductProcessor(SchemaProcessor):
    """Validates Products and adds ``hasPart`` relations to the components they bundle."""

    def relations(self, entity: dict[str, Any], ref: str) -> Iterable[Relation]:
        found = list(super().relations(entity, ref))
        for component in (entity.get("spec") or {}).get("components") or []:
            target = f"component:default/{component}".lower()
            found += [Relation(ref, "hasPart", target), Relation(target, "partOf", ref)]
        return found


class ExamplePlugin:
    @hookimpl
    def pavedroad_catalog_processors(self, settings: Settings) -> Sequence[EntityProcessor]:
        return [ProductProcessor([PRODUCT])]

    @hookimpl
    def pavedroad_catalog_providers(self, settings: Settings) -> Sequence[EntityProvider]:
        config = settings.plugin_settings.get("example-provider") or {}
        if "path" not in config:
            return []
        return [FileProvider("example-hr", Path(config["path"]))]


plugin = ExamplePlugin()
