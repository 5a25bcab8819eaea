"""Our verdict equals Backstage's on every file of ../shared/conformance/catalog.

The expected files were produced by Backstage itself (see the folder's README): which entities
exist, their kind/namespace/name/title/type/owner, their relations, which files were refused
and why (the category of each error), which conflicts arose and who kept the entity.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.catalog import queries, service
from pavedroad.catalog.models import Entity, EntityRelation, IngestionError, Location
from pavedroad.core.actors import Actor
from pavedroad.runtime import Runtime, build_runtime
from tests.conftest import CONFORMANCE

CATALOG = CONFORMANCE / "catalog"
EXAMPLES = CATALOG / "examples"
INVALID = CATALOG / "invalid-sample"
PRE_VALIDATION_STAGES = {"read", "syntax", "envelope"}


def expected(name: str) -> dict[str, Any]:
    return json.loads((CATALOG / name).read_text())


def register(session: Session, runtime: Runtime, folder: Path, files: list[str]) -> None:
    targets = [("file", str(folder / file)) for file in files]
    service.register_locations(session, runtime.catalog, targets, actor=Actor("user:default/t"))
    session.commit()


def stored_entities(session: Session) -> dict[str, dict[str, Any]]:
    return {row.ref: json.loads(row.body) for row in session.scalars(select(Entity))}


def served_relations(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The relations each entity is served with (its stitched JSON), in the order served."""
    served = {}
    for ref in session.scalars(select(Entity.ref)):
        row = queries.entity_row(session, ref)
        assert row is not None
        served[ref] = [(r["type"], r["targetRef"]) for r in json.loads(row[3])]
    return served


def relative_file(session: Session, folder: Path, error: IngestionError) -> str:
    location = session.get(Location, error.location_id)
    assert location is not None and error.file is not None
    root = Path(location.target).parent
    # Files are stored relative to their location's tree; the expected data names them
    # relative to the set's folder.
    return str((root / error.file).resolve().relative_to(folder.resolve()))


@pytest.mark.parametrize(
    "expected_file", ["examples.expected.json", "examples-all-files.expected.json"]
)
class TestBackstageExamples:
    def test_the_same_entities_exist_with_the_same_fields(
        self, session: Session, runtime: Runtime, expected_file: str
    ) -> None:
        run = expected(expected_file)["runs"][0]
        register(session, runtime, EXAMPLES, run["registered_locations"])
        entities = stored_entities(session)
        assert set(entities) == {e["ref"] for e in run["entities"]}
        for want in run["entities"]:
            got = entities[want["ref"]]
            spec = got.get("spec") or {}
            assert (got["kind"], got["metadata"]["namespace"], got["metadata"]["name"]) == (
                want["kind"],
                want["namespace"],
                want["name"],
            )
            assert got["metadata"].get("title") == want["title"]
            assert spec.get("type") == want["spec_type"]
            assert spec.get("owner") == want["spec_owner"]

    def test_every_entity_has_backstages_relations(
        self, session: Session, runtime: Runtime, expected_file: str
    ) -> None:
        run = expected(expected_file)["runs"][0]
        register(session, runtime, EXAMPLES, run["registered_locations"])
        relations = served_relations(session)
        for want in run["entities"]:
            wanted = sorted((r["type"], r["targetRef"]) for r in want["relations"])
            assert relations[want["ref"]] == wanted, want["ref"]

    def test_the_stored_relation_rows_equal_backstages_as_a_multiset(
        self, session: Session, runtime: Runtime, expected_file: str
    ) -> None:
        run = expected(expected_file)["runs"][0]
        register(session, runtime, EXAMPLES, run["registered_locations"])
        rows = Counter(
            tuple(row)
            for row in session.execute(
                select(EntityRelation.source_ref, EntityRelation.type, EntityRelation.target_ref)
            )
        )
        assert rows == Counter(tuple(row) for row in run["relation_rows"])

    def test_refused_files_and_error_categories_match(
        self, session: Session, runtime: Runtime, expected_file: str
    ) -> None:
        run = expected(expected_file)["runs"][0]
        register(session, runtime, EXAMPLES, run["registered_locations"])
        errors = [e for e in session.scalars(select(IngestionError)) if e.category != "conflict"]
        got = Counter((relative_file(session, EXAMPLES, e), e.category) for e in errors)
        want = Counter((e["file"], e["category"]) for e in run["errors"])
        assert got == want
        for error in errors:
            assert error.line is not None, error.message
            assert error.hint, error.message

    def test_conflicts_keep_the_entity_where_backstage_kept_it_and_store_an_error(
        self, session: Session, runtime: Runtime, expected_file: str
    ) -> None:
        run = expected(expected_file)["runs"][0]
        register(session, runtime, EXAMPLES, run["registered_locations"])
        conflicts = [e for e in session.scalars(select(IngestionError)) if e.category == "conflict"]
        assert len(conflicts) == len(run["conflicts"])
        for want in run["conflicts"]:
            [error] = [c for c in conflicts if c.entity_ref == want["entity_ref"]]
            assert relative_file(session, EXAMPLES, error) == want["rejected_from"]
            kept = session.scalar(select(Entity).where(Entity.ref == want["entity_ref"]))
            assert kept is not None
            location = session.get(Location, kept.location_id)
            assert location is not None
            assert Path(location.target).relative_to(EXAMPLES) == Path(want["kept_from"])
            assert want["kept_from"].split("/")[-1] in error.message


INVALID_FILES = sorted(expected("invalid-sample.expected.json")["files"].items())


@pytest.mark.parametrize(("file", "verdict"), INVALID_FILES, ids=[f for f, _ in INVALID_FILES])
def test_each_invalid_sample_is_refused_for_backstages_reason(
    session: Session, runtime: Runtime, file: str, verdict: dict[str, Any]
) -> None:
    register(session, runtime, INVALID, [file])
    assert stored_entities(session) == {}
    errors = list(session.scalars(select(IngestionError)))
    assert [e.category for e in errors] == [verdict["category"]]
    assert (errors[0].stage in PRE_VALIDATION_STAGES) is verdict["location_fatal"]
    assert errors[0].line is not None
    assert errors[0].hint


def test_the_invalid_kind_is_refused_for_its_format_once_the_rules_allow_it(
    session: Session, runtime: Runtime
) -> None:
    verdict = expected("invalid-sample.expected.json")["files"]["10-kind-invalid-chars.yaml"]
    allowed = verdict["if_catalog_rules_allowed_the_kind"]
    catalog_settings = runtime.settings.catalog.model_copy(
        update={"allowed_kinds": allowed["catalog_rules_allow"]}
    )
    permissive = build_runtime(
        runtime.settings.model_copy(update={"catalog": catalog_settings}), db=runtime.db
    )
    register(session, permissive, INVALID, ["10-kind-invalid-chars.yaml"])
    errors = list(session.scalars(select(IngestionError)))
    assert [e.category for e in errors] == [allowed["errors"][0]["category"]]
    assert (errors[0].stage in PRE_VALIDATION_STAGES) is allowed["location_fatal"]
