"""Registering and refreshing locations: all-or-nothing files, moves, conflicts, orphans, git."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavedroad import demo
from pavedroad.audit.models import AuditEvent
from pavedroad.catalog import queries, service
from pavedroad.catalog.models import Entity, EntityRelation, IngestionError
from pavedroad.catalog.sources import infer_type
from pavedroad.core.actors import Actor
from pavedroad.core.errors import ConflictError, InputError
from pavedroad.runtime import Runtime
from tests.conftest import git
from tests.helpers import component, group, location, write, write_entities


def register(
    session: Session, runtime: Runtime, *targets: str | Path, type_: str = "file"
) -> list[service.LocationRefresh]:
    result = service.register_locations(
        session, runtime.catalog, [(type_, str(t)) for t in targets], actor=Actor("user:default/t")
    )
    session.commit()
    return result


def refresh_all(session: Session, runtime: Runtime) -> list[service.LocationRefresh]:
    ids = list(service.iter_location_ids(session))
    result = service.refresh_locations(session, runtime.catalog, ids, actor=Actor("user:default/t"))
    session.commit()
    return result


def refs(session: Session) -> set[str]:
    return set(session.scalars(select(Entity.ref)))


def uid_of(session: Session, ref: str) -> str:
    uid = session.scalar(select(Entity.uid).where(Entity.ref == ref))
    assert uid is not None
    return uid


def errors(session: Session) -> list[IngestionError]:
    return list(session.scalars(select(IngestionError).order_by(IngestionError.id)))


def audit(session: Session, event: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.event == event)))


class TestAllOrNothingFiles:
    def test_a_file_with_one_invalid_document_is_refused_whole_with_its_line(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        bad = component("broken")
        del bad["spec"]["owner"]
        write_entities(tmp_path / "a.yaml", component("good"), bad)
        write_entities(tmp_path / "b.yaml", component("other"))
        register(session, runtime, tmp_path / "*.yaml", type_="glob")
        assert refs(session) == {"component:default/other"}
        [error] = errors(session)
        assert (error.file, error.document_index, error.line) == ("a.yaml", 1, 14)
        assert error.field == "spec.owner"
        assert error.entity_ref == "component:default/broken"
        assert error.hint == 'e.g. "owner: team-payments"'

    def test_breaking_a_file_keeps_what_it_held_until_it_is_fixed(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "catalog-info.yaml", component("svc"), component("lib"))
        register(session, runtime, path)
        uid = uid_of(session, "component:default/svc")
        write(path, "kind: Component\nmetadata: {name: svc\n")
        refresh_all(session, runtime)
        assert refs(session) == {"component:default/svc", "component:default/lib"}
        assert [e.category for e in errors(session)] == ["yaml-syntax"]
        write_entities(path, component("svc"))
        refresh_all(session, runtime)
        assert refs(session) == {"component:default/svc"}
        assert uid_of(session, "component:default/svc") == uid
        assert errors(session) == []

    def test_a_broken_location_file_keeps_everything_reached_through_it(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        root = write_entities(tmp_path / "all.yaml", location("all", "./teams/index.yaml"))
        write_entities(tmp_path / "teams/index.yaml", location("teams", "./a.yaml"))
        write_entities(tmp_path / "teams/a.yaml", group("team-a"))
        register(session, runtime, root)
        assert "group:default/team-a" in refs(session)
        write(tmp_path / "teams/index.yaml", "- not a mapping\n")
        refresh_all(session, runtime)
        assert "group:default/team-a" in refs(session)
        assert [e.category for e in errors(session)] == ["document-not-an-object"]

    def test_the_same_ref_twice_in_one_file_is_the_later_document(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        first = component("svc")
        second = component("svc", owner="team-b")
        register(session, runtime, write_entities(tmp_path / "c.yaml", first, second))
        body = session.scalar(select(Entity.body))
        assert body is not None and json.loads(body)["spec"]["owner"] == "team-b"
        assert errors(session) == []


class TestBadInput:
    """Each bad input gets a clear stored error and changes nothing that was there before."""

    @pytest.fixture
    def existing(self, session: Session, runtime: Runtime, tmp_path: Path) -> Path:
        repo = tmp_path / "repo"
        register(session, runtime, write_entities(repo / "keep.yaml", component("kept")))
        return repo

    def assert_refused(
        self, session: Session, runtime: Runtime, path: Path, category: str
    ) -> IngestionError:
        register(session, runtime, path)
        assert refs(session) == {"component:default/kept"}
        stored = [e for e in errors(session) if e.category == category]
        assert stored, [e.message for e in errors(session)]
        assert stored[0].hint
        return stored[0]

    def test_malformed_yaml(self, session: Session, runtime: Runtime, existing: Path) -> None:
        path = write(existing / "bad.yaml", "kind: Component\nmetadata:\n  name: [oops\n")
        error = self.assert_refused(session, runtime, path, "yaml-syntax")
        assert error.line == 4

    def test_a_file_of_50_megabytes(
        self, session: Session, runtime: Runtime, existing: Path
    ) -> None:
        path = existing / "huge.yaml"
        with open(path, "wb") as handle:
            handle.truncate(50 * 1024 * 1024)
        error = self.assert_refused(session, runtime, path, "location-read-failed")
        assert "50.0 MB" in error.message and "10.0 MB" in error.message

    @pytest.mark.parametrize("content", ["- a\n- b\n", "just a string\n", "42\n"])
    def test_a_document_that_is_a_list_or_a_scalar(
        self, session: Session, runtime: Runtime, existing: Path, content: str
    ) -> None:
        path = write(existing / "odd.yaml", content)
        self.assert_refused(session, runtime, path, "document-not-an-object")

    def test_duplicate_keys(self, session: Session, runtime: Runtime, existing: Path) -> None:
        text = (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nkind: API\nmetadata: {name: x}\n"
        )
        error = self.assert_refused(
            session, runtime, write(existing / "dup.yaml", text), "yaml-syntax"
        )
        assert error.line == 3 and "duplicate key" in error.message

    def test_a_name_of_64_characters(
        self, session: Session, runtime: Runtime, existing: Path
    ) -> None:
        path = write_entities(existing / "long.yaml", component("n" * 64))
        error = self.assert_refused(session, runtime, path, "field-format:metadata.name")
        assert (error.line, error.field) == (4, "metadata.name")

    def test_unicode_look_alikes_in_names(
        self, session: Session, runtime: Runtime, existing: Path
    ) -> None:
        path = write_entities(existing / "spoof.yaml", component("k\u0435pt"))  # Cyrillic e
        error = self.assert_refused(session, runtime, path, "field-format:metadata.name")
        assert "CYRILLIC SMALL LETTER IE" in error.message

    def test_a_location_that_points_to_itself(
        self, session: Session, runtime: Runtime, existing: Path
    ) -> None:
        path = write_entities(existing / "self.yaml", location("me", "./self.yaml"))
        error = self.assert_refused(session, runtime, path, "location-cycle")
        assert "points to itself" in error.message

    def test_a_loop_of_locations_refuses_the_file_that_closes_it(
        self, session: Session, runtime: Runtime, existing: Path
    ) -> None:
        first = write_entities(existing / "one.yaml", location("one", "./two.yaml"))
        write_entities(existing / "two.yaml", location("two", "./one.yaml"))
        register(session, runtime, first)
        assert refs(session) == {"component:default/kept", "location:default/one"}
        [error] = errors(session)
        assert (error.category, error.file) == ("location-cycle", "two.yaml")
        assert "one.yaml → two.yaml → one.yaml" in error.message

    @pytest.mark.parametrize(
        "reference",
        ["../../etc/passwd", "/etc/passwd", "https://example.com/spec.yaml", "file:///etc/passwd"],
    )
    def test_a_text_placeholder_that_leaves_the_repository(
        self, session: Session, runtime: Runtime, existing: Path, reference: str
    ) -> None:
        api = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "leaky"},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "a",
                "definition": {"$text": reference},
            },
        }
        path = write_entities(existing / "leaky.yaml", api)
        error = self.assert_refused(session, runtime, path, "placeholder-read-failed")
        assert error.field == "spec.definition.$text"

    def test_a_symlink_out_of_the_repository_is_not_followed(
        self, session: Session, runtime: Runtime, existing: Path, tmp_path: Path
    ) -> None:
        secret = write(tmp_path / "outside" / "secret.txt", "s3cret")
        (existing / "spec.yaml").symlink_to(secret)
        api = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "linked"},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "a",
                "definition": {"$text": "./spec.yaml"},
            },
        }
        path = write_entities(existing / "linked.yaml", api)
        error = self.assert_refused(session, runtime, path, "placeholder-read-failed")
        assert "outside" in error.message
        assert "s3cret" not in json.dumps([e.message for e in errors(session)])

    def test_an_unreachable_git_url_registers_nothing_and_says_why(
        self, session: Session, runtime: Runtime, existing: Path, tmp_path: Path
    ) -> None:
        with pytest.raises(InputError) as error:
            register(session, runtime, f"file://{tmp_path}/no-such-repo.git", type_="git")
        assert "cannot read git repository" in error.value.message
        session.rollback()
        assert refs(session) == {"component:default/kept"}
        assert len(service.list_locations(session)) == 1


class TestPlaceholders:
    def test_text_json_and_yaml_are_read_relative_to_the_descriptor(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        write(tmp_path / "apis/spec.yaml", "openapi: 3.0.0\n")
        write(tmp_path / "apis/extra.json", '{"port": 8080}')
        api = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "orders"},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "a",
                "definition": {"$text": "./spec.yaml"},
                "extra": {"$json": "./extra.json"},
                "again": {"$yaml": "spec.yaml"},
            },
        }
        register(session, runtime, write_entities(tmp_path / "apis/orders.yaml", api))
        body = json.loads(session.scalar(select(Entity.body)) or "{}")
        assert body["spec"]["definition"] == "openapi: 3.0.0\n"
        assert body["spec"]["extra"] == {"port": 8080}
        assert body["spec"]["again"] == {"openapi": "3.0.0"}


class TestMovesConflictsAndOrphans:
    def test_a_descriptor_moved_within_its_repository_keeps_its_uid(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        old = write_entities(tmp_path / "services/old/catalog-info.yaml", component("svc"))
        register(session, runtime, tmp_path, type_="dir")
        uid = uid_of(session, "component:default/svc")
        old.unlink()
        write_entities(tmp_path / "services/new/catalog-info.yaml", component("svc"))
        [result] = refresh_all(session, runtime)
        assert uid_of(session, "component:default/svc") == uid
        assert (result.report.moved, result.report.deleted, result.report.conflicts) == (1, 0, 0)
        [moved] = audit(session, "catalog.entity.moved")
        assert moved.details == {
            "from": "services/old/catalog-info.yaml",
            "to": "services/new/catalog-info.yaml",
        }

    def test_a_second_location_claiming_a_ref_gets_an_error_naming_both(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        first = write_entities(tmp_path / "one/catalog-info.yaml", component("svc"))
        second = write_entities(
            tmp_path / "two/catalog-info.yaml", component("svc", owner="team-b")
        )
        register(session, runtime, first)
        register(session, runtime, second)
        owner = json.loads(session.scalar(select(Entity.body)) or "{}")["spec"]["owner"]
        assert owner == "team-a"
        [error] = errors(session)
        assert error.category == "conflict"
        assert str(first) in error.message and "two" not in str(first)
        assert error.location_id != session.scalar(select(Entity.location_id))
        refresh_all(session, runtime)
        assert len(errors(session)) == 1  # still visible after a refresh, not duplicated

    def test_entities_that_vanish_are_deleted_and_the_deletion_recorded(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "c.yaml", component("a"), component("b"))
        register(session, runtime, path)
        uid = uid_of(session, "component:default/b")
        write_entities(path, component("a"))
        [result] = refresh_all(session, runtime)
        assert refs(session) == {"component:default/a"}
        assert result.report.deleted == 1
        [deleted] = audit(session, "catalog.entity.deleted")
        assert deleted.target == "component:default/b"
        assert deleted.details["uid"] == uid
        assert (
            session.scalar(
                select(func.count())
                .select_from(EntityRelation)
                .where(EntityRelation.source_ref == "component:default/b")
            )
            == 0
        )

    def test_uids_are_stable_and_etags_change_with_content(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "c.yaml", component("a"))
        register(session, runtime, path)
        before = json.loads(session.scalar(select(Entity.body)) or "{}")["metadata"]
        [unchanged] = refresh_all(session, runtime)
        assert unchanged.report.unchanged == 1
        write_entities(path, component("a", owner="team-z"))
        [changed] = refresh_all(session, runtime)
        after = json.loads(session.scalar(select(Entity.body)) or "{}")["metadata"]
        assert changed.report.updated == 1
        assert after["uid"] == before["uid"] and after["etag"] != before["etag"]

    def test_an_entitys_relations_follow_what_other_locations_add_and_remove(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        def served(ref: str) -> list[dict[str, str]]:
            row = queries.entity_row(session, ref)
            return json.loads(row[3]) if row else []

        register(session, runtime, write_entities(tmp_path / "teams.yaml", group("team-a")))
        assert served("group:default/team-a") == []
        [services] = register(
            session, runtime, write_entities(tmp_path / "svc.yaml", component("svc"))
        )
        assert served("group:default/team-a") == [
            {"type": "ownerOf", "targetRef": "component:default/svc"}
        ]
        service.unregister_location(session, services.location.id, actor=Actor("user:default/t"))
        session.commit()
        assert served("group:default/team-a") == []

    def test_relations_to_missing_entities_are_kept(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        register(
            session, runtime, write_entities(tmp_path / "c.yaml", component("a", owner="nobody"))
        )
        targets = set(session.scalars(select(EntityRelation.target_ref)))
        assert targets == {"group:default/nobody", "component:default/a"}

    def test_registering_the_same_target_twice_is_a_conflict(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        path = write_entities(tmp_path / "c.yaml", component("a"))
        register(session, runtime, path)
        with pytest.raises(ConflictError):
            register(session, runtime, path)

    def test_unregistering_deletes_the_locations_entities_and_records_it(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        [result] = register(
            session, runtime, write_entities(tmp_path / "c.yaml", component("a"), group("g"))
        )
        assert (
            service.unregister_location(session, result.location.id, actor=Actor("user:default/t"))
            == 2
        )
        session.commit()
        assert refs(session) == set()
        assert {e.target for e in audit(session, "catalog.entity.deleted")} == {
            "component:default/a",
            "group:default/g",
        }
        assert len(audit(session, "catalog.location.unregistered")) == 1

    def test_an_entity_deleted_by_request_comes_back_at_the_next_refresh_with_a_new_uid(
        self, session: Session, runtime: Runtime, tmp_path: Path
    ) -> None:
        register(session, runtime, write_entities(tmp_path / "c.yaml", component("a")))
        uid = uid_of(session, "component:default/a")
        service.delete_entity(session, uid, actor=Actor("user:default/t"))
        session.commit()
        assert refs(session) == set()
        refresh_all(session, runtime)
        assert uid_of(session, "component:default/a") != uid


class TestGitLocations:
    @pytest.fixture
    def bare_repo(self, tmp_path: Path) -> tuple[Path, Path]:
        """A bare repository (the "remote") and a working clone that pushes to it."""
        remote = tmp_path / "remote.git"
        git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=tmp_path)
        work = tmp_path / "work"
        git("clone", "--quiet", str(remote), str(work), cwd=tmp_path)
        write_entities(work / "catalog-info.yaml", component("payments"))
        write_entities(work / "services/ledger/catalog-info.yaml", component("ledger"))
        git("add", "-A", cwd=work)
        git("commit", "--quiet", "-m", "first", cwd=work)
        git("push", "--quiet", "origin", "HEAD:main", cwd=work)
        return remote, work

    def push(self, work: Path, message: str) -> None:
        git("add", "-A", cwd=work)
        git("commit", "--quiet", "-m", message, cwd=work)
        git("push", "--quiet", "origin", "HEAD:main", cwd=work)

    def test_a_file_url_bare_repository_is_cloned_and_every_descriptor_read(
        self, session: Session, runtime: Runtime, bare_repo: tuple[Path, Path]
    ) -> None:
        remote, _ = bare_repo
        [result] = register(session, runtime, f"file://{remote}", type_="git")
        assert refs(session) == {"component:default/payments", "component:default/ledger"}
        assert result.location.revision is not None and len(result.location.revision) == 40
        body = json.loads(
            session.scalar(select(Entity.body).where(Entity.ref == "component:default/ledger"))
            or "{}"
        )
        annotation = body["metadata"]["annotations"]["backstage.io/managed-by-location"]
        assert annotation == f"git:file://{remote}#services/ledger/catalog-info.yaml"

    def test_new_commits_are_picked_up_at_refresh(
        self, session: Session, runtime: Runtime, bare_repo: tuple[Path, Path]
    ) -> None:
        remote, work = bare_repo
        register(session, runtime, f"file://{remote}", type_="git")
        write_entities(work / "services/refunds/catalog-info.yaml", component("refunds"))
        (work / "catalog-info.yaml").unlink()
        self.push(work, "second")
        refresh_all(session, runtime)
        assert refs(session) == {"component:default/ledger", "component:default/refunds"}

    def test_a_path_after_the_hash_limits_what_is_read(
        self, session: Session, runtime: Runtime, bare_repo: tuple[Path, Path]
    ) -> None:
        remote, _ = bare_repo
        register(session, runtime, f"file://{remote}#services/**/catalog-info.yaml", type_="git")
        assert refs(session) == {"component:default/ledger"}

    def test_a_local_repository_path_is_read_as_git(
        self, session: Session, runtime: Runtime, bare_repo: tuple[Path, Path]
    ) -> None:
        _, work = bare_repo
        assert infer_type(str(work)) == "git"
        register(session, runtime, work, type_="git")
        assert "component:default/payments" in refs(session)

    def test_a_remote_that_disappears_keeps_the_entities_and_stores_an_error(
        self, session: Session, runtime: Runtime, bare_repo: tuple[Path, Path]
    ) -> None:
        remote, _ = bare_repo
        register(session, runtime, f"file://{remote}", type_="git")
        remote.rename(remote.with_name("moved.git"))
        [result] = refresh_all(session, runtime)
        assert result.unreadable is not None
        assert refs(session) == {"component:default/payments", "component:default/ledger"}
        [error] = errors(session)
        assert (
            error.category == "location-read-failed"
            and "cannot read git repository" in error.message
        )
        assert result.location.status == "failed"


def test_the_demo_organisation_loads_once_without_a_single_error(
    session: Session, runtime: Runtime
) -> None:
    result = demo.load(session, runtime.catalog)
    session.commit()
    assert result is not None
    assert [e.message for e in result.report.errors] == []
    assert demo.load(session, runtime.catalog) is None
    kinds: dict[str, Any] = {}
    for kind in session.scalars(select(Entity.kind_key)):
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds["group"] >= 25 and kinds["user"] >= 50 and kinds["component"] >= 40
    assert kinds["api"] >= 20 and kinds["resource"] >= 15 and kinds["system"] >= 10
