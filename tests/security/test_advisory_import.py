"""Importing OSV records: the real PyPA database, zips, single files, and bad records."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pavedroad.cli import app
from pavedroad.config import get_settings
from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError
from pavedroad.security.advisories import PackageVersion, import_advisories, vulnerabilities_of
from pavedroad.security.advisories.models import Advisory
from tests.conftest import SHARED

PYPA = SHARED / "advisories" / "pypa" / "vulns"
ACTOR = Actor("user:default/tester")


def record(
    record_id: str, *, modified: str = "2024-01-01T00:00:00Z", **extra: object
) -> dict[str, Any]:
    return {
        "id": record_id,
        "modified": modified,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Example_Pkg"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}
                ],
            }
        ],
        **extra,
    }


def write_records(folder: Path, *records: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for item in records:
        (folder / f"{item['id']}.json").write_text(json.dumps(item))
    return folder


def vulnerable(session: Session, name: str, version: str) -> list[str]:
    package = PackageVersion("PyPI", name, version)
    return [v.advisory_id for v in vulnerabilities_of(session, [package])[package]]


def test_the_pypa_database_imports_whole_and_old_pins_match_with_their_fixes(
    session: Session, tmp_path: Path
) -> None:
    report = import_advisories(session, PYPA, actor=ACTOR)
    session.commit()

    assert report.read > 2600
    assert report.added == session.scalar(select(func.count()).select_from(Advisory))
    assert report.added + len(report.refused) == report.read
    package = PackageVersion("PyPI", "Django", "2.2.0")
    found = {v.advisory_id: v for v in vulnerabilities_of(session, [package])[package]}
    assert "PYSEC-2019-13" in found
    assert found["PYSEC-2019-13"].fixed == "2.2.4"
    assert found["PYSEC-2019-13"].fix_text == "upgrade Django 2.2.0 → 2.2.4"
    assert "CVE-2019-14234" in found["PYSEC-2019-13"].aliases
    assert vulnerable(session, "django", "4.2.16") == []


def test_importing_the_same_records_again_changes_nothing(session: Session, tmp_path: Path) -> None:
    folder = write_records(tmp_path / "osv", record("PYSEC-1"), record("PYSEC-2"))
    import_advisories(session, folder, actor=ACTOR)
    session.commit()

    again = import_advisories(session, folder, actor=ACTOR)

    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_a_record_whose_modified_time_moved_on_replaces_the_stored_one(
    session: Session, tmp_path: Path
) -> None:
    import_advisories(session, write_records(tmp_path / "a", record("PYSEC-1")), actor=ACTOR)
    session.commit()
    newer = record("PYSEC-1", modified="2024-06-01T00:00:00Z")
    newer["affected"][0]["ranges"][0]["events"][1] = {"fixed": "1.3"}

    report = import_advisories(session, write_records(tmp_path / "b", newer), actor=ACTOR)
    session.commit()

    assert report.updated == 1
    package = PackageVersion("PyPI", "example-pkg", "1.2.5")
    assert [v.fixed for v in vulnerabilities_of(session, [package])[package]] == ["1.3"]


def test_an_older_copy_of_a_record_does_not_overwrite_a_newer_one(
    session: Session, tmp_path: Path
) -> None:
    import_advisories(
        session,
        write_records(tmp_path / "a", record("PYSEC-1", modified="2024-06-01T00:00:00Z")),
        actor=ACTOR,
    )
    session.commit()
    report = import_advisories(
        session, write_records(tmp_path / "b", record("PYSEC-1")), actor=ACTOR
    )
    assert report.unchanged == 1


def test_a_withdrawn_advisory_is_kept_but_never_matches(session: Session, tmp_path: Path) -> None:
    withdrawn = record("PYSEC-9", withdrawn="2024-02-01T00:00:00Z")
    report = import_advisories(session, write_records(tmp_path / "osv", withdrawn), actor=ACTOR)
    session.commit()

    assert report.withdrawn == 1
    assert vulnerable(session, "example-pkg", "1.0") == []


def test_aliases_find_the_advisory(session: Session, tmp_path: Path) -> None:
    aliased = record("GHSA-xxxx-yyyy-zzzz", aliases=["CVE-2024-0001"])
    import_advisories(session, write_records(tmp_path / "osv", aliased), actor=ACTOR)
    session.commit()
    package = PackageVersion("PyPI", "example.pkg", "1.0")
    assert vulnerabilities_of(session, [package])[package][0].aliases == ("CVE-2024-0001",)


def test_bad_records_are_refused_with_the_reason_and_good_ones_still_import(
    session: Session, tmp_path: Path
) -> None:
    folder = write_records(tmp_path / "osv", record("PYSEC-1"))
    import_advisories(session, folder, actor=ACTOR)
    session.commit()
    bad_range = record("PYSEC-2")
    bad_range["affected"][0]["ranges"][0]["events"][1] = {"fixed": "one point two"}
    unknown = record("HACKAGE-1")
    unknown["affected"][0]["package"]["ecosystem"] = "Hackage"
    mixed = record("PYSEC-4")
    mixed["affected"].append({"package": {"ecosystem": "Debian:11", "name": "python3"}})
    write_records(folder, bad_range, unknown, mixed, record("PYSEC-3"))
    (folder / "broken.json").write_text("{ not json")
    (folder / "no-id.yaml").write_text("modified: 2024-01-01T00:00:00Z\naffected: []\n")

    report = import_advisories(session, folder, actor=ACTOR)
    session.commit()

    problems = dict(report.refused)
    assert "no range or version that can be evaluated" in problems[str(folder / "PYSEC-2.json")]
    assert "not a PEP 440 version" in problems[str(folder / "PYSEC-2.json")]
    assert "'Hackage' is not supported" in problems[str(folder / "HACKAGE-1.json")]
    assert "not valid JSON" in problems[str(folder / "broken.json")]
    assert "no id" in problems[str(folder / "no-id.yaml")]
    assert ("PYSEC-4", "affected[1]: ecosystem 'Debian:11' is not supported") in report.notes
    assert (report.added, report.unchanged) == (2, 1)
    assert sorted(vulnerable(session, "example-pkg", "1.0")) == ["PYSEC-1", "PYSEC-3", "PYSEC-4"]


def test_an_osv_export_zip_and_a_single_record_file_import(
    session: Session, tmp_path: Path
) -> None:
    archive = tmp_path / "PyPI.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("PYSEC-1", "PYSEC-2"):
            zipped.writestr(f"{name}.json", json.dumps(record(name)))
    single = tmp_path / "one" / "PYSEC-2019-13.yaml"
    single.parent.mkdir()
    shutil.copy(PYPA / "django" / "PYSEC-2019-13.yaml", single)

    from_zip = import_advisories(session, archive, actor=ACTOR)
    from_file = import_advisories(session, single, actor=ACTOR)

    assert from_zip.added == 2
    assert from_file.added == 1


def test_a_path_that_is_not_an_advisory_source_says_what_to_give(
    tmp_path: Path, session: Session
) -> None:
    with pytest.raises(InputError, match="does not exist"):
        import_advisories(session, tmp_path / "missing", actor=ACTOR)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InputError, match="neither a zip"):
        import_advisories(session, text, actor=ACTOR)


def test_a_malformed_range_is_left_out_and_the_records_explicit_versions_still_match(
    session: Session, tmp_path: Path
) -> None:
    partly = record(
        "PYSEC-5",
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "example-pkg"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.2.0-n653"}]}
                ],
                "versions": ["0.1.0"],
            }
        ],
    )

    report = import_advisories(session, write_records(tmp_path / "osv", partly), actor=ACTOR)
    session.commit()

    assert report.added == 1
    assert report.notes == [
        ("PYSEC-5", "affected[0] ranges[0] left out: fixed: '0.2.0-n653' is not a PEP 440 version")
    ]
    assert vulnerable(session, "example-pkg", "0.1.0") == ["PYSEC-5"]
    assert vulnerable(session, "example-pkg", "0.1.5") == []


def test_the_cli_imports_and_answers_what_affects_a_pin(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        imported = runner.invoke(app, ["advisories", "import", str(PYPA / "django")])
        checked = runner.invoke(app, ["advisories", "check", "PyPI", "Django", "2.2.0"])
    finally:
        get_settings.cache_clear()

    assert imported.exit_code == 0, imported.output
    assert "added" in imported.output
    assert checked.exit_code == 0, checked.output
    assert "PYSEC-2019-13" in checked.output
    assert "upgrade Django 2.2.0 → 2.2.4" in checked.output
