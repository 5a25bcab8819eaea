"""The demo organisation (Fernhollow Energy) that ``pavedroad demo`` loads into the catalog."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.catalog.service import Catalog, LocationRefresh
from pavedroad.core.actors import Actor

CATALOG_FILE = Path(__file__).parent / "catalog-info.yaml"
DEMO_ACTOR = Actor.system("demo")


def load(session: Session, catalog: Catalog) -> LocationRefresh | None:
    """Register the demo organisation, unless it is registered already (then None)."""
    target = str(CATALOG_FILE.resolve())
    if service.find_location(session, "file", target) is not None:
        return None
    return service.register_locations(session, catalog, [("file", target)], actor=DEMO_ACTOR)[0]
