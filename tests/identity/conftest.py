"""A portal that needs signing in (no demo user), with a small organisation in its catalog:
Ada (team-a, under the department dept) and Bo (team-b)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pavedroad.app import create_app
from pavedroad.catalog import service
from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.identity import accounts
from pavedroad.runtime import Runtime, build_runtime
from tests.helpers import component, group, write_entities

PASSWORD = "correct horse battery staple"
OPERATOR = Actor.system("test-operator")


def user(name: str, email: str, *groups: str) -> dict[str, object]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": name},
        "spec": {
            "profile": {"displayName": name.title(), "email": email},
            "memberOf": list(groups),
        },
    }


@pytest.fixture
def signed_out_settings(settings: Settings) -> Settings:
    auth = settings.auth.model_copy(update={"demo_user_ref": ""})
    return settings.model_copy(update={"auth": auth})


@pytest.fixture
def secure_runtime(
    signed_out_settings: Settings, runtime: Runtime, tmp_path: Path
) -> Iterator[Runtime]:
    """The runtime without demo sign-in, on the test's database, holding the organisation."""
    built = build_runtime(signed_out_settings, db=runtime.db)
    path = write_entities(
        tmp_path / "org.yaml",
        group("dept", type="department", children=["team-a"]),
        group("team-a", parent="dept"),
        group("team-b"),
        user("ada", "ada@example.com", "team-a"),
        user("bo", "bo@example.com", "team-b"),
        component("ledger", owner="team-a"),
        component("payroll", owner="team-b"),
    )
    with built.db.session() as session:
        service.register_locations(session, built.catalog, [("file", str(path))], actor=OPERATOR)
        accounts.create_account(
            session, username="ada", user_ref="user:default/ada", password=PASSWORD, actor=OPERATOR
        )
        accounts.create_account(
            session, username="bo", user_ref="user:default/bo", password=PASSWORD, actor=OPERATOR
        )
    yield built


def new_client(runtime: Runtime) -> TestClient:
    # https: the session cookie is Secure, and a client sends it back only over https.
    return TestClient(create_app(runtime, run_jobs=False), base_url="https://testserver")


@pytest.fixture
def browser(secure_runtime: Runtime) -> Iterator[TestClient]:
    """A browser that is not signed in."""
    with new_client(secure_runtime) as client:
        yield client


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(client: TestClient, username: str = "ada", password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get("/sign-in", params={"next": extra.pop("next", "/")}).text
    data = {"username": username, "password": password, "csrf_token": form_token(page)}
    next_field = re.search(r'name="next" value="([^"]*)"', page)
    data["next"] = next_field.group(1) if next_field else "/"
    return client.post("/sign-in", data={**data, **extra}, follow_redirects=False)


@pytest.fixture
def signed_in(secure_runtime: Runtime) -> Callable[[str], TestClient]:
    """A browser signed in as ``username`` with a local account (closed with the test)."""
    opened: list[TestClient] = []

    def make(username: str = "ada") -> TestClient:
        client = new_client(secure_runtime).__enter__()
        opened.append(client)
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
        return client

    yield make  # type: ignore[misc]
    for client in opened:
        client.__exit__(None, None, None)


def csrf_of(client: TestClient) -> str:
    """The session's CSRF token, as pages carry it."""
    return form_token(client.get("/settings").text)
