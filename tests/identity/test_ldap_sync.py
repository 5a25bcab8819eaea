"""LDAP sync: people and teams of a real OpenLDAP server become the catalog's Users and Groups."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldap3
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pavedroad.catalog import jobs, service
from pavedroad.catalog.hooks import EntityProvider
from pavedroad.catalog.ingestion import IngestReport
from pavedroad.catalog.models import Entity, EntityRelation, IngestionError
from pavedroad.cli import app
from pavedroad.config import LdapSettings, get_settings
from pavedroad.core.actors import Actor
from pavedroad.identity.ldap import LdapProvider, LdapSyncError, entity_name
from pavedroad.runtime import Runtime, build_runtime
from tests.helpers import component, group, write_entities
from tests.identity.slapd import (
    PEOPLE,
    SIZE_LIMIT,
    SUFFIX,
    Organisation,
    Slapd,
    add_organisation,
    delete_subtree,
    running_slapd,
)

ACTOR = Actor("user:default/tester")
UUID = "backstage.io/ldap-uuid"
SUBTREES = itertools.count()
EVERYONE = {
    "user:default/alice",
    "user:default/bob",
    "user:default/carol",
    "user:default/dave",
    "user:default/erin",
    "user:default/frank",
    "user:default/zoe.muller",
    "group:default/platform-team",
    "group:default/payments",
    "group:default/engineering",
    "group:default/security-guild",
}


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    with running_slapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server


@pytest.fixture
def admin(slapd: Slapd) -> Iterator[ldap3.Connection]:
    connection = slapd.admin()
    yield connection
    connection.unbind()


@pytest.fixture
def org(admin: ldap3.Connection) -> Iterator[Organisation]:
    """The test's own organisation, in a subtree no other test reads."""
    base = f"ou=test-{next(SUBTREES)},{SUFFIX}"
    yield add_organisation(admin, base)
    delete_subtree(admin, base)


def ldap_settings(slapd: Slapd, org: Organisation, **changes: Any) -> LdapSettings:
    values: dict[str, Any] = {
        "url": slapd.url,
        "bind_dn": slapd.reader_dn,
        "bind_password": slapd.reader_password,
        "users_base_dn": org.people,
        "groups_base_dn": org.teams,
        "page_size": 2,  # several pages for every search
        "timeout_seconds": 2,
    }
    return LdapSettings.model_validate(values | changes)


def with_ldap(runtime: Runtime, ldap: LdapSettings) -> Runtime:
    settings = runtime.settings
    auth = settings.auth.model_copy(update={"ldap": ldap})
    return build_runtime(settings.model_copy(update={"auth": auth}), db=runtime.db)


@pytest.fixture
def ldap_runtime(runtime: Runtime, slapd: Slapd, org: Organisation) -> Runtime:
    return with_ldap(runtime, ldap_settings(slapd, org))


def sync(session: Session, runtime: Runtime) -> IngestReport:
    report = service.refresh_provider(session, runtime.catalog, "ldap", actor=ACTOR)
    session.commit()
    return report


def refs(session: Session) -> set[str]:
    return set(session.scalars(select(Entity.ref)))


def body(session: Session, ref: str) -> dict[str, Any]:
    text = session.scalar(select(Entity.body).where(Entity.ref == ref))
    assert text is not None, f"{ref} is not in the catalog"
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def stored_errors(session: Session) -> list[IngestionError]:
    return list(session.scalars(select(IngestionError).where(IngestionError.provider == "ldap")))


