"""The web view's model and picture, sans-IO: states as F5 prints them, links down or impaired
from the fault record, 4353 channels broken with their reason; and a lab that is not up is a clear
page, not a stack trace."""
from __future__ import annotations

import httpx
import trio

from lab.model.plan import Bridge, Interface, NodePlan, Plan
from lab.web.app import Web
from lab.web.view import dot, lab_view
from node.status import NodeStatus
from tests.unit.test_telemetry import STATUS


def plan() -> Plan:
    def iface(node, vlan, addr):
        return Interface(vlan, f"h-{node}-{vlan}", f"br-{vlan}", addr, "")
    nodes = (NodePlan("bigip1", "bigip", "ns1", "10.0.0.1", ("ltm",), (iface("bigip1", "external", "10.1.10.11/24"),)),
             NodePlan("bigip2", "bigip", "ns2", "10.0.0.2", ("ltm",), (iface("bigip2", "external", "10.1.10.12/24"),)),
             NodePlan("client", "host", "ns3", None, (), (iface("client", "external", "10.1.10.51/24"),)))
    return Plan("t", "ha-pair.yml", "netns", True, "mgmt", (Bridge("br-external", "external", "10.1.10.0/24", None, ""),),
                nodes)


def test_states_links_and_channels_as_the_page_shows_them():
    active = NodeStatus.from_dict(STATUS)
    view = lab_view(plan(), {"bigip1": active, "bigip2": "bigip2: daemon is not running", "client": None},
                    {"h-client-external": "down"}, {"netem": {"bigip1:external": {"delay": "100ms"}}})
    b1, b2, client = view.nodes
    assert (b1.state, b1.sync, b1.floating) == ("ACTIVE", "In Sync", tuple(STATUS["failover"]["floating"]))
    assert (b2.state, b2.error) == ("DOWN", "bigip2: daemon is not running") and client.state == "READY"
    links = {(l.node, l.state, l.why) for l in view.links}
    assert links == {("bigip1", "impaired", "netem delay 100ms"), ("bigip2", "up", ""), ("client", "down", "link down")}
    broken = [c for c in view.channels if not c.trusted]
    assert [(c.target, c.reason) for c in broken] == [("gtm1", "certificate not signed by the domain CA")]
    source = dot(view).source
    assert 'id="node-bigip1"' in source and "certificate not signed by the domain CA" in source
    assert "#c0392b" in source   # a link down, a broken channel, a daemon down: red


async def test_a_lab_that_is_not_up_is_a_page_that_says_so():
    web = Web()
    async with trio.open_nursery() as nursery:
        await nursery.start(web.run)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as c:
            r = await c.get("/lab/nosuchlab/")
            assert r.status_code == 404 and "no lab named &#39;nosuchlab&#39; is up" in r.text
            assert "Traceback" not in r.text
            assert (await c.get("/nothing/here")).status_code == 404
        nursery.cancel_scope.cancel()


async def test_listen_credentials_are_asked_for_every_request():
    web = Web("t", {"username": "admin", "password": "s3cret"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as c:
        assert (await c.get("/")).status_code == 401
        assert (await c.get("/", auth=("admin", "nope"))).status_code == 401
        assert (await c.get("/", auth=("admin", "s3cret"))).status_code == 307   # on to the lab's page


def test_the_feed_reads_the_daemons_only_when_a_log_grows_or_slow_seconds_pass():
    from lab.web.feed import SLOW, due
    quiet = ((100, 1), (2000, 5))
    assert not due(quiet, quiet, 0.1) and not due(quiet, quiet, SLOW - 0.01)
    assert due(quiet, ((100, 1), (2100, 6)), 0.1)          # a node logged a state change
    assert due(quiet, ((100, 1), None), 0.1)               # a log went (the lab is going down)
    assert due(quiet, quiet, SLOW)                          # counters and ages, at most this often


async def test_with_no_lab_named_it_lists_labs_and_a_server_for_one_lab_acts_on_no_other():
    async with trio.open_nursery() as nursery:
        every = Web()
        await nursery.start(every.run)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=every), base_url="http://t") as c:
            r = await c.get("/")
            assert r.status_code == 200 and "Traceback" not in r.text   # the list of labs, not a redirect
            r = await c.post("/lab/nosuchlab/fault", data={"verb": "kill", "args": "bigip1"})
            assert r.status_code == 404   # a lab that is not up: nothing is done
        one = Web("a")
        await nursery.start(one.run)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=one), base_url="http://t") as c:
            r = await c.post("/lab/b/fault", data={"verb": "kill", "args": "bigip1"})
            assert r.status_code == 404 and "this server shows lab &#39;a&#39;, not &#39;b&#39;" in r.text
        nursery.cancel_scope.cancel()
