"""Storing SBOMs per component and commit, on SQLite and PostgreSQL: the latest one known
cheaply, packages queryable by (ecosystem, name, version), every store audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pavedroad.audit.models import AuditEvent
from pavedroad.core.actors import Actor
from pavedroad.security.sbom import (
    InvalidSbomError,
    build_bom,
    latest_sbom,
    read_inventory,
    sboms_of,
    store_sbom,
)
from pavedroad.security.sbom.models import Sbom, SbomPackage
from pavedroad.security.sbom.packages import LockedPackage
from tests.security.test_sbom_readers import FIXTURES

LEDGER = "component:default/ledger"


def store(
    session: Session, actor: Actor, fixture: str, *, ref: str = LEDGER, commit: str = "c1"
) -> Sbom:
    packages = read_inventory(FIXTURES / fixture).packages
    document = build_bom(packages, component_ref=ref, commit=commit)
    return store_sbom(
        session,
        component_ref=ref,
        commit=commit,
        version=None,
        document=document,
        packages=packages,
        actor=actor,
    )


def test_a_stored_sbom_keeps_its_document_and_packages_and_is_audited(
    session: Session, actor: Actor, database_kind: str
) -> None:
    sbom = store(session, actor, "poetry")
    session.commit()

    assert sbom.package_count == 9 and sbom.latest
    assert sbom.document["metadata"]["component"]["bom-ref"] == LEDGER
    rows = session.scalars(select(SbomPackage).where(SbomPackage.sbom_id == sbom.id)).all()
    flask = next(row for row in rows if row.name == "flask")
    assert (flask.ecosystem, flask.version, flask.purl, flask.direct) == (
        "PyPI",
        "2.2.1",
        "pkg:pypi/flask@2.2.1",
        True,
    )
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.event == "security.sbom.stored")
    ).one()
    assert event.target == f"sbom:{sbom.id}"
    assert event.actor == actor.ref


def test_the_newest_sbom_of_a_component_is_its_latest(
    session: Session, actor: Actor, database_kind: str
) -> None:
    first = store(session, actor, "poetry", commit="c1")
    session.commit()
    second = store(session, actor, "uv", commit="c2")
    other = store(session, actor, "npm", ref="component:default/storefront")
    session.commit()

    assert latest_sbom(session, LEDGER) == second
    assert latest_sbom(session, "Component:default/Ledger") == second  # refs compare lower-case
    assert [s.commit for s in sboms_of(session, LEDGER)] == ["c2", "c1"]
    session.refresh(first)
    assert not first.latest
    assert latest_sbom(session, "component:default/storefront") == other
    assert latest_sbom(session, "component:default/unknown") is None


def test_which_latest_sboms_ship_a_package_version_is_one_indexed_query(
    session: Session, actor: Actor, database_kind: str
) -> None:
    store(session, actor, "maven", ref="component:default/payments", commit="old")
    session.commit()
    store(session, actor, "maven", ref="component:default/payments", commit="new")
    store(session, actor, "gradle", ref="component:default/reports")
    session.commit()

    shipping = session.execute(
        select(Sbom.component_ref, SbomPackage.version)
        .join(Sbom, Sbom.id == SbomPackage.sbom_id)
        .where(
            Sbom.latest.is_(True),
            SbomPackage.ecosystem == "Maven",
            SbomPackage.name == "org.apache.logging.log4j:log4j-core",
        )
        .order_by(Sbom.component_ref)
    ).all()

    assert [tuple(row) for row in shipping] == [
        ("component:default/payments", "2.14.1"),
        ("component:default/reports", "2.16.0"),
    ]


def test_an_sbom_failing_the_schema_is_refused_and_nothing_is_stored(
    session: Session, actor: Actor, database_kind: str
) -> None:
    store(session, actor, "poetry")
    session.commit()
    packages = read_inventory(FIXTURES / "uv").packages
    document = build_bom(packages, component_ref=LEDGER)
    del document["components"][0]["name"]

    with pytest.raises(InvalidSbomError):
        store_sbom(
            session,
            component_ref=LEDGER,
            commit="c2",
            version=None,
            document=document,
            packages=packages,
            actor=actor,
        )
    session.rollback()

    assert session.scalar(select(func.count()).select_from(Sbom)) == 1
    assert latest_sbom(session, LEDGER) is not None
    assert latest_sbom(session, LEDGER).commit == "c1"  # type: ignore[union-attr]


def test_two_latest_sboms_of_one_component_cannot_exist(
    session: Session, actor: Actor, database_kind: str
) -> None:
    sbom = store(session, actor, "uv")
    session.commit()
    twin = Sbom(
        id="00000000-0000-0000-0000-000000000001",
        component_ref=sbom.component_ref,
        commit="x",
        created_at=sbom.created_at,
        created_by=actor.ref,
        latest=True,
        package_count=0,
        document={},
    )
    session.add(twin)

    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_package_listed_twice_is_stored_once(
    session: Session, actor: Actor, database_kind: str
) -> None:
    django = LockedPackage("PyPI", "django", "2.2.0", "requirements.txt", 1)
    packages = [django, LockedPackage("PyPI", "django", "2.2.0", "requirements-dev.txt", 1)]
    sbom = store_sbom(
        session,
        component_ref=LEDGER,
        commit="c",
        version="1.0",
        document=build_bom([django], component_ref=LEDGER),
        packages=packages,
        actor=actor,
    )

    assert sbom.package_count == 1
