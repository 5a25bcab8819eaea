"""``pavedroad login``: the portal hands a personal token to the CLI's loopback receiver."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
from fastapi.testclient import TestClient

from pavedroad.identity.cli_credentials import (
    LoopbackReceiver,
    forget_credentials,
    load_token,
    save_credentials,
)
from tests.identity.conftest import csrf_of

HTML = {"accept": "text/html"}


def authorize_url(receiver: LoopbackReceiver, **changes: object) -> str:
    query = {"port": receiver.port, "state": receiver.state, "name": "laptop", **changes}
    return f"/cli/authorize?{urlencode(query)}"


def handoff(client: TestClient, receiver: LoopbackReceiver) -> httpx.Response:
    """Allow the CLI in the portal, then post the handoff form as the browser would."""
    page = client.get(authorize_url(receiver), headers=HTML)
    assert page.status_code == 200 and "Sign in the pavedroad CLI?" in page.text
    allowed = client.post(
        "/cli/authorize",
        data={
            "port": str(receiver.port),
            "state": receiver.state,
            "name": "laptop",
            "csrf_token": csrf_of(client),
        },
        headers=HTML,
    )
    assert allowed.headers["cache-control"] == "no-store"
    action = re.search(r'action="([^"]+)" id="cli-handoff"', allowed.text)
    fields = dict(re.findall(r'name="(state|token)" value="([^"]+)"', allowed.text))
    assert action and action.group(1) == f"http://127.0.0.1:{receiver.port}/callback"
    return httpx.post(action.group(1), data=fields)


def test_the_cli_receives_a_personal_token_that_acts_as_the_person(
    signed_in: Callable[[str], TestClient],
) -> None:
    client = signed_in("ada")
    with LoopbackReceiver() as receiver:
        assert handoff(client, receiver).status_code == 200
        token = receiver.wait(5)
    assert token is not None and token.startswith("prt_")
    me = client.get("/api/identity/me", headers={"authorization": f"Bearer {token}"}).json()
    assert me["ref"] == "user:default/ada" and me["method"] == "token"
    listed = client.get("/api/identity/tokens").json()["items"]
    assert [item["name"] for item in listed] == ["CLI on laptop"]


def test_a_post_with_another_state_is_not_taken(signed_in: Callable[[str], TestClient]) -> None:
    with LoopbackReceiver() as receiver:
        refused = httpx.post(
            f"http://127.0.0.1:{receiver.port}/callback",
            data={"state": "x" * 32, "token": "prt_forged"},
        )
        assert refused.status_code == 400
        assert receiver.wait(0.2) is None


def test_signing_in_first_comes_back_to_the_cli_page(browser: TestClient) -> None:
    with LoopbackReceiver() as receiver:
        url = authorize_url(receiver)
        response = browser.get(url, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?" + urlencode({"next": url})


def test_a_broken_link_says_to_run_login_again(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("ada")
    with LoopbackReceiver() as receiver:
        for bad in ({"port": "80"}, {"port": "x"}, {"state": "short"}):
            response = client.get(authorize_url(receiver, **bad), headers=HTML)
            assert response.status_code == 400
            assert "pavedroad login" in response.text


def test_credentials_are_kept_for_you_only_per_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pavedroad" / "credentials.json"
    save_credentials(path, "https://idp.example.com/", "prt_one")
    save_credentials(path, "http://127.0.0.1:8000", "prt_two")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_token(path, "https://idp.example.com") == "prt_one"
    assert forget_credentials(path, "https://idp.example.com")
    assert load_token(path, "https://idp.example.com") is None
    assert load_token(path, "http://127.0.0.1:8000") == "prt_two"
