"""The built-in scaffolder actions, registered through the same hook as any plugin's, and the
Template check the catalog runs when a template is registered (every installed action known).
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy

from pavedroad.catalog.hooks import EntityProcessor
from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.scaffolder.actions.base import ActionError, BuiltinAction
from pavedroad.scaffolder.actions.catalog_actions import CatalogFetch, CatalogRegister, CatalogWrite
from pavedroad.scaffolder.actions.debug import Log, Wait
from pavedroad.scaffolder.actions.fetch_plain import FetchPlain, FetchPlainFile
from pavedroad.scaffolder.actions.fetch_template import FetchTemplate, FetchTemplateFile
from pavedroad.scaffolder.actions.filesystem import Delete, ReadDir, Rename
from pavedroad.scaffolder.actions.github_pull_request import PublishGithubPullRequest
from pavedroad.scaffolder.actions.publish_git import PublishGit, PublishGithub
from pavedroad.scaffolder.actions.reference import reference_markdown
from pavedroad.scaffolder.actions.workspace import safe_child_path
from pavedroad.scaffolder.engine.registration import TemplateActionsProcessor
from pavedroad.scaffolder.hooks import ScaffolderAction

__all__ = [
    "ActionError",
    "BuiltinAction",
    "BuiltinActions",
    "builtin_actions",
    "reference_markdown",
    "safe_child_path",
]


def builtin_actions() -> list[ScaffolderAction]:
    return [
        FetchTemplate(),
        FetchTemplateFile(),
        FetchPlain(),
        FetchPlainFile(),
        Rename(),
        Delete(),
        ReadDir(),
        Log(),
        Wait(),
        CatalogWrite(),
        CatalogFetch(),
        CatalogRegister(),
        PublishGit(),
        PublishGithub(),
        PublishGithubPullRequest(),
    ]


class BuiltinActions:
    """The built-in actions, and the catalog processor that refuses templates naming actions
    nobody installed.

    The processor needs every plugin's actions, so the runtime hands this plugin its plugin
    manager (:meth:`attach`) before it asks for processors.
    """

    def __init__(self) -> None:
        self._plugins: pluggy.PluginManager | None = None

    def attach(self, plugins: pluggy.PluginManager) -> None:
        self._plugins = plugins

    @hookimpl
    def pavedroad_scaffolder_actions(self, settings: Settings) -> Sequence[ScaffolderAction]:
        return builtin_actions()

    # First, so that Templates are checked by this processor rather than the built-in kinds'
    # (it runs the built-in Template checks itself).
    @hookimpl(tryfirst=True)
    def pavedroad_catalog_processors(self, settings: Settings) -> Sequence[EntityProcessor]:
        if self._plugins is None:
            ids = {action.id for action in builtin_actions()}
        else:
            groups = self._plugins.hook.pavedroad_scaffolder_actions(settings=settings)
            ids = {action.id for group in groups for action in group}
        return [TemplateActionsProcessor(ids)]
