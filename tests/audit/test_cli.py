"""``pavedroad audit``: the newest events, filters, the presets, exports and retention."""

from __future__ import annotations

import csv
import getpass
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pavedroad.audit.models import AuditEvent
from pavedroad.cli import app
from pavedroad.cli_support import out_console
from pavedroad.config import get_settings
from tests.audit.conftest import dated_event, deployment, failed_sign_in, many_events

runner = CliRunner()
OPERATOR = f"system:cli/{getpass.getuser()}"  # who runs a command without PAVEDROAD_TOKEN


@pytest.fixture(autouse=True)
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    # pytest-xdist workers run with COLUMNS=80, which the console read when it was made.
    monkeypatch.setattr(out_console, "width", 200)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def log(session: Session) -> Session:
    deployment(session, "production")
    deployment(session, "staging")
    failed_sign_in(session, ip="198.51.100.7")
    session.commit()
    return session


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def count(session: Session) -> int:
    session.rollback()  # a fresh snapshot: the command wrote through its own connection
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


class TestList:
    def test_audit_alone_shows_the_newest_events_as_a_table(self, log: Session) -> None:
        code, out, _ = run("audit")
        assert code == 0
        assert "Time (UTC)" in out and "Actor" in out and "Action" in out
        assert out.index("auth.failed") < out.index("deployment.trigger")
        assert "component:default/checkout" in out

    def test_a_preset_is_one_option_and_shows_its_columns(self, log: Session) -> None:
        code, out, _ = run("audit", "list", "--preset", "failed-sign-ins")
        assert code == 0
        assert "IP address" in out and "Reason" in out
        assert "198.51.100.7" in out and "bad-password" in out
        assert "deployment.trigger" not in out

    def test_filters_and_json_output(self, log: Session) -> None:
        code, out, _ = run(
            "audit",
            "list",
            "--action",
            "deployment.*",
            "--where",
            "details.environment=staging",
            "-o",
            "json",
        )
        assert code == 0
        [event] = json.loads(out)
        assert (event["action"], event["metadata"]["environment"]) == (
            "deployment.trigger",
            "staging",
        )

    def test_yaml_output_and_a_limit(self, session: Session) -> None:
        many_events(session, 5)
        session.commit()
        code, out, _ = run("audit", "list", "--limit", "2", "--output", "yaml")
        assert code == 0
        assert [event["metadata"]["index"] for event in yaml.safe_load_all(out)] == [4, 3]

    def test_more_than_shown_says_how_to_see_the_rest(self, session: Session) -> None:
        many_events(session, 3)
        session.commit()
        _, _, err = run("audit", "list", "--limit", "2")
        assert "Showing the newest 2" in err

    def test_no_match_says_what_to_try(self, log: Session) -> None:
        code, _, err = run("audit", "list", "--actor", "user:default/nobody")
        assert code == 0
        assert "No audit events match" in err

    @pytest.mark.parametrize(
        ("args", "named"),
        [
            (("--since", "yesterday"), "--since"),
            (("--preset", "deploys"), "--preset"),
            (("--limit", "0"), "--limit"),
            (("--result", "ok"), "--result"),
            (("--where", "env=prod"), "--where"),
        ],
    )
    def test_bad_input_exits_1_naming_the_option(
        self, log: Session, args: tuple[str, str], named: str
    ) -> None:
        code, out, err = run("audit", "list", *args)
        assert code == 1
        assert f"error: {named}: " in err
        assert out == ""


class TestExport:
    def test_csv_to_a_file_is_every_match_and_is_recorded(
        self, log: Session, environment: Path
    ) -> None:
        target = environment / "deployments.csv"
        code, _, err = run(
            "audit",
            "export",
            "--preset",
            "recent-deployments",
            "--format",
            "csv",
            "--file",
            str(target),
        )
        assert code == 0, err
        assert f"Exported 2 event(s) to {target}" in err
        rows = list(csv.DictReader(target.open(encoding="utf-8")))
        assert [json.loads(row["metadata"])["environment"] for row in rows] == [
            "staging",
            "production",
        ]
        log.rollback()
        exported = log.scalars(select(AuditEvent).where(AuditEvent.event == "audit.exported")).one()
        assert exported.actor == OPERATOR
        assert exported.details == {
            "format": "csv",
            "filters": {"preset": "recent-deployments"},
        }

    def test_json_lines_to_stdout(self, log: Session) -> None:
        code, out, _ = run("audit", "export", "--result", "failed")
        assert code == 0
        [line] = [json.loads(line) for line in out.splitlines()]
        assert line["action"] == "auth.failed"

    @pytest.mark.parametrize(
        ("args", "named"),
        [(("--format", "xml"), "--format"), (("--since", "a while"), "--since")],
    )
    def test_bad_input_exits_1_and_records_nothing(
        self, log: Session, args: tuple[str, str], named: str
    ) -> None:
        code, _, err = run("audit", "export", *args)
        assert code == 1
        assert f"error: {named}: " in err
        assert count(log) == 3


class TestPrune:
    def test_prune_applies_the_retention_and_says_how_many_went(self, session: Session) -> None:
        dated_event(session, timedelta(days=100))
        dated_event(session, timedelta(days=10))
        session.commit()
        code, out, _ = run("audit", "prune")
        assert code == 0
        assert "Deleted 1 audit event(s) older than 90 day(s)." in out
        code, out, _ = run("audit", "prune", "--days", "5")
        assert "Deleted 1 audit event(s) older than 5 day(s)." in out
        pruned = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.event == "audit.retention.pruned")
        ).all()
        assert pruned == [OPERATOR] * 2

    def test_a_retention_under_a_day_exits_1(self, session: Session) -> None:
        code, _, err = run("audit", "prune", "--days", "0")
        assert code == 1
        assert "at least 1 day" in err
        assert count(session) == 0
