"""``pavedroad users ...`` (local accounts) and ``pavedroad tokens ...`` (API tokens)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from pavedroad.cli_support import (
    OutputFormat,
    authorize_cli,
    cli_principal,
    emit,
    err_console,
    fail,
    out_console,
    runtime_for_cli,
)
from pavedroad.config import get_settings
from pavedroad.core.errors import PavedroadError
from pavedroad.identity import accounts, tokens
from pavedroad.identity.api import token_json
from pavedroad.runtime import Runtime

users_app = typer.Typer(
    help="Local accounts for sign-in without single sign-on.", no_args_is_help=True
)
tokens_app = typer.Typer(help="API tokens for the CLI and automation.", no_args_is_help=True)
OutputOption = Annotated[OutputFormat, typer.Option("--output", "-o", help="table, json or yaml.")]


def _runtime() -> Runtime:
    return runtime_for_cli(get_settings())


def _password(prompt: bool, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not prompt:
        fail("no password given", "pass --password-stdin, or run in a terminal to be asked")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create")
def create_user(
    username: Annotated[str, typer.Argument(help="What the person types to sign in.")],
    user: Annotated[
        str | None,
        typer.Option("--user", help="The User entity they sign in as (default: user:<username>)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a local account; the password is asked for (or read from stdin) and stored hashed."""
    runtime = _runtime()
    actor = authorize_cli(runtime, "identity.account.manage")
    password = _password(sys.stdin.isatty(), password_stdin)
    try:
        with runtime.db.session() as session:
            account = accounts.create_account(
                session,
                username=username,
                user_ref=user or username,
                password=password,
                actor=actor,
            )
            name, ref = account.username, account.user_ref
    except PavedroadError as error:
        fail(error.message)
    out_console.print(f"Created local account [bold]{name}[/] signing in as {ref}")


@users_app.command("list")
def list_users(output: OutputOption = OutputFormat.table) -> None:
    """Every local account, with the User it signs in as and whether it is locked."""
    runtime = _runtime()
    authorize_cli(runtime, "identity.account.manage")
    with runtime.db.read_session() as session:
        rows = [
            {
                "username": account.username,
                "user": account.user_ref,
                "created": account.created_at.isoformat(timespec="seconds"),
                "last_sign_in": (
                    account.last_sign_in_at.isoformat(timespec="seconds")
                    if account.last_sign_in_at
                    else None
                ),
                "locked_until": account.locked_until.isoformat() if account.locked_until else None,
            }
            for account in accounts.list_accounts(session)
        ]
    columns = [("Username", "username"), ("User", "user"), ("Last sign-in", "last_sign_in")]
    emit(rows, output, [*columns, ("Locked until", "locked_until")], "Local accounts")


@users_app.command("set-password")
def set_password(
    username: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a new password (and lift a lockout)."""
    _account_change(
        username,
        lambda s, a: accounts.set_password(
            s, username, _password(sys.stdin.isatty(), password_stdin), actor=a
        ),
    )
    out_console.print(f"New password set for {username}")


@users_app.command("unlock")
def unlock(username: str) -> None:
    """Lift a lockout after too many failed sign-ins."""
    _account_change(username, lambda s, a: accounts.unlock_account(s, username, actor=a))
    out_console.print(f"Unlocked {username}")


@users_app.command("delete")
def delete(username: str) -> None:
    """Delete a local account (the User entity stays in the catalog)."""
    _account_change(username, lambda s, a: accounts.delete_account(s, username, actor=a))
    out_console.print(f"Deleted the local account {username}")


def _account_change(username: str, change: Any) -> None:
    runtime = _runtime()
    actor = authorize_cli(runtime, "identity.account.manage")
    try:
        with runtime.db.session() as session:
            change(session, actor)
    except PavedroadError as error:
        fail(error.message)


@tokens_app.command("create")
def create_token(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    user: Annotated[
        str | None, typer.Option("--user", help="A personal token for this User (operators).")
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="A service token acting as service:<name>.")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="Permission or pattern; repeatable.")
    ] = None,
    expires_in_days: Annotated[
        int, typer.Option("--expires-in-days", help="1 to 366; 0 for no expiry.")
    ] = 90,
) -> None:
    """Create an API token and print it once (it is stored only as a hash)."""
    runtime = _runtime()
    if service and user:
        fail("--user and --service exclude each other", "a token is personal or a service's")
    principal = cli_principal(runtime)
    permission = "identity.service-token.create" if service else "identity.token.create"
    if user and principal.method != "cli":
        permission = "identity.account.manage"
    actor = authorize_cli(runtime, permission)
    owner = service or (accounts.user_ref_of(user) if user else principal.ref)
    if not service and owner.startswith("system:"):
        fail("the operator is not a user", "give --user user:default/NAME or --service NAME")
    try:
        with runtime.db.session() as session:
            secret, row = tokens.create_token(
                session,
                name=name,
                owner_ref=owner,
                kind="service" if service else "personal",
                scopes=scope or ["*"],
                expires_in_days=expires_in_days or None,
                actor=actor,
            )
            owner_ref = row.owner_ref
    except PavedroadError as error:
        fail(error.message)
    err_console.print(f"Token [bold]{name}[/] for {owner_ref}. Copy it now; it is not shown again:")
    sys.stdout.write(secret + "\n")


@tokens_app.command("list")
def list_tokens(
    all_owners: Annotated[
        bool, typer.Option("--all", help="Everyone's tokens (operators).")
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Live tokens (names, prefixes, scopes, expiry; never secrets)."""
    runtime = _runtime()
    principal = cli_principal(runtime)
    if all_owners:
        authorize_cli(runtime, "identity.account.manage")
    with runtime.db.read_session() as session:
        owner = None if all_owners or principal.method == "cli" else principal.ref
        rows = [token_json(row) for row in tokens.list_tokens(session, owner_ref=owner)]
    columns = [("Id", "id"), ("Name", "name"), ("Owner", "owner"), ("Token", "prefix")]
    emit(rows, output, [*columns, ("Scopes", "scopes"), ("Expires", "expiresAt")], "API tokens")


@tokens_app.command("revoke")
def revoke_token(token_id: str) -> None:
    """Revoke a token at once."""
    runtime = _runtime()
    principal = cli_principal(runtime)
    actor = authorize_cli(runtime, "identity.token.revoke")
    try:
        with runtime.db.session() as session:
            row = tokens.get_token(session, token_id)
            if principal.method != "cli" and row.owner_ref != principal.ref:
                authorize_cli(runtime, "identity.account.manage")
            tokens.revoke_token(session, token_id, actor=actor)
    except PavedroadError as error:
        fail(error.message)
    out_console.print(f"Revoked token {token_id}")