class TestImport:
    def test_users_and_groups_are_imported_with_their_memberships(
        self, session: Session, ldap_runtime: Runtime
    ) -> None:
        sync(session, ldap_runtime)
        assert refs(session) == EVERYONE
        assert body(session, "user:default/alice")["spec"]["memberOf"] == [
            "group:default/platform-team"
        ]
        assert body(session, "user:default/carol")["spec"]["memberOf"] == ["group:default/payments"]
        assert body(session, "user:default/frank")["spec"]["memberOf"] == []

    def test_nested_groups_become_parent_and_children(
        self, session: Session, ldap_runtime: Runtime
    ) -> None:
        sync(session, ldap_runtime)
        engineering = body(session, "group:default/engineering")["spec"]
        assert engineering["children"] == ["group:default/payments", "group:default/platform-team"]
        assert "parent" not in engineering
        assert body(session, "group:default/platform-team")["spec"]["parent"] == (
            "group:default/engineering"
        )

    def test_a_group_in_two_groups_has_no_parent_and_is_a_child_of_both(
        self, session: Session, ldap_runtime: Runtime
    ) -> None:
        sync(session, ldap_runtime)
        assert "parent" not in body(session, "group:default/payments")["spec"]
        guild = body(session, "group:default/security-guild")["spec"]
        assert guild["children"] == ["group:default/payments"]
        parents = session.scalars(
            select(EntityRelation.target_ref).where(
                EntityRelation.source_ref == "group:default/payments",
                EntityRelation.type == "childOf",
            )
        )
        assert set(parents) == {"group:default/engineering", "group:default/security-guild"}

    def test_display_names_emails_and_descriptions_come_from_the_directory(
        self, session: Session, ldap_runtime: Runtime
    ) -> None:
        sync(session, ldap_runtime)
        alice = body(session, "user:default/alice")["spec"]["profile"]
        assert alice == {"displayName": "Alice Liddell", "email": "alice@example.com"}
        team = body(session, "group:default/platform-team")
        assert team["spec"]["profile"] == {"displayName": "Platform Team"}
        assert team["metadata"]["description"] == "The Platform Team team"
        assert team["spec"]["type"] == "team"

    def test_entities_carry_the_ldap_dn_rdn_and_uuid_annotations(
        self, session: Session, ldap_runtime: Runtime, org: Organisation, admin: ldap3.Connection
    ) -> None:
        sync(session, ldap_runtime)
        admin.search(org.person("alice"), "(objectClass=*)", ldap3.BASE, attributes=["entryUUID"])
        [entry] = admin.entries
        annotations = body(session, "user:default/alice")["metadata"]["annotations"]
        assert annotations["backstage.io/ldap-dn"] == org.person("alice")
        assert annotations["backstage.io/ldap-rdn"] == "alice"
        assert annotations[UUID] == str(entry.entryUUID)
        zoe = body(session, "user:default/zoe.muller")["metadata"]["annotations"]
        assert zoe["backstage.io/ldap-rdn"] == "Zoë.Müller"

    def test_the_snapshot_passes_the_catalogs_validation(
        self, session: Session, ldap_runtime: Runtime
    ) -> None:
        report = sync(session, ldap_runtime)
        assert report.errors == []
        assert report.created == len(EVERYONE)
        assert stored_errors(session) == []

    def test_more_entries_than_the_servers_size_limit_are_read_by_paging(
        self, session: Session, ldap_runtime: Runtime, org: Organisation, admin: ldap3.Connection
    ) -> None:
        for number in range(3 * SIZE_LIMIT):
            uid = f"temp-{number:02}"
            admin.add(org.person(uid), ["inetOrgPerson"], {"uid": uid, "cn": uid, "sn": uid})
        sync(session, ldap_runtime)
        users = {ref for ref in refs(session) if ref.startswith("user:")}
        assert len(users) == len(PEOPLE) + 3 * SIZE_LIMIT

    def test_members_outside_the_users_read_are_skipped_in_one_counted_log_line(
        self, session: Session, ldap_runtime: Runtime, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="pavedroad.identity.ldap"):
            sync(session, ldap_runtime)
        skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
        assert skipped == [
            "LDAP sync skipped 1 group members whose DNs are not among the users or groups "
            "read (outside the base DNs or the filters)"
        ]


