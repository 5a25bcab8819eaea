"""``pavedroad users`` and ``pavedroad tokens``, and commands acting with PAVEDROAD_TOKEN."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pavedroad.audit.models import AuditEvent
from pavedroad.cli import app
from pavedroad.config import get_settings
from pavedroad.identity import tokens
from pavedroad.runtime import Runtime
from tests.identity.conftest import OPERATOR, new_client, sign_in

runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secure_runtime: Runtime
) -> Iterator[Path]:
    monkeypatch.setenv("PAVEDROAD_DATABASE_URL", database_url)
    monkeypatch.setenv("PAVEDROAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def personal_token(runtime: Runtime, owner: str, *scopes: str) -> str:
    with runtime.db.session() as session:
        secret, _ = tokens.create_token(
            session, name="cli-test", owner_ref=owner, scopes=scopes or ("*",), actor=OPERATOR
        )
    return secret


class TestUsers:
    def test_an_operator_creates_an_account_that_can_sign_in(self, secure_runtime: Runtime) -> None:
        code, out, _ = run(
            "users",
            "create",
            "cy",
            "--user",
            "user:default/ada",
            "--password-stdin",
            stdin="a long enough passphrase\n",
        )
        assert code == 0 and "signing in as user:default/ada" in out
        with new_client(secure_runtime) as client:
            assert sign_in(client, "cy", "a long enough passphrase").status_code == 303

    def test_a_weak_password_is_refused_with_the_rule(self) -> None:
        code, _, err = run("users", "create", "cy", "--password-stdin", stdin="short\n")
        assert code == 1 and "at least 12" in err

    def test_list_shows_accounts_and_never_hashes(self) -> None:
        code, out, _ = run("users", "list", "-o", "json")
        accounts = json.loads(out)
        assert code == 0 and [a["username"] for a in accounts] == ["ada", "bo"]
        assert "argon2" not in out

    def test_unlock_lifts_a_lockout(self, secure_runtime: Runtime) -> None:
        with new_client(secure_runtime) as client:
            for _ in range(5):
                sign_in(client, password="guess guess guess")
            assert sign_in(client).status_code == 429
            assert run("users", "unlock", "ada")[0] == 0
            assert sign_in(client).status_code == 303

    def test_an_unknown_account_is_named(self) -> None:
        code, _, err = run("users", "delete", "ghost")
        assert code == 1 and "no local account called ghost" in err


class TestTokens:
    def test_a_token_is_printed_once_on_stdout_and_works(self, secure_runtime: Runtime) -> None:
        code, out, err = run("tokens", "create", "--name", "ci", "--user", "ada")
        secret = out.strip()
        assert code == 0 and secret.startswith("prt_") and "not shown again" in err
        with new_client(secure_runtime) as client:
            me = client.get("/api/identity/me", headers={"authorization": f"Bearer {secret}"})
            assert me.json()["ref"] == "user:default/ada"
        listed = run("tokens", "list", "-o", "json")[1]
        assert secret not in listed and '"name": "ci"' in listed

    def test_revoking_a_token_stops_it_at_once(self, secure_runtime: Runtime) -> None:
        secret = run("tokens", "create", "--name", "ci", "--user", "ada")[1].strip()
        [token] = json.loads(run("tokens", "list", "-o", "json")[1])
        assert run("tokens", "revoke", token["id"])[0] == 0
        with new_client(secure_runtime) as client:
            response = client.get("/api/identity/me", headers={"authorization": f"Bearer {secret}"})
            assert response.status_code == 401

    def test_the_operator_must_say_whose_token_it_is(self) -> None:
        code, _, err = run("tokens", "create", "--name", "ci")
        assert code == 1 and "--user" in err


class TestActingWithAToken:
    def test_a_command_acts_as_the_tokens_owner_under_the_policy(
        self, secure_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PAVEDROAD_TOKEN", personal_token(secure_runtime, "user:default/ada"))
        get_settings.cache_clear()
        code, _, err = run("users", "list")
        assert code == 1
        assert "identity.account.manage" in err and "permissions check" in err

    def test_a_command_within_the_policy_is_done_and_attributed(
        self, secure_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("PAVEDROAD_TOKEN", personal_token(secure_runtime, "user:default/ada"))
        get_settings.cache_clear()
        descriptor = tmp_path / "svc.yaml"
        descriptor.write_text(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc}\n"
            "spec: {type: service, lifecycle: production, owner: team-a}\n"
        )
        assert run("catalog", "register", str(descriptor))[0] == 0
        with secure_runtime.db.session() as session:
            actors = session.scalars(
                select(AuditEvent.actor).where(AuditEvent.event == "catalog.location.registered")
            ).all()
        assert "user:default/ada" in actors

    def test_a_token_with_too_narrow_scopes_is_refused(
        self, secure_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        secret = personal_token(secure_runtime, "user:default/ada", "catalog.entity.read")
        monkeypatch.setenv("PAVEDROAD_TOKEN", secret)
        get_settings.cache_clear()
        code, _, err = run("catalog", "register", str(tmp_path / "nothing.yaml"))
        assert code == 1 and "catalog.entity.read" in err

    def test_a_revoked_token_is_refused_with_what_to_do(
        self, secure_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PAVEDROAD_TOKEN", "prt_00000000_not-a-real-token")
        get_settings.cache_clear()
        code, _, err = run("catalog", "locations")
        assert (
            code == 1 and "PAVEDROAD_TOKEN (or the token of `pavedroad login`) was refused" in err
        )
