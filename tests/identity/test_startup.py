"""A server reachable from other machines starts only when someone can sign in, and demo
sign-in never leaves loopback."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import delete

from pavedroad.app import create_app
from pavedroad.identity.models import LocalAccount
from pavedroad.identity.startup import UnsafeSetupError
from pavedroad.runtime import Runtime


def bound_to(runtime: Runtime, host: str, **auth: object) -> Runtime:
    settings = runtime.settings
    changed = settings.auth.model_copy(update=auth)
    return dataclasses.replace(
        runtime, settings=settings.model_copy(update={"host": host, "auth": changed})
    )


def test_a_public_bind_without_any_way_to_sign_in_refuses_to_start(
    secure_runtime: Runtime,
) -> None:
    with secure_runtime.db.session() as session:
        session.execute(delete(LocalAccount))
    with pytest.raises(UnsafeSetupError) as error:
        create_app(bound_to(secure_runtime, "0.0.0.0"), run_jobs=False)
    message = error.value.message
    assert "binds 0.0.0.0" in message
    assert "PAVEDROAD_AUTH__OIDC__ISSUER" in message and "pavedroad users create" in message


def test_a_public_bind_with_a_local_account_starts(secure_runtime: Runtime) -> None:
    create_app(bound_to(secure_runtime, "0.0.0.0"), run_jobs=False)


def test_a_public_bind_with_single_sign_on_starts(secure_runtime: Runtime) -> None:
    runtime = bound_to(secure_runtime, "10.0.0.5", local_accounts=False)
    oidc = runtime.settings.auth.oidc.model_copy(
        update={
            "issuer": "https://idp.example.com",
            "client_id": "x",
            "client_secret": SecretStr("y"),
        }
    )
    auth = runtime.settings.auth.model_copy(update={"oidc": oidc})
    create_app(
        dataclasses.replace(runtime, settings=runtime.settings.model_copy(update={"auth": auth})),
        run_jobs=False,
    )


def test_demo_sign_in_on_a_public_bind_refuses_to_start(secure_runtime: Runtime) -> None:
    runtime = bound_to(secure_runtime, "0.0.0.0", demo_user_ref="user:default/ada")
    with pytest.raises(UnsafeSetupError) as error:
        create_app(runtime, run_jobs=False)
    assert "only allowed on a loopback address" in error.value.message


def test_demo_sign_in_on_loopback_acts_as_the_demo_user(secure_runtime: Runtime) -> None:
    runtime = bound_to(secure_runtime, "127.0.0.1", demo_user_ref="user:default/ada")
    with TestClient(create_app(runtime, run_jobs=False)) as client:
        me = client.get("/api/identity/me").json()
    assert me["ref"] == "user:default/ada" and me["method"] == "demo"
