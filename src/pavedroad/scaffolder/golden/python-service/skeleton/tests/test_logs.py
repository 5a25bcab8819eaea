from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from ${{ values.package }}.logs import JsonFormatter

AccessLog = Callable[[], list[dict[str, Any]]]


def test_each_request_logs_one_json_line_with_its_request_id(
    client: TestClient, access_log: AccessLog
) -> None:
    response = client.get("/no-such-page", headers={"x-request-id": "checkout-42"})
    assert response.headers["x-request-id"] == "checkout-42"
    [entry] = access_log()
    assert (entry["message"], entry["level"], entry["request_id"]) == (
        "request handled",
        "info",
        "checkout-42",
    )
    assert (entry["method"], entry["route"], entry["status"]) == ("GET", "unmatched", 404)
    assert entry["duration_ms"] >= 0


def test_a_request_without_a_usable_id_gets_a_new_one(
    client: TestClient, access_log: AccessLog
) -> None:
    response = client.get("/no-such-page", headers={"x-request-id": "not valid; <script>"})
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32 and request_id != "not valid; <script>"
    assert access_log()[0]["request_id"] == request_id


def test_errors_carry_their_traceback_and_extra_fields() -> None:
    try:
        raise RuntimeError("payment provider unreachable")
    except RuntimeError:
        record = logging.makeLogRecord(
            {
                "name": "checkout",
                "levelno": logging.ERROR,
                "levelname": "ERROR",
                "msg": "charge failed",
                "exc_info": sys.exc_info(),
                "order": 7,
            }
        )
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["message"], entry["level"], entry["order"]) == ("charge failed", "error", 7)
    assert "RuntimeError: payment provider unreachable" in entry["exception"]
    assert "request_id" not in entry  # logged outside any request
