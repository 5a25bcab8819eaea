"""The catalog REST API under ``/api/catalog``, compatible with Backstage's catalog backend."""

from __future__ import annotations

from pavedroad.catalog.api import checks, entities, locations

# Each router carries the full prefix itself, so that every route's template (what metrics are
# labelled with) is its whole path.
routers = [entities.router, locations.router, checks.router]

__all__ = ["routers"]
