"""Every pipeline page route, for the app to mount; importing it adds the home page card."""

from __future__ import annotations

from fastapi import APIRouter

from pavedroad.pipelines.views import actions, badge, home_card, runs  # noqa: F401 - home_card registers

router = APIRouter(include_in_schema=False)
for module in (runs, actions, badge):
    router.include_router(module.router)
