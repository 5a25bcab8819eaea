"""The composition root: settings, database, plugins and each domain's configured services.

Built once per process by the app factory, the CLI and workers; tests build their own with a
database of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pluggy

from pavedroad.catalog import hooks as catalog_hooks
from pavedroad.catalog.hooks import EntityPageTab
from pavedroad.catalog.kinds import BuiltinKinds
from pavedroad.catalog.permission_rules import CatalogPermissionRules
from pavedroad.catalog.processing import EntityPipeline
from pavedroad.catalog.service import Catalog
from pavedroad.catalog.views.tabs import BuiltinTabs
from pavedroad.config import Settings, get_settings
from pavedroad.core.db import Database
from pavedroad.core.plugins import make_plugin_manager
from pavedroad.identity.ldap import LdapProviders
from pavedroad.permissions import hooks as permission_hooks
from pavedroad.permissions.builtin import BuiltinPermissionRules
from pavedroad.permissions.engine import PolicyEngine
from pavedroad.pipelines import hooks as pipeline_hooks
from pavedroad.pipelines import permissions as pipeline_permissions  # noqa: F401 - declares them
from pavedroad.scaffolder import hooks as scaffolder_hooks
from pavedroad.scaffolder import permissions as scaffolder_permissions  # noqa: F401 - declares them
from pavedroad.scaffolder.actions import BuiltinActions
from pavedroad.scaffolder.hooks import ScaffolderAction

HOOKSPEC_MODULES = (catalog_hooks, permission_hooks, scaffolder_hooks, pipeline_hooks)


@dataclass(slots=True)
class Runtime:
    settings: Settings
    db: Database
    plugins: pluggy.PluginManager
    catalog: Catalog
    entity_tabs: list[EntityPageTab]
    permissions: PolicyEngine
    scaffolder_actions: dict[str, ScaffolderAction]

    def close(self) -> None:
        self.db.dispose()


def build_runtime(
    settings: Settings | None = None, *, load_entry_points: bool = True, db: Database | None = None
) -> Runtime:
    settings = settings or get_settings()
    builtin_actions = BuiltinActions()
    plugins = make_plugin_manager(
        HOOKSPEC_MODULES,
        [
            BuiltinKinds(),
            BuiltinTabs(),
            LdapProviders(),
            BuiltinPermissionRules(),
            CatalogPermissionRules(),
            builtin_actions,
        ],
        load_entry_points=load_entry_points,
        disabled=settings.plugins_disabled,
    )
    builtin_actions.attach(plugins)  # its Template check knows every plugin's actions
    processors = [
        p for group in plugins.hook.pavedroad_catalog_processors(settings=settings) for p in group
    ]
    providers = [
        p for group in plugins.hook.pavedroad_catalog_providers(settings=settings) for p in group
    ]
    pipeline = EntityPipeline(processors, settings.catalog.allowed_kinds)
    tabs = [
        t for group in plugins.hook.pavedroad_entity_page_tabs(settings=settings) for t in group
    ]
    tabs.sort(key=lambda tab: (tab.order, tab.title))
    catalog = Catalog(settings=settings, pipeline=pipeline, providers=providers)
    permissions = PolicyEngine(settings, plugins=plugins)
    actions = {
        action.id: action
        for group in plugins.hook.pavedroad_scaffolder_actions(settings=settings)
        for action in group
    }
    database = db or Database(settings.resolved_database_url)
    return Runtime(
        settings=settings,
        db=database,
        plugins=plugins,
        catalog=catalog,
        entity_tabs=tabs,
        permissions=permissions,
        scaffolder_actions=actions,
    )
