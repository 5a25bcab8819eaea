from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ${{ values.package }}.app import create_app
from ${{ values.package }}.config import Settings
from ${{ values.package }}.logs import configure_logging


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


@pytest.fixture
def access_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines the service logs: ``access_log()`` returns the access entries so far."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, root.handlers[:]
    stream = io.StringIO()
    configure_logging("INFO", stream)

    def entries() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in lines if line["logger"] == "${{ values.package }}.access"]

    yield entries
    root.setLevel(saved_level)
    root.handlers[:] = saved_handlers