class TestLaterSyncs:
    def test_a_person_removed_from_ldap_is_removed_at_the_next_sync(
        self, session: Session, ldap_runtime: Runtime, org: Organisation, admin: ldap3.Connection
    ) -> None:
        sync(session, ldap_runtime)
        admin.delete(org.person("bob"))
        report = sync(session, ldap_runtime)
        assert refs(session) == EVERYONE - {"user:default/bob"}
        assert report.deleted == 1

    def test_a_renamed_group_replaces_its_old_name_and_keeps_its_members(
        self, session: Session, ldap_runtime: Runtime, org: Organisation, admin: ldap3.Connection
    ) -> None:
        sync(session, ldap_runtime)
        uuid = body(session, "group:default/payments")["metadata"]["annotations"][UUID]
        admin.modify_dn(org.team("payments"), "cn=billing")
        sync(session, ldap_runtime)
        assert "group:default/payments" not in refs(session)
        assert body(session, "group:default/billing")["metadata"]["annotations"][UUID] == uuid
        for person in ("carol", "dave"):
            member_of = body(session, f"user:default/{person}")["spec"]["memberOf"]
            assert member_of == ["group:default/billing"]

    def test_entities_from_a_registered_file_are_never_touched(
        self,
        session: Session,
        ldap_runtime: Runtime,
        tmp_path: Path,
        org: Organisation,
        admin: ldap3.Connection,
    ) -> None:
        path = write_entities(tmp_path / "catalog-info.yaml", group("admins"), component("svc"))
        service.register_locations(
            session, ldap_runtime.catalog, [("file", str(path))], actor=ACTOR
        )
        session.commit()
        before = {
            ref: body(session, ref) for ref in ("group:default/admins", "component:default/svc")
        }
        sync(session, ldap_runtime)
        for team in ("engineering", "security-guild", "payments", "Platform Team"):
            admin.delete(org.team(team))
        sync(session, ldap_runtime)
        assert {ref: body(session, ref) for ref in before} == before
        assert "group:default/engineering" not in refs(session)


