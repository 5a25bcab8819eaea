"""Shared fixtures: a real database per test (SQLite and PostgreSQL), built by the migrations.

SQLite: the migrations run once into a template file that each test copies. PostgreSQL: each
test worker creates its own database on the server at PAVEDROAD_TEST_POSTGRES_URL (default: the
local server's ``test`` database as admin connection), migrates it, truncates it before every
test and drops it at the end. Set PAVEDROAD_TEST_POSTGRES_URL=skip to run SQLite only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from pavedroad.app import create_app
from pavedroad.config import Settings
from pavedroad.core import migrations
from pavedroad.core.actors import Actor
from pavedroad.core.db import Base, Database
from pavedroad.runtime import Runtime, build_runtime

ADMIN_POSTGRES_URL = os.environ.get(
    "PAVEDROAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONFORMANCE = SHARED / "conformance"
TESTER = "user:default/tester"


@pytest.fixture(autouse=True)
def no_personal_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the CLI credentials of whoever runs them."""
    monkeypatch.setenv("PAVEDROAD_CREDENTIALS_FILE", str(tmp_path / "credentials.json"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames:
        kinds = ["sqlite"] if ADMIN_POSTGRES_URL == "skip" else ["sqlite", "postgres"]
        metafunc.parametrize("database_kind", kinds, indirect=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "pavedroad.db"
    migrations.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    admin = ADMIN_POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"pavedroad_test_{worker_id}_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    migrations.upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(
    database_kind: str, tmp_path: Path, sqlite_template: Path, request: pytest.FixtureRequest
) -> str:
    if database_kind == "sqlite":
        path = tmp_path / "pavedroad.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    database = Database(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with database.session() as session:
        session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The embedded setup in demo mode: every request acts as TESTER, an administrator.

    Tests of sign-in, tokens and the policy build settings without the demo user.
    """
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        log_format="console",
        auth={"demo_user_ref": TESTER},
        credentials_file=tmp_path / "credentials.json",
        permissions={"admins": ["group:default/admins", TESTER]},
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    built = build_runtime(settings)
    yield built
    built.close()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    """A session whose work the test commits (or not) itself."""
    with runtime.db.session_factory() as session:
        yield session


@pytest.fixture
def actor() -> Actor:
    return Actor(ref="user:default/tester")


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, run_jobs=False)) as test_client:
        yield test_client


def git(*args: str, cwd: Path) -> str:
    """Run git for a test's own repositories, with an identity and no global config."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=environment, check=True, capture_output=True, text=True
    ).stdout
