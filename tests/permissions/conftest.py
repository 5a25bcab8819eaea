"""A small organisation as real catalog entities, and the principals of its people.

Groups: admins, team-checkout, team-payments, checkout-team-leads, payments-application-owners,
auditors. Everyone is registered through the catalog service, so identities come from the
catalog exactly as at sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.catalog.permission_rules import entity_resource, location_resource
from pavedroad.core.actors import Actor
from pavedroad.identity.resolution import resolve_identity
from pavedroad.identity.schemas import Principal
from pavedroad.runtime import Runtime
from tests.helpers import component, group, write_entities

ADMIN = "user:default/ada.admin"
DEVELOPER = "user:default/dev.dana"
TEAM_LEAD = "user:default/lee.lead"
APP_OWNER = "user:default/olu.owner"
AUDITOR = "user:default/audra.auditor"
PAYMENTS_DEVELOPER = "user:default/pat.payments"

MEMBERSHIPS = {
    ADMIN: ["admins"],
    DEVELOPER: ["team-checkout"],
    TEAM_LEAD: ["checkout-team-leads"],
    APP_OWNER: ["payments-application-owners"],
    AUDITOR: ["auditors"],
    PAYMENTS_DEVELOPER: ["team-payments"],
}


def user(ref: str, groups: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": ref.split("/")[-1]},
        "spec": {"memberOf": groups},
    }


@dataclass(frozen=True, slots=True)
class Organisation:
    """The registered organisation: who registered which location, and how to ask about it."""

    runtime: Runtime
    session: Session
    locations: dict[str, str]  # registrant ref -> location id

    def principal(self, ref: str) -> Principal:
        return Principal(ref, "session", resolve_identity(self.session, ref))

    def entity(self, ref: str) -> dict[str, Any]:
        return entity_resource(self.session, ref)

    def location(self, registrant: str) -> dict[str, Any]:
        found = service.get_location(self.session, self.locations[registrant])
        return location_resource(found)


def register(session: Session, runtime: Runtime, path: Path, registrant: str) -> str:
    [result] = service.register_locations(
        session, runtime.catalog, [("file", str(path))], actor=Actor(registrant)
    )
    session.commit()
    return result.location.id


@pytest.fixture
def org(runtime: Runtime, session: Session, tmp_path: Path) -> Organisation:
    people = write_entities(
        tmp_path / "org.yaml",
        *(group(name) for name in sorted({g for gs in MEMBERSHIPS.values() for g in gs})),
        *(user(ref, groups) for ref, groups in MEMBERSHIPS.items()),
    )
    software = write_entities(
        tmp_path / "software.yaml",
        component("order-service", owner="team-checkout"),
        component("payment-service", owner="team-payments"),
        component("dana-scratch", owner="user:dev.dana"),
    )
    docs_site = component("docs-site", owner="team-payments")
    docs_site["metadata"]["annotations"] = {"backstage.io/techdocs-ref": "dir:."}
    docs = write_entities(tmp_path / "docs.yaml", docs_site)
    locations = {
        ADMIN: register(session, runtime, people, ADMIN),
        DEVELOPER: register(session, runtime, software, DEVELOPER),
        TEAM_LEAD: register(session, runtime, docs, TEAM_LEAD),
    }
    return Organisation(runtime, session, locations)
