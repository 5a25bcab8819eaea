"""What must hold before a server may start: someone must be able to sign in, and automatic
demo sign-in never leaves loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pavedroad.core.errors import PavedroadError
from pavedroad.identity.accounts import count_accounts

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime


class UnsafeSetupError(PavedroadError):
    """The configuration would expose the portal without sign-in."""


def check_sign_in_is_possible(runtime: Runtime) -> None:
    settings = runtime.settings
    if settings.binds_loopback:
        return
    if settings.auth.demo_user_ref:
        raise UnsafeSetupError(
            f"auth.demo_user_ref signs everyone in as {settings.auth.demo_user_ref}, which is "
            f"only allowed on a loopback address, and this server binds {settings.host}. Unset "
            "PAVEDROAD_AUTH__DEMO_USER_REF, or bind 127.0.0.1."
        )
    if settings.auth.oidc.issuer:
        return
    if settings.auth.local_accounts:
        with runtime.db.read_session() as session:
            if count_accounts(session) > 0:
                return
    raise UnsafeSetupError(
        f"This server binds {settings.host}, reachable from other machines, but nobody could "
        "sign in: configure single sign-on (PAVEDROAD_AUTH__OIDC__ISSUER, __CLIENT_ID, "
        "__CLIENT_SECRET) or create a local account with `pavedroad users create NAME`, then "
        "start again. To try pavedroad on this machine only, bind 127.0.0.1."
    )
