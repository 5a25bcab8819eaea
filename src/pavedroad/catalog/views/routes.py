"""Every catalog page route, for the app to mount."""

from __future__ import annotations

from fastapi import APIRouter

from pavedroad.catalog.views import (
    browse,
    entity,
    locations_page,
    register_page,
    relations_graph,
    search_page,
)

router = APIRouter(include_in_schema=False)
for module in (browse, entity, relations_graph, register_page, locations_page, search_page):
    router.include_router(module.router)
