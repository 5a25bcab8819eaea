"""The demo organisation's security data: advisories (the Log4j 2 records shipped here, and the
real PyPA database when ``../shared/advisories/pypa`` is beside the project) and an SBOM per
demo component from the lockfiles under ``security/lockfiles/<component>/``, so "who is
affected by CVE-2021-44228?" has an answer on the first start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.core.actors import Actor
from pavedroad.security.advisories import import_advisories
from pavedroad.security.sbom import generate_sbom, store_sbom
from pavedroad.security.sbom.models import Sbom

SECURITY = Path(__file__).parent / "security"
SHARED_PYPA = Path(__file__).resolve().parents[3].parent / "shared" / "advisories" / "pypa"
DEMO_COMMIT = "0" * 40


@dataclass(frozen=True, slots=True)
class SecurityLoad:
    advisories: int
    sboms: int


def load_security(session: Session, actor: Actor) -> SecurityLoad | None:
    """Import the demo's advisories and store its SBOMs, unless they are there already."""
    if session.scalar(select(Sbom.id).where(Sbom.created_by == actor.ref).limit(1)):
        return None
    imported = import_advisories(session, SECURITY / "advisories", actor=actor).added
    if SHARED_PYPA.is_dir():
        imported += import_advisories(session, SHARED_PYPA, actor=actor).added
    stored = 0
    for folder in sorted(path for path in (SECURITY / "lockfiles").iterdir() if path.is_dir()):
        ref = f"component:default/{folder.name}"
        generated = generate_sbom(folder, component_ref=ref, version="1.4.0", commit=DEMO_COMMIT)
        if generated.document is None:
            raise RuntimeError(f"the demo SBOM of {ref} did not build: {generated.problems}")
        store_sbom(
            session,
            component_ref=ref,
            commit=DEMO_COMMIT,
            version="1.4.0",
            document=generated.document,
            packages=generated.inventory.packages,
            actor=actor,
        )
        stored += 1
    return SecurityLoad(imported, stored)
