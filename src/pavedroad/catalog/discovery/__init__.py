"""Discovery beyond Backstage: propose Components for repositories that have no descriptor.

``discover`` reads repositories (directories, local clones, git URLs) and proposes one
Component each, with the evidence behind every field; ``analyze_location`` answers Backstage's
analyze-location request. The rules (type, tags, owner, names and their clashes) are in
``docs/discovery.md`` and in the docstrings of ``inference``, ``owners`` and ``naming``.
"""

from __future__ import annotations

from pavedroad.catalog.discovery.analysis import analyze_location
from pavedroad.catalog.discovery.naming import entity_name
from pavedroad.catalog.discovery.owners import PLACEHOLDER_OWNER
from pavedroad.catalog.discovery.proposals import (
    DEFAULT_LIFECYCLE,
    DISCOVERED,
    PROJECT_SLUG,
    SOURCE_LOCATION,
    Proposal,
    discover,
    held_in_catalog,
)
from pavedroad.catalog.discovery.targets import Checkout

__all__ = [
    "DEFAULT_LIFECYCLE",
    "DISCOVERED",
    "PLACEHOLDER_OWNER",
    "PROJECT_SLUG",
    "SOURCE_LOCATION",
    "Checkout",
    "Proposal",
    "analyze_location",
    "discover",
    "entity_name",
    "held_in_catalog",
]
