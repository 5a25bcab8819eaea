"""A repository and its component find each other however the URL is spelt."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from pavedroad.catalog import service
from pavedroad.core.actors import Actor
from pavedroad.pipelines.repositories import (
    component_for_repository,
    local_component_repositories,
    normalise_repository,
    repository_of_entity,
)
from pavedroad.runtime import Runtime
from tests.helpers import component, write_entities


@pytest.mark.parametrize(
    ("spelling", "normalised"),
    [
        ("url:https://github.com/acme/payments/tree/main/", "https://github.com/acme/payments"),
        ("https://GitHub.com/acme/payments.git", "https://github.com/acme/payments"),
        ("git@github.com:acme/payments.git", "https://github.com/acme/payments"),
        (
            "https://gitlab.example/acme/payments/-/tree/main",
            "https://gitlab.example/acme/payments",
        ),
        (
            "https://gitea.example/acme/payments/src/branch/main",
            "https://gitea.example/acme/payments",
        ),
        ("url:file:///srv/git/payments.git/", "file:///srv/git/payments.git"),
        ("/srv/git/payments.git", "file:///srv/git/payments.git"),
    ],
)
def test_every_spelling_of_a_repository_normalises_to_one(spelling: str, normalised: str) -> None:
    assert normalise_repository(spelling) == normalised


def test_an_entity_without_a_url_source_location_has_no_repository() -> None:
    assert repository_of_entity(component("x")) is None
    other = component("y")
    other["metadata"]["annotations"] = {"backstage.io/source-location": "file:./here"}
    assert repository_of_entity(other) is None


def _catalog_with(session: Session, runtime: Runtime, folder: Path, **locations: str) -> None:
    entities = []
    for name, location in locations.items():
        entity = component(name)
        entity["metadata"]["annotations"] = {"backstage.io/source-location": location}
        entities.append(entity)
    write_entities(folder / "catalog-info.yaml", *entities)
    target = [("file", str(folder / "catalog-info.yaml"))]
    service.register_locations(session, runtime.catalog, target, actor=Actor("user:default/t"))
    session.commit()


def test_a_repository_maps_to_the_component_that_names_it(
    session: Session, runtime: Runtime, tmp_path: Path
) -> None:
    local = tmp_path / "Repos" / "Billing.git"
    _catalog_with(
        session,
        runtime,
        tmp_path,
        payments="url:https://github.com/acme/payments/tree/main/",
        billing=f"url:{local.as_uri()}",
    )

    assert component_for_repository(session, "git@github.com:acme/payments.git") == (
        "component:default/payments"
    )
    assert component_for_repository(session, str(local)) == "component:default/billing"
    assert component_for_repository(session, "https://github.com/acme/unknown") is None
    assert local_component_repositories(session) == [(local.as_uri(), "component:default/billing")]
