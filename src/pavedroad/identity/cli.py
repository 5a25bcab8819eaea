"""``pavedroad users ...`` (local accounts) and ``pavedroad tokens ...`` (API tokens)."""

from __future__ import annotations

import contextlib
import socket
import sys
import webbrowser
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
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
from pavedroad.identity.cli_credentials import (
    LoopbackReceiver,
    forget_credentials,
    load_token,
    save_credentials,
)
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


# -- signing the CLI in ------------------------------------------------------------------------


def login(
    server: Annotated[
        str | None, typer.Option(help="The portal's URL (default: this configuration's).")
    ] = None,
    browser: Annotated[bool, typer.Option(help="Open the page in a browser.")] = True,
    timeout: Annotated[int, typer.Option(help="Seconds to wait for the sign-in.")] = 300,
) -> None:
    """Sign the CLI in through the portal (single sign-on or a local account) and keep the
    token it is given for later commands."""
    settings = get_settings()
    base = (server or settings.resolved_base_url).rstrip("/")
    with LoopbackReceiver() as receiver:
        query = urlencode(
            {"port": receiver.port, "state": receiver.state, "name": socket.gethostname()}
        )
        url = f"{base}/cli/authorize?{query}"
        err_console.print("Open this page to sign the CLI in (you sign in to the portal first):")
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        if browser:
            webbrowser.open(url)
        token = receiver.wait(timeout)
    if token is None:
        fail(f"no sign-in arrived within {timeout} s", "run `pavedroad login` again")
    me = _me(base, token)
    save_credentials(settings.credentials_file, base, token)
    out_console.print(
        f"Signed in as [bold]{me['displayName']}[/] ({me['ref']}); the token is kept in "
        f"{settings.credentials_file}"
    )


def logout(
    server: Annotated[str | None, typer.Option(help="The portal's URL.")] = None,
) -> None:
    """Revoke the CLI's token and forget it."""
    settings = get_settings()
    base = (server or settings.resolved_base_url).rstrip("/")
    token = load_token(settings.credentials_file, base)
    if token is None:
        fail(f"the CLI is not signed in to {base}", "`pavedroad login` signs it in")
    with contextlib.suppress(httpx.HTTPError):
        token_id = _me(base, token).get("tokenId")
        if token_id:
            httpx.delete(
                f"{base}/api/identity/tokens/{token_id}",
                headers={"authorization": f"Bearer {token}"},
                timeout=10,
            )
    forget_credentials(settings.credentials_file, base)
    out_console.print(f"Signed out of {base}")


def whoami() -> None:
    """Who commands act as: a token's owner, or the operator at this machine."""
    runtime = runtime_for_cli(get_settings())
    principal = cli_principal(runtime)
    if principal.method == "cli":
        out_console.print(
            f"{principal.ref}: the operator (no token; `pavedroad login` signs you in)"
        )
        return
    groups = ", ".join(principal.ownership_refs[1:]) or "no groups"
    out_console.print(f"{principal.ref} ({groups})")


def _me(base: str, token: str) -> dict[str, Any]:
    try:
        response = httpx.get(
            f"{base}/api/identity/me", headers={"authorization": f"Bearer {token}"}, timeout=10
        )
    except httpx.HTTPError as error:
        fail(f"cannot reach {base}: {type(error).__name__}", "is the portal running there?")
    if response.status_code != 200:
        fail(f"{base} refused the token it just gave ({response.status_code})")
    found: dict[str, Any] = response.json()
    return found
