"""sys dns and sys ntp: one object each, at the collection's URL as a BIG-IP serves them, with
F5's REST names; tmsh lists what a PATCH set."""
from __future__ import annotations

from tests.unit.test_logins import client, node  # noqa: F401  (the fixture)


async def test_sys_dns_and_ntp_read_and_take_a_patch(node):  # noqa: F811
    rest, shell, store = node
    async with client(rest, ("admin", "admin")) as c:
        got = (await c.get("/mgmt/tm/sys/ntp")).json()
        assert got["kind"] == "tm:sys:ntp:ntpstate" and got["timezone"] == "America/Los_Angeles"
        r = await c.patch("/mgmt/tm/sys/dns", json={"nameServers": ["10.1.1.53"], "search": ["lab.example"]})
        assert r.json()["nameServers"] == ["10.1.1.53"]
        assert (await c.patch("/mgmt/tm/sys/ntp", json={"servers": ["10.1.1.123"]})).status_code == 200
        assert (await c.delete("/mgmt/tm/sys/dns")).status_code == 405
    assert store.get("sys ntp", "/Common/ntp")["servers"] == ["10.1.1.123"]
    assert "name-servers { 10.1.1.53 }" in await shell.run("list sys dns")


def test_tmsh_list_verbs_on_a_singleton_keep_their_braces():
    from node.config.tmsh import parse
    assert parse("modify sys dns name-servers replace-all-with { 10.1.20.21 }").values == {
        "name-servers": ("set", ["10.1.20.21"])}
    assert parse("modify sys ntp { servers add { 10.1.1.123 } }").values == {"servers": ("add", ["10.1.1.123"])}
    assert parse("modify gtm global-settings load-balancing { topology-longest-match no }").values == {
        "topology-longest-match": ("set", "no")}