class TestFailures:
    """A failed read keeps what the last good one gave and stores an error that says why."""

    def assert_kept_with_error(self, session: Session, runtime: Runtime) -> str:
        report = sync(session, runtime)
        assert refs(session) == EVERYONE
        assert report.deleted == 0
        [error] = stored_errors(session)
        assert error.category == "provider-read-failed"
        return error.message

    def test_an_unreachable_server_keeps_the_previous_snapshot_and_stores_a_clear_error(
        self, session: Session, ldap_runtime: Runtime, slapd: Slapd, org: Organisation
    ) -> None:
        sync(session, ldap_runtime)
        nowhere = ldap_settings(slapd, org, url="ldap://127.0.0.1:1")
        message = self.assert_kept_with_error(session, with_ldap(ldap_runtime, nowhere))
        assert "connecting to the LDAP server ldap://127.0.0.1:1 failed" in message
        assert "check auth.ldap.url" in message

    def test_a_wrong_bind_password_keeps_the_previous_snapshot_and_stores_a_clear_error(
        self, session: Session, ldap_runtime: Runtime, slapd: Slapd, org: Organisation
    ) -> None:
        sync(session, ldap_runtime)
        wrong = ldap_settings(slapd, org, bind_password="not-the-password")
        message = self.assert_kept_with_error(session, with_ldap(ldap_runtime, wrong))
        assert f"binding to {slapd.url} as {slapd.reader_dn} failed: invalidCredentials" in message
        assert "check auth.ldap.bind_dn and auth.ldap.bind_password" in message

    def test_a_missing_base_dn_is_an_error_and_not_an_empty_directory(
        self, session: Session, ldap_runtime: Runtime, slapd: Slapd, org: Organisation
    ) -> None:
        sync(session, ldap_runtime)
        missing = ldap_settings(slapd, org, users_base_dn=f"ou=nobody,{org.base}")
        message = self.assert_kept_with_error(session, with_ldap(ldap_runtime, missing))
        assert f"searching users under ou=nobody,{org.base}" in message
        assert "noSuchObject" in message and "auth.ldap.users_base_dn" in message

    def test_the_bind_password_never_appears_in_logs_or_stored_errors(
        self,
        session: Session,
        ldap_runtime: Runtime,
        slapd: Slapd,
        org: Organisation,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        wrong = "wrong-" + slapd.reader_password
        with caplog.at_level(logging.DEBUG):
            sync(session, ldap_runtime)
            sync(session, with_ldap(ldap_runtime, ldap_settings(slapd, org, bind_password=wrong)))
        logged = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
        assert "LDAP directory read" in logged
        assert slapd.reader_password not in logged
        assert all(slapd.reader_password not in e.message for e in stored_errors(session))

    def test_a_server_that_does_not_answer_fails_after_the_timeout(self) -> None:
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
            settings = LdapSettings(url=url, users_base_dn=SUFFIX, timeout_seconds=0.2)
            started = time.monotonic()
            with pytest.raises(LdapSyncError, match="timed out") as error:
                LdapProvider(settings).read()
        assert time.monotonic() - started < 3
        assert "auth.ldap.timeout_seconds" in error.value.message

    def test_an_empty_users_base_dn_says_which_setting_to_fill(self) -> None:
        provider = LdapProvider(LdapSettings(url="ldap://127.0.0.1:1"))
        with pytest.raises(LdapSyncError, match=r"auth\.ldap\.users_base_dn is empty"):
            provider.read()


class TestStartTls:
    def test_start_tls_trusts_the_certificate_signed_by_the_ca_file(
        self, slapd: Slapd, org: Organisation
    ) -> None:
        settings = ldap_settings(slapd, org, start_tls=True, ca_file=slapd.certificate)
        assert len(LdapProvider(settings).read()) == len(EVERYONE)

    def test_start_tls_refuses_a_certificate_no_trusted_ca_signed(
        self, slapd: Slapd, org: Organisation
    ) -> None:
        with pytest.raises(LdapSyncError) as error:
            LdapProvider(ldap_settings(slapd, org, start_tls=True)).read()
        assert error.value.message.startswith(f"StartTLS with {slapd.url} failed: ")
        assert "CERTIFICATE_VERIFY_FAILED" in error.value.message
        assert "auth.ldap.ca_file" in error.value.message


class TestRegistrationAndSchedule:
    def test_the_provider_is_registered_only_when_a_url_is_set(
        self, runtime: Runtime, ldap_runtime: Runtime
    ) -> None:
        assert "ldap" not in {p.name for p in runtime.catalog.providers}
        [provider] = [p for p in ldap_runtime.catalog.providers if p.name == "ldap"]
        assert isinstance(provider, EntityProvider)

    def test_the_provider_is_scheduled_at_its_own_interval_and_0_means_on_demand(
        self, ldap_runtime: Runtime, slapd: Slapd, org: Organisation
    ) -> None:
        assert jobs.provider_schedule(ldap_runtime)["ldap"] == 3600
        on_demand = with_ldap(ldap_runtime, ldap_settings(slapd, org, interval_seconds=0))
        assert "ldap" not in jobs.provider_schedule(on_demand)

    def test_catalog_refresh_with_provider_ldap_syncs_on_demand(
        self,
        database_url: str,
        tmp_path: Path,
        slapd: Slapd,
        org: Organisation,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        environment = {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path / "data"),
            "AUTH__LDAP__URL": slapd.url,
            "AUTH__LDAP__BIND_DN": slapd.reader_dn,
            "AUTH__LDAP__BIND_PASSWORD": slapd.reader_password,
            "AUTH__LDAP__USERS_BASE_DN": org.people,
            "AUTH__LDAP__GROUPS_BASE_DN": org.teams,
        }
        for name, value in environment.items():
            monkeypatch.setenv(f"PAVEDROAD_{name}", value)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["catalog", "refresh", "--provider", "ldap"])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert f"'created': {len(EVERYONE)}" in result.stdout


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("alice", "alice"),
        ("Jane.Doe", "jane.doe"),
        ("Zoë.Müller", "zoe.muller"),
        ("Platform Team", "platform-team"),
        ("R&D / Berlin", "r-d-berlin"),
        ("Straße", "strasse"),
        ("--x--", "x"),
        ("a" * 70, "a" * 63),
        ("日本", ""),
    ],
)
def test_names_are_normalised_to_valid_backstage_names(value: str, name: str) -> None:
    assert entity_name(value) == name
