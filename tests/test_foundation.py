"""The foundation: settings, migrations, health, metrics, logs and the error shape."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from pydantic import ValidationError

import pavedroad.app  # noqa: F401 - imports every domain's models
from pavedroad.config import Settings
from pavedroad.core import migrations
from pavedroad.core.db import Base, Database
from pavedroad.core.telemetry import JsonFormatter, redact
from pavedroad.runtime import Runtime


class TestSettings:
    def test_defaults_are_the_embedded_loopback_setup(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name in ("PAVEDROAD_HOST", "PAVEDROAD_DATABASE_URL", "PAVEDROAD_CONFIG_FILE"):
            monkeypatch.delenv(name, raising=False)
        settings = Settings()
        assert settings.host == "127.0.0.1"
        assert settings.resolved_database_url.startswith("sqlite:///")
        assert settings.resolved_database_url.endswith("data/pavedroad.db")

    def test_environment_beats_the_yaml_file_and_nested_values_use_double_underscore(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        config = tmp_path / "pavedroad.yaml"
        config.write_text(
            "port: 9000\ncatalog:\n  refresh_interval_seconds: 60\n  max_file_bytes: 1000\n"
        )
        monkeypatch.setenv("PAVEDROAD_CONFIG_FILE", str(config))
        monkeypatch.setenv("PAVEDROAD_CATALOG__MAX_FILE_BYTES", "2000")
        settings = Settings()
        assert settings.port == 9000
        assert settings.catalog.refresh_interval_seconds == 60
        assert settings.catalog.max_file_bytes == 2000

    def test_a_typo_in_the_yaml_file_is_refused_by_name(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        config = tmp_path / "pavedroad.yaml"
        config.write_text("prot: 9000\n")
        monkeypatch.setenv("PAVEDROAD_CONFIG_FILE", str(config))
        with pytest.raises(ValidationError, match="prot"):
            Settings()

    def test_a_missing_config_file_is_named(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PAVEDROAD_CONFIG_FILE", str(tmp_path / "absent.yaml"))
        with pytest.raises(FileNotFoundError, match=r"absent\.yaml"):
            Settings()


def test_the_migrations_build_exactly_the_models(database_url: str) -> None:
    """What ``alembic check`` checks: no difference between the migrated schema and the models."""
    database = Database(database_url)
    try:
        with database.read_engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": migrations.include_object}
            )
            assert compare_metadata(context, Base.metadata) == []
        assert migrations.current_revision(database.read_engine) == migrations.head_revision()
    finally:
        database.dispose()


class TestOperationalEndpoints:
    def test_healthz_and_readyz(self, client: TestClient) -> None:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready == {"status": "ready", "revision": migrations.head_revision()}

    def test_readyz_is_503_when_the_schema_is_behind(self, tmp_path: Path) -> None:
        from pavedroad.app import create_app
        from pavedroad.runtime import build_runtime

        runtime = build_runtime(
            Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/empty.db")
        )
        with TestClient(create_app(runtime, run_jobs=False)) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert "pavedroad db upgrade" in response.json()["error"]["message"]

    def test_metrics_count_requests_by_route_template(self, client: TestClient) -> None:
        client.get("/api/catalog/entities/by-name/component/default/nothing")
        text = client.get("/metrics").text
        route = "/api/catalog/entities/by-name/{kind}/{namespace}/{name}"
        assert f'http_requests_total{{method="GET",route="{route}",status="404"}}' in text
        assert (
            f'http_request_duration_seconds_bucket{{le="0.005",method="GET",route="{route}"}}'
            in text
        )

    def test_every_response_carries_a_request_id(self, client: TestClient) -> None:
        assert len(client.get("/healthz").headers["x-request-id"]) == 32
        assert (
            client.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"]
            == "abc-123"
        )

    def test_the_openapi_document_lists_the_catalog_routes(self, client: TestClient) -> None:
        paths = client.get("/api/openapi.json").json()["paths"]
        for path in (
            "/api/catalog/entities/by-query",
            "/api/catalog/locations",
            "/api/catalog/entity-facets",
        ):
            assert path in paths

    def test_unknown_routes_answer_in_backstages_error_shape(self, client: TestClient) -> None:
        body = client.get("/api/nope").json()
        assert body["error"]["name"] == "NotFoundError"
        assert body["response"] == {"statusCode": 404}


class TestLogs:
    def test_log_lines_are_json_with_extra_fields_and_no_secrets(self) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger("pavedroad.test.logs")
        logger.addHandler(handler)
        logger.propagate = False
        logger.warning(
            "token used", extra={"token": "abc", "details": {"password": "x", "user": "ann"}}
        )
        line = json.loads(stream.getvalue())
        assert line["message"] == "token used" and line["level"] == "warning"
        assert line["token"] == "***"
        assert line["details"] == {"password": "***", "user": "ann"}

    def test_redact_walks_nested_values(self) -> None:
        assert redact({"a": [{"api_key": "k"}], "Authorization": "Bearer x"}) == {
            "a": [{"api_key": "***"}],
            "Authorization": "***",
        }


def test_a_runtime_loads_plugins_through_the_same_hooks_as_built_ins(runtime: Runtime) -> None:
    kinds = {kind for processor in runtime.catalog.pipeline.processors for kind in processor.kinds}
    assert {"Component", "API", "Template", "Location"} <= kinds
