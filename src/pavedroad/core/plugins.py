"""The one extension mechanism: pluggy hooks, loaded from the ``pavedroad.plugins`` entry points.

Each domain declares its hook specifications in its own ``hooks.py`` with :data:`hookspec`;
built-in features implement them with :data:`hookimpl` exactly as third-party plugins do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import entry_points
from types import ModuleType

import pluggy

PROJECT = "pavedroad"
ENTRY_POINT_GROUP = "pavedroad.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

log = logging.getLogger(__name__)


def make_plugin_manager(
    hookspec_modules: Iterable[ModuleType],
    builtin_plugins: Iterable[object],
    *,
    load_entry_points: bool = True,
    disabled: Iterable[str] = (),
) -> pluggy.PluginManager:
    """A plugin manager with every domain's hook specs, the built-ins and installed plugins."""
    manager = pluggy.PluginManager(PROJECT)
    for module in hookspec_modules:
        manager.add_hookspecs(module)
    for plugin in builtin_plugins:
        manager.register(plugin)
    if load_entry_points:
        skip = set(disabled)
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if entry_point.name in skip or manager.get_plugin(entry_point.name) is not None:
                continue
            plugin = entry_point.load()
            manager.register(plugin, name=entry_point.name)
            log.info(
                "plugin loaded", extra={"plugin": entry_point.name, "value": entry_point.value}
            )
    manager.check_pending()
    return manager
