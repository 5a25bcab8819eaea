"""Recording and reading the audit log: what a row holds, every filter, cursors, presets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.audit import service
from pavedroad.audit.filters import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    FilterError,
    FilterInput,
    page_size,
    parse_filters,
    parse_moment,
)
from pavedroad.audit.models import AuditEvent
from pavedroad.audit.queries import Cursor, iter_events, search_events
from tests.audit.conftest import ANN, BOB, dated_event, deployment, failed_sign_in, many_events


def matching(session: Session, limit: int = 100, **filters: Any) -> list[AuditEvent]:
    query = parse_filters(FilterInput(**filters))
    return search_events(session, query, limit=limit).events


def actions(events: list[AuditEvent]) -> list[str]:
    return [event.event for event in events]


class TestRecord:
    @pytest.mark.parametrize(
        ("target", "resource_type"),
        [
            ("component:default/checkout", "catalog-entity"),
            ("user:default/ann", "catalog-entity"),
            ("location:5b0c6f7e-0a43-4d5e-9d0f-7c2b8e1a9f10", "catalog-location"),
            ("provider:hr-export", "catalog-provider"),
            ("account:bob", "account"),
            ("/api/audit/events", ""),
        ],
    )
    def test_the_resource_type_follows_from_the_target_ref(
        self, session: Session, target: str, resource_type: str
    ) -> None:
        service.record(session, actor=ANN, event="x.done", target=target)
        session.flush()
        assert session.scalars(select(AuditEvent.resource_type)).one() == resource_type

    def test_a_given_resource_type_and_result_are_kept(self, session: Session) -> None:
        failed_sign_in(session)
        session.flush()
        event = session.scalars(select(AuditEvent)).one()
        assert (event.resource_type, event.result) == ("identity-account", "failed")

    def test_record_many_takes_the_same_keywords(self, session: Session) -> None:
        service.record_many(
            session,
            actor=BOB,
            event="catalog.entity.deleted",
            items=[("component:default/a", {}), ("location:1", {})],
            result="failed",
        )
        rows = session.execute(select(AuditEvent.resource_type, AuditEvent.result)).all()
        assert sorted(rows) == [("catalog-entity", "failed"), ("catalog-location", "failed")]

    def test_secrets_in_metadata_are_redacted(self, session: Session) -> None:
        service.record(
            session,
            actor=ANN,
            event="identity.token.created",
            target="token:ci",
            details={"name": "ci", "token": "s3cret", "nested": {"password": "p"}},
        )
        session.flush()
        details = session.scalars(select(AuditEvent.details)).one()
        assert details == {"name": "ci", "token": "***", "nested": {"password": "***"}}

    def test_outside_a_request_there_is_no_client_address_or_request_id(
        self, session: Session
    ) -> None:
        deployment(session)
        session.flush()
        event = session.scalars(select(AuditEvent)).one()
        assert (event.client_ip, event.request_id) == (None, None)

    def test_an_unknown_result_is_refused(self, session: Session) -> None:
        with pytest.raises(ValueError, match="success, denied, failed"):
            service.record(session, actor=ANN, event="x", target="y", result="ok")


class TestFilters:
    @pytest.fixture(autouse=True)
    def events(self, session: Session) -> None:
        deployment(session, "production", actor=ANN)
        deployment(session, "staging", actor=BOB, service_name="billing")
        failed_sign_in(session)
        service.record(session, actor=BOB, event="deploymentx.other", target="provider:hr")
        session.commit()

    def test_by_actor(self, session: Session) -> None:
        assert actions(matching(session, actor="user:default/ann")) == ["deployment.trigger"]

    def test_an_entity_ref_matches_whatever_its_case(self, session: Session) -> None:
        assert len(matching(session, actor="User:default/Ann")) == 1

    def test_by_exact_action(self, session: Session) -> None:
        assert len(matching(session, action="deployment.trigger")) == 2

    def test_an_action_prefix_matches_only_below_the_dot(self, session: Session) -> None:
        assert actions(matching(session, action="deployment.*")) == ["deployment.trigger"] * 2

    def test_by_resource_and_resource_type(self, session: Session) -> None:
        assert len(matching(session, resource="component:default/billing")) == 1
        assert actions(matching(session, resource_type="catalog-provider")) == ["deploymentx.other"]

    def test_by_result(self, session: Session) -> None:
        assert actions(matching(session, result="failed")) == ["auth.failed"]

    def test_by_metadata_value(self, session: Session) -> None:
        found = matching(session, where=("details.environment=production",))
        assert [event.actor for event in found] == [ANN.ref]

    def test_metadata_is_also_accepted_as_the_prefix_and_conditions_add_up(
        self, session: Session
    ) -> None:
        both = ("metadata.environment=staging", "details.version=1.4.2")
        assert len(matching(session, where=both)) == 1
        assert matching(session, where=("details.environment=staging", "details.version=2")) == []

    def test_numbers_and_nested_keys_compare_as_text(self, session: Session) -> None:
        service.record(
            session, actor=ANN, event="x", target="y", details={"errors": 3, "by": {"team": "a"}}
        )
        session.commit()
        assert len(matching(session, where=("details.errors=3",))) == 1
        assert len(matching(session, where=("details.by.team=a",))) == 1

    def test_every_filter_given_must_hold(self, session: Session) -> None:
        assert matching(session, actor=BOB.ref, where=("details.environment=production",)) == []

    def test_newest_first(self, session: Session) -> None:
        assert actions(matching(session))[0] == "deploymentx.other"


class TestTimeRange:
    def test_since_and_until_take_durations_and_timestamps(self, session: Session) -> None:
        dated_event(session, timedelta(days=10), event="old")
        dated_event(session, timedelta(hours=30), event="yesterday")
        dated_event(session, timedelta(minutes=5), event="now")
        session.commit()
        assert actions(matching(session, since="24h")) == ["now"]
        assert actions(matching(session, since="7d", until="1d")) == ["yesterday"]
        assert actions(matching(session, until="30m")) == ["yesterday", "old"]
        two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat()
        assert actions(matching(session, since=two_days_ago)) == ["now", "yesterday"]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("7d", timedelta(days=7)),
            ("24h", timedelta(hours=24)),
            ("30m", timedelta(minutes=30)),
            ("2w", timedelta(weeks=2)),
        ],
    )
    def test_durations_count_back_from_now(self, text: str, expected: timedelta) -> None:
        now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
        assert parse_moment("since", text, now) == now - expected

    def test_a_timestamp_without_a_zone_is_utc_and_others_are_converted(self) -> None:
        now = datetime.now(UTC)
        assert parse_moment("since", "2026-12-01", now) == datetime(2026, 12, 1, tzinfo=UTC)
        assert parse_moment("since", "2026-12-01T10:00:00+02:00", now) == datetime(
            2026, 12, 1, 8, 0, tzinfo=UTC
        )

    @pytest.mark.parametrize("text", ["yesterday", "7 days", "-3d", "12"])
    def test_a_malformed_moment_is_refused_naming_the_parameter(self, text: str) -> None:
        with pytest.raises(FilterError) as error:
            parse_filters(FilterInput(since=text))
        assert error.value.parameter == "since"
        assert "7d, 24h or 30m" in error.value.message

    def test_since_after_until_is_refused(self) -> None:
        with pytest.raises(FilterError, match="after until"):
            parse_filters(FilterInput(since="1h", until="2d"))


class TestBadInput:
    @pytest.mark.parametrize(
        ("raw", "parameter"),
        [
            (FilterInput(result="ok"), "result"),
            (FilterInput(action="deploy trigger"), "action"),
            (FilterInput(where=("environment=production",)), "where"),
            (FilterInput(where=("details.environment",)), "where"),
            (FilterInput(preset="deployments"), "preset"),
        ],
    )
    def test_names_the_parameter(self, raw: FilterInput, parameter: str) -> None:
        with pytest.raises(FilterError) as error:
            parse_filters(raw)
        assert error.value.parameter == parameter
        assert error.value.message.startswith(f"Invalid {parameter}: ")

    def test_an_unknown_preset_lists_the_known_ones(self) -> None:
        with pytest.raises(FilterError, match="recent-deployments, failed-sign-ins"):
            parse_filters(FilterInput(preset="nope"))

    @pytest.mark.parametrize("text", ["", "bm90LWEtY3Vyc29y", "!!!", "o", "eDEy"])
    def test_a_cursor_not_handed_out_is_refused(self, text: str) -> None:
        with pytest.raises(FilterError) as error:
            Cursor.decode(text)
        assert error.value.parameter == "cursor"

    def test_page_size_has_a_default_and_a_maximum(self) -> None:
        assert page_size(None) == DEFAULT_PAGE_SIZE
        assert page_size(MAX_PAGE_SIZE) == MAX_PAGE_SIZE
        for bad in (0, MAX_PAGE_SIZE + 1):
            with pytest.raises(FilterError, match="limit"):
                page_size(bad)


class TestPages:
    def test_cursors_walk_every_event_once_while_new_ones_arrive(self, session: Session) -> None:
        many_events(session, 7)
        session.commit()
        query = parse_filters(FilterInput())
        first = search_events(session, query, limit=3)
        many_events(session, 2, event="arrived.later")  # must not shift the older pages
        session.commit()
        assert first.older is not None and first.newer is None
        second = search_events(session, query, limit=3, cursor=Cursor.decode(first.older.encode()))
        assert second.older is not None
        third = search_events(session, query, limit=3, cursor=second.older)
        seen = [event.details["index"] for page in (first, second, third) for event in page.events]
        assert seen == [6, 5, 4, 3, 2, 1, 0]
        assert third.older is None

    def test_the_newer_cursor_goes_back_a_page(self, session: Session) -> None:
        many_events(session, 7)
        session.commit()
        query = parse_filters(FilterInput())
        first = search_events(session, query, limit=3)
        assert first.older is not None
        second = search_events(session, query, limit=3, cursor=first.older)
        assert second.newer is not None
        back = search_events(session, query, limit=3, cursor=second.newer)
        assert [e.id for e in back.events] == [e.id for e in first.events]
        assert back.newer is None and back.older is not None

    def test_an_export_reads_every_match_in_batches(self, session: Session) -> None:
        many_events(session, 7)
        deployment(session)
        session.commit()
        query = parse_filters(FilterInput(action="catalog.*"))
        indexes = [event.details["index"] for event in iter_events(session, query, batch=3)]
        assert indexes == [6, 5, 4, 3, 2, 1, 0]


class TestPresets:
    def test_recent_deployments_are_those_of_the_last_seven_days(self, session: Session) -> None:
        deployment(session, "staging")
        dated_event(session, timedelta(days=8), event="deployment.trigger")
        failed_sign_in(session)
        session.commit()
        found = matching(session, preset="recent-deployments")
        assert [(e.event, e.details["environment"]) for e in found] == [
            ("deployment.trigger", "staging")
        ]

    def test_failed_sign_ins_are_those_of_the_last_day(self, session: Session) -> None:
        failed_sign_in(session, ip="198.51.100.7")
        dated_event(session, timedelta(hours=25), event="auth.failed", result="failed")
        deployment(session)
        session.commit()
        [found] = matching(session, preset="failed-sign-ins")
        assert found.details["ip_address"] == "198.51.100.7"
        assert found.details["reason"] == "bad-password"

    def test_production_deployments_of_any_age(self, session: Session) -> None:
        deployment(session, "production")
        deployment(session, "staging")
        dated_event(
            session,
            timedelta(days=60),
            event="deployment.trigger",
            details={"environment": "production"},
        )
        session.commit()
        found = matching(session, preset="production-deployments")
        assert [e.details["environment"] for e in found] == ["production", "production"]

    def test_explicit_filters_override_or_narrow_a_preset(self, session: Session) -> None:
        deployment(session, actor=ANN)
        deployment(session, actor=BOB)
        dated_event(session, timedelta(days=20), event="deployment.trigger")
        session.commit()
        assert len(matching(session, preset="recent-deployments", since="30d")) == 3
        assert len(matching(session, preset="recent-deployments", actor=BOB.ref)) == 1
