"""auth password-policy and the lockout it sets: an `auth user` that fails max-login-failures
logins in a row is refused, even with the right password, until an admin unlocks it with tmsh;
tokens are unguessable and good only for their own user. Through the ASGI app, on a real store."""
from __future__ import annotations

import string

import httpx
import pytest

from node.config.schema import hash_secret
from node.config.store import Op
from node.logins import LoginFailures
from node.rest.app import RestApp
from node.shell import Shell, ShellError
from tests.unit.test_icontrol import fake_parts

POLICY = "/mgmt/tm/auth/password-policy"
LOGIN = "/mgmt/shared/authn/login"


@pytest.fixture
def node(tmp_path):
    parts = fake_parts(tmp_path)
    store = parts["store"]
    store.commit([Op("create", "auth user", f"/Common/{n}", {"password": ("set", hash_secret("right")),
                                                              "role": ("set", "operator")}) for n in ("bob", "eve")])
    logins = LoginFailures(lambda: int(store.get("auth password-policy", "/Common/password-policy")
                                       ["max-login-failures"]))
    shell = Shell("b1", store, None, set, lambda: "")
    shell.logins = logins
    rest = RestApp(**{**parts, "shell": shell, "logins": logins})
    return rest, shell, store


def client(rest, auth=None):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost", auth=auth)


async def login(c, user, password):
    return await c.post(LOGIN, json={"username": user, "password": password, "loginProviderName": "tmos"})


async def test_the_password_policy_reads_with_f5s_defaults_and_takes_a_patch(node):
    rest, shell, store = node
    async with client(rest, ("admin", "admin")) as c:
        got = (await c.get(POLICY)).json()
        assert got["kind"] == "tm:auth:password-policy:password-policystate"
        assert {k: got[k] for k in ("maxLoginFailures", "minimumLength", "maxDuration", "expirationWarning",
                                    "policyEnforcement", "passwordMemory")} == \
            {"maxLoginFailures": 0, "minimumLength": 6, "maxDuration": 99999, "expirationWarning": 7,
             "policyEnforcement": "disabled", "passwordMemory": 0}
        assert (await c.patch(POLICY, json={"maxLoginFailures": 3})).json()["maxLoginFailures"] == 3
        r = await c.patch(POLICY, json={"maxLoginFailures": -1})
        assert r.status_code == 400 and "out of range" in r.json()["message"]
        assert (await c.delete(POLICY)).status_code == 405
    assert await shell.run("list auth password-policy") == "auth password-policy {\n    max-login-failures 3\n}"
    async with client(rest, ("bob", "right")) as c:      # an operator may not change it
        assert (await c.patch(POLICY, json={"maxLoginFailures": 0})).status_code == 401
    assert store.get("auth password-policy", "/Common/password-policy")["max-login-failures"] == 3


async def test_max_login_failures_locks_the_account_until_an_admin_unlocks_it(node):
    rest, shell, _ = node
    await shell.run("modify auth password-policy max-login-failures 3")
    async with client(rest) as c:
        for _ in range(3):
            assert (await login(c, "bob", "wrong")).status_code == 401
        r = await login(c, "bob", "right")
        assert r.status_code == 401 and r.json()["message"] == "Authentication failed: Account locked due to 3 failed logins"
        assert (await c.get("/mgmt/tm/sys/version", auth=("bob", "right"))).status_code == 401   # Basic too
        assert (await login(c, "eve", "right")).status_code == 200     # another account is not touched
        assert "3 failures, locked" in await shell.run("show auth login-failures bob")
        await shell.run("reset-stats auth login-failures bob")
        assert (await login(c, "bob", "right")).status_code == 200


async def test_a_good_login_clears_the_count_and_the_topologys_admin_is_never_locked(node):
    rest, shell, _ = node
    await shell.run("modify auth password-policy max-login-failures 3")
    async with client(rest) as c:
        for _ in range(2):
            await login(c, "bob", "wrong")
        assert (await login(c, "bob", "right")).status_code == 200
        for _ in range(2):
            await login(c, "bob", "wrong")
        assert (await login(c, "bob", "right")).status_code == 200
        for _ in range(10):
            await login(c, "admin", "wrong")
        assert (await login(c, "admin", "admin")).status_code == 200


async def test_without_max_login_failures_no_account_is_locked(node):
    rest, _, _ = node
    async with client(rest) as c:
        for _ in range(20):
            await login(c, "bob", "wrong")
        assert (await login(c, "bob", "right")).status_code == 200


async def test_reset_stats_takes_only_login_failures(node):
    _, shell, _ = node
    with pytest.raises(ShellError, match="unexpected argument"):
        await shell.run("reset-stats ltm pool")


async def test_tokens_are_unguessable_and_good_only_for_their_own_user(node):
    rest, _, _ = node
    async with client(rest) as c:
        tokens = [(await login(c, "bob", "right")).json()["token"]["token"] for _ in range(50)]
        assert len(set(tokens)) == 50
        assert all(len(t) == 26 and set(t) <= set(string.ascii_uppercase + string.digits) for t in tokens)
        eve = (await login(c, "eve", "right")).json()["token"]["token"]
        bob = {"X-F5-Auth-Token": tokens[0]}
        r = await c.get("/mgmt/shared/authz/tokens", headers=bob)
        assert {t["userName"] for t in r.json()["items"]} == {"bob"}
        assert (await c.get(f"/mgmt/shared/authz/tokens/{eve}", headers=bob)).status_code == 404
        assert (await c.delete(f"/mgmt/shared/authz/tokens/{eve}", headers=bob)).status_code == 404
        assert (await c.get("/mgmt/shared/authz/tokens", headers={"X-F5-Auth-Token": eve})).status_code == 200
