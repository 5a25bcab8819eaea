"""The audit API: pages of events, presets, exports, and bad filters in Backstage's shape."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pavedroad.audit import api, views
from pavedroad.audit.models import AuditEvent
from pavedroad.runtime import Runtime
from tests.audit.conftest import deployment, failed_sign_in, many_events
from tests.catalog.test_api import counting_queries
from tests.conftest import TESTER

EVENTS = "/api/audit/events"
EXPORT = "/api/audit/events/export"


def exports_recorded(session: Session) -> list[dict[str, Any]]:
    return list(
        session.scalars(select(AuditEvent.details).where(AuditEvent.event == "audit.exported"))
    )


def assert_input_error(response: Any, parameter: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["name"] == "InputError"
    assert body["error"]["parameter"] == parameter
    assert body["error"]["message"].startswith(f"Invalid {parameter}: ")
    assert body["response"] == {"statusCode": 400}


class TestListEvents:
    def test_items_are_newest_first_with_every_field(
        self, client: TestClient, session: Session
    ) -> None:
        failed_sign_in(session)
        deployment(session)
        session.commit()
        body = client.get(EVENTS).json()
        assert body["pageInfo"] == {"nextCursor": None, "prevCursor": None}
        newest = body["items"][0]
        assert set(newest) == {
            "id",
            "at",
            "actor",
            "action",
            "resourceType",
            "resourceRef",
            "result",
            "clientIp",
            "requestId",
            "metadata",
        }
        assert (newest["action"], newest["resourceRef"]) == (
            "deployment.trigger",
            "component:default/checkout",
        )
        assert newest["at"].endswith("+00:00")
        assert newest["metadata"] == {"environment": "production", "version": "1.4.2"}

    def test_the_next_cursor_leads_to_the_older_events(
        self, client: TestClient, session: Session
    ) -> None:
        many_events(session, 5)
        session.commit()
        first = client.get(EVENTS, params={"limit": 3}).json()
        assert len(first["items"]) == 3
        cursor = first["pageInfo"]["nextCursor"]
        second = client.get(EVENTS, params={"limit": 3, "cursor": cursor}).json()
        indexes = [item["metadata"]["index"] for item in first["items"] + second["items"]]
        assert indexes == [4, 3, 2, 1, 0]
        assert second["pageInfo"]["nextCursor"] is None
        assert second["pageInfo"]["prevCursor"] is not None

    def test_filters_are_query_parameters(self, client: TestClient, session: Session) -> None:
        deployment(session, "production")
        deployment(session, "staging")
        failed_sign_in(session)
        session.commit()
        found = client.get(
            EVENTS, params={"action": "deployment.*", "where": "details.environment=staging"}
        ).json()["items"]
        assert [item["metadata"]["environment"] for item in found] == ["staging"]
        failed = client.get(EVENTS, params={"result": "failed", "resourceType": "identity-account"})
        assert [item["action"] for item in failed.json()["items"]] == ["auth.failed"]

    @pytest.mark.parametrize(
        ("preset", "action"),
        [
            ("recent-deployments", "deployment.trigger"),
            ("failed-sign-ins", "auth.failed"),
            ("production-deployments", "deployment.trigger"),
        ],
    )
    def test_each_preset_is_one_parameter(
        self, client: TestClient, session: Session, preset: str, action: str
    ) -> None:
        deployment(session)
        failed_sign_in(session)
        session.commit()
        items = client.get(EVENTS, params={"preset": preset}).json()["items"]
        assert [item["action"] for item in items] == [action]

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"since": "yesterday"}, "since"),
            ({"until": "soon"}, "until"),
            ({"preset": "deploys"}, "preset"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"limit": "501"}, "limit"),
            ({"result": "ok"}, "result"),
            ({"where": "environment=production"}, "where"),
        ],
    )
    def test_a_bad_filter_is_a_400_naming_the_parameter(
        self, client: TestClient, params: dict[str, str], parameter: str
    ) -> None:
        assert_input_error(client.get(EVENTS, params=params), parameter)

    def test_its_query_count_does_not_grow_with_the_number_of_events(
        self, client: TestClient, runtime: Runtime, session: Session
    ) -> None:
        deployment(session)
        session.commit()
        client.get(EVENTS)
        with counting_queries(runtime) as one:
            assert len(client.get(EVENTS).json()["items"]) == 1
        many_events(session, 40)
        session.commit()
        with counting_queries(runtime) as many:
            assert len(client.get(EVENTS).json()["items"]) == 41
        assert len(one) == len(many)


class TestExport:
    def test_json_lines_hold_every_match_and_the_export_is_recorded(
        self, client: TestClient, session: Session
    ) -> None:
        many_events(session, 60)  # more than a page
        deployment(session)
        session.commit()
        response = client.get(EXPORT, params={"format": "jsonl", "action": "catalog.*"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert response.headers["content-disposition"].startswith(
            'attachment; filename="audit-events-'
        )
        assert response.headers["content-disposition"].endswith('.jsonl"')
        lines = [json.loads(line) for line in response.text.splitlines()]
        assert [line["metadata"]["index"] for line in lines] == list(range(59, -1, -1))
        [recorded] = exports_recorded(session)
        assert recorded == {"format": "jsonl", "filters": {"action": "catalog.*"}}

    def test_the_export_row_says_who_and_from_where(
        self, client: TestClient, session: Session
    ) -> None:
        response = client.get(EXPORT, params={"preset": "failed-sign-ins"})
        event = session.scalars(select(AuditEvent)).one()
        assert (event.actor, event.event, event.target) == (TESTER, "audit.exported", "audit-log")
        assert event.client_ip == "testclient"
        assert event.request_id == response.headers["x-request-id"]
        assert event.details["filters"] == {"preset": "failed-sign-ins"}

    def test_csv_has_a_header_row_and_metadata_as_json(
        self, client: TestClient, session: Session
    ) -> None:
        deployment(session)
        session.commit()
        response = client.get(EXPORT, params={"format": "csv", "action": "deployment.trigger"})
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-disposition"].endswith('.csv"')
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert list(rows[0]) == [
            "id",
            "at",
            "actor",
            "action",
            "resourceType",
            "resourceRef",
            "result",
            "clientIp",
            "requestId",
            "metadata",
        ]
        [row] = rows
        assert row["actor"] == "user:default/ann"
        assert json.loads(row["metadata"]) == {"environment": "production", "version": "1.4.2"}

    def test_an_export_of_nothing_is_a_header_only(self, client: TestClient) -> None:
        response = client.get(EXPORT, params={"format": "csv", "action": "nothing.here"})
        assert response.text.splitlines()[0].startswith("id,at,actor,action")
        assert len(response.text.splitlines()) == 1

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"format": "xml"}, "format"),
            ({"since": "last week"}, "since"),
            ({"preset": "everything"}, "preset"),
        ],
    )
    def test_bad_input_is_a_400_and_records_nothing(
        self, client: TestClient, session: Session, params: dict[str, str], parameter: str
    ) -> None:
        assert_input_error(client.get(EXPORT, params=params), parameter)
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(
    ("endpoint", "permission"),
    [
        (api.list_audit_events, "audit.read"),
        (api.export_audit_events, "audit.export"),
        (views.audit_page, "audit.read"),
    ],
)
def test_every_audit_route_declares_its_permission(
    endpoint: Callable[..., Any], permission: str
) -> None:
    hints = get_type_hints(endpoint, include_extras=True)
    declared = {
        extra.dependency.__name__
        for hint in hints.values()
        if get_origin(hint) is Annotated
        for extra in get_args(hint)[1:]
        if hasattr(extra, "dependency")
    }
    assert f"require_{permission.replace('.', '_')}" in declared
