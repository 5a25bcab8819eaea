"""Catalog service functions: the only write path for locations and entities.

Every function takes a session and, when it changes something, a keyword-only ``actor``; none
commits. ``locations`` registers, refreshes and reads locations (``location_batches`` ingests a
batch of them breadth first); ``entities`` handles entities one at a time and their stored
errors; ``providers`` refreshes entity providers; ``catalog`` holds what they all share.
"""

from pavedroad.catalog.service.catalog import (
    Catalog,
    FileCallback,
    LocationRefresh,
    location_name,
    summarize,
)
from pavedroad.catalog.service.entities import (
    count_entities,
    delete_entity,
    get_entity_row,
    list_errors,
    location_of_entity,
    refresh_entity,
)
from pavedroad.catalog.service.locations import (
    DryRun,
    dry_run_location,
    find_location,
    forget_pasted_descriptor,
    get_location,
    iter_location_ids,
    list_locations,
    refresh_due_locations,
    refresh_locations,
    register_locations,
    touch_location,
    unregister_location,
)
from pavedroad.catalog.service.providers import provider_by_name, refresh_provider

__all__ = [
    "Catalog",
    "DryRun",
    "FileCallback",
    "LocationRefresh",
    "count_entities",
    "delete_entity",
    "dry_run_location",
    "find_location",
    "forget_pasted_descriptor",
    "get_entity_row",
    "get_location",
    "iter_location_ids",
    "list_errors",
    "list_locations",
    "location_name",
    "location_of_entity",
    "provider_by_name",
    "refresh_due_locations",
    "refresh_entity",
    "refresh_locations",
    "refresh_provider",
    "register_locations",
    "summarize",
    "touch_location",
    "unregister_location",
]
