"""The demo organisation (Fernhollow Energy) that ``pavedroad demo`` loads into the catalog,
with the golden-path templates pavedroad ships."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.catalog.service import Catalog, LocationRefresh
from pavedroad.core.actors import Actor

CATALOG_FILE = Path(__file__).parent / "catalog-info.yaml"
# A location of its own: installed from a wheel, a file location's tree is its folder, so the
# organisation's Location could not name ../scaffolder/golden.
GOLDEN_PATHS_FILE = Path(__file__).parents[1] / "scaffolder" / "golden" / "catalog-info.yaml"
DEMO_ACTOR = Actor.system("demo")


def load(session: Session, catalog: Catalog) -> LocationRefresh | None:
    """Register the demo organisation and the golden-path templates, unless the organisation is
    registered already (then None). Returns the organisation's refresh."""
    target = str(CATALOG_FILE.resolve())
    if service.find_location(session, "file", target) is not None:
        return None
    targets = [("file", target)]
    golden = str(GOLDEN_PATHS_FILE.resolve())
    if service.find_location(session, "file", golden) is None:
        targets.append(("file", golden))
    return service.register_locations(session, catalog, targets, actor=DEMO_ACTOR)[0]
