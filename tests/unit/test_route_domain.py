"""Route domain 0 lists every VLAN no other route domain holds, in REST and tmsh, as on a BIG-IP."""
from __future__ import annotations

from node.shell import Shell
from tests.unit.test_rest_shapes import client, rest_of

RD0 = "/mgmt/tm/net/route-domain/~Common~0"


async def test_route_domain_0_lists_the_vlans_no_other_route_domain_holds():
    rest, store = rest_of()
    async with client(rest) as c:
        rd0 = (await c.get(RD0)).json()
        assert rd0["vlans"] == ["/Common/internal"]
        assert rd0["vlansReference"][0]["link"].startswith("https://localhost/mgmt/tm/net/vlan/~Common~internal?ver=")
        assert (await c.post("/mgmt/tm/net/vlan", json={"name": "v2", "interfaces": [{"name": "1.2"}]})).status_code == 200
        assert (await c.get(RD0)).json()["vlans"] == ["/Common/internal", "/Common/v2"]
        made = await c.post("/mgmt/tm/net/route-domain", json={"name": "rd2", "id": 2, "vlans": ["v2"]})
        assert made.status_code == 200 and made.json()["vlans"] == ["/Common/v2"]
        assert (await c.get(RD0)).json()["vlans"] == ["/Common/internal"]
    assert store.get("net route-domain", "/Common/0").get("vlans") == []    # a view: nothing stored
    shell = Shell("b1", store, None, set, lambda: [])
    assert "vlans { internal }" in await shell.run("list net route-domain 0")
