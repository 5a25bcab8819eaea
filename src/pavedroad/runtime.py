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
from pavedroad.deploy import hooks as deploy_hooks
from pavedroad.deploy import models as deploy_models  # noqa: F401 - its tables
from pavedroad.deploy import permissions as deploy_permissions  # noqa: F401 - declares them
from pavedroad.deploy.step import DeployStepTypes
from pavedroad.deploy.targets.builtin import BuiltinTargets
from pavedroad.deploy.views.tab import DeploymentTabs
from pavedroad.identity.ldap import LdapProviders
from pavedroad.permissions import hooks as permission_hooks
from pavedroad.permissions.builtin import BuiltinPermissionRules
from pavedroad.permissions.engine import PolicyEngine
from pavedroad.pipelines import hooks as pipeline_hooks
from pavedroad.pipelines import permissions as pipeline_permissions  # noqa: F401 - declares them
from pavedroad.pipelines.executor import LocalExecutorPlugin
from pavedroad.pipelines.secrets import EnvironmentSecretsPlugin
from pavedroad.pipelines.steptypes import BuiltinStepTypes
from pavedroad.pipelines.views.tab import PipelineTabs
from pavedroad.scaffolder import hooks as scaffolder_hooks
from pavedroad.scaffolder import permissions as scaffolder_permissions  # noqa: F401 - declares them
from pavedroad.scaffolder.actions import BuiltinActions
from pavedroad.scaffolder.hooks import ScaffolderAction
from pavedroad.security import models as security_models  # noqa: F401 - its tables
from pavedroad.security import permissions as security_permissions  # noqa: F401 - declares them
from pavedroad.security.advisories import models as advisory_models  # noqa: F401 - its tables
from pavedroad.security.sbom import models as sbom_models  # noqa: F401 - its tables
from pavedroad.security.sbom.steps import SbomStepTypes
from pavedroad.security.sbom.tab import SbomTabs
from pavedroad.security.scan_steps import CodeScanningStepTypes
from pavedroad.security.steps import SecurityStepTypes
from pavedroad.security.tab import SecurityTabs

HOOKSPEC_MODULES = (
    catalog_hooks,
    permission_hooks,
    scaffolder_hooks,
    pipeline_hooks,
    deploy_hooks,
)


def step_type_plugins() -> list[object]:
    """The plugins that ship pipeline step types: what a file is validated against even where
    no runtime is built (``pavedroad pipeline validate``)."""
    return [
        BuiltinStepTypes(),
        SecurityStepTypes(),
        CodeScanningStepTypes(),
        SbomStepTypes(),
        DeployStepTypes(),
    ]


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
            PipelineTabs(),
            LdapProviders(),
            BuiltinPermissionRules(),
            CatalogPermissionRules(),
            builtin_actions,
            *step_type_plugins(),
            LocalExecutorPlugin(),
            EnvironmentSecretsPlugin(),
            SecurityTabs(),
            SbomTabs(),
            BuiltinTargets(),
            DeploymentTabs(),
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
