"""iControl REST's commands and transactions behind the door, with narrow stand-ins for the
cluster and the shell and a real ConfigStore."""
from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest
import trio

from node.config.store import ConfigStore
from node.errors import ShellError
from node.rest.app import RestApp
from node.rest.auth import Auth
from node.rest.commands import config_load_line
from node.rest.errors import RestError
from node.rest.parts import Device
from node.rest.transactions import TRANSACTION_TIMEOUT, Transactions


class Cluster:
    def sync_status(self):
        return {"status": "In Sync", "color": "green", "groups": {}, "cid": None}

    def failover_status(self):
        return {"state": "active", "traffic_groups": {"traffic-group-1": "active"}, "split_brain": {},
                "state_for": 4832.7}

    def device_state(self):
        return "active"

    def traffic_groups(self):
        return {"traffic-group-1": "active"}

    def peers(self):
        return {}

    def connected(self, name):
        return False


class Shell:
    def __init__(self):
        self.lines = []

    async def run(self, line):
        self.lines.append(line)
        if "nosuch" in line:
            raise ShellError("01070734:3: Configuration error: traffic group nosuch was not found")
        return ""


def rest_app(tmp_path, shell):
    store = ConfigStore(None, "b1")
    return RestApp(store=store, shell=shell, cluster=Cluster(), ltm=SimpleNamespace(members=lambda pool: []),
                   device=Device("b1", "t", "10.9.9.11"), admin={"username": "admin", "password": "admin"},
                   now=lambda: 1000.0, save_config=lambda: str(tmp_path))


def client(rest):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                             auth=("admin", "admin"))


async def test_sys_failover_runs_one_tmsh_line_as_the_task(tmp_path):
    shell = Shell()
    async with client(rest_app(tmp_path, shell)) as c:
        r = await c.post("/mgmt/tm/sys/failover", json={"command": "run",
                                                         "utilCmdArgs": "standby traffic-group traffic-group-1"})
        assert r.status_code == 200 and r.json()["trafficGroup"] == "traffic-group-1"
        assert shell.lines == ["run sys failover standby traffic-group traffic-group-1"]
        r = await c.post("/mgmt/tm/sys/failover", json={"command": "run", "online": True, "trafficGroup": "tg"})
        assert r.status_code == 400 and r.json()["message"] == "traffic-group goes with standby only"
        r = await c.post("/mgmt/tm/sys/failover", json={"command": "run", "standby": True, "trafficGroup": "nosuch"})
        assert r.status_code == 400 and r.json()["message"].startswith("01070734:3: Configuration error")
        r = await c.get("/mgmt/tm/sys/failover")
        assert r.json()["apiRawValues"]["apiAnonymous"] == "Failover active for 0d 01:20:32\n"


async def test_a_command_path_with_another_method_is_not_a_command(tmp_path):
    async with client(rest_app(tmp_path, Shell())) as c:
        assert (await c.get("/mgmt/tm/sys/version")).status_code == 200
        r = await c.post("/mgmt/tm/sys/version", json={})
        assert r.status_code == 404 and "not registered" in r.json()["message"]
        r = await c.delete("/mgmt/tm/gtm/global-settings/general")
        assert r.status_code == 405


async def test_an_idle_transaction_is_dropped_after_the_timeout(autojump_clock):
    store = ConfigStore(None, "b1")
    auth = Auth({"username": "admin", "password": "admin"}, lambda: {}, lambda: 0.0)
    trans = Transactions(store, auth, lambda ops, about=(): store.commit(ops),
                         monotonic=trio.current_time, wall=lambda: 1.0)
    tid = str(json.loads(trans.handle([], "POST", "admin", {}, "/mgmt/tm/transaction").body)["transId"])
    await trio.sleep(TRANSACTION_TIMEOUT - 1)
    trans.queue(tid, "POST", "/mgmt/tm/net/vlan", ["net", "vlan"], {"name": "v1"}, "admin")   # touches it
    await trio.sleep(TRANSACTION_TIMEOUT - 1)
    assert json.loads(trans.handle([tid], "GET", "admin", None, "").body)["state"] == "STARTED"
    await trio.sleep(TRANSACTION_TIMEOUT + 1)
    with pytest.raises(RestError) as e:
        trans.handle([tid], "GET", "admin", None, "")
    assert e.value.code == 404
    assert store.get("net vlan", "/Common/v1") is None


async def test_a_missing_object_is_404_only_when_the_uri_names_it(tmp_path):
    async with client(rest_app(tmp_path, Shell())) as c:
        r = await c.patch("/mgmt/tm/ltm/pool/~Common~nosuch", json={"description": "x"})
        assert r.status_code == 404
        assert r.json()["message"] == "01020036:3: The requested Pool (/Common/nosuch) was not found."
        r = await c.post("/mgmt/tm/ltm/pool", json={"name": "web", "monitor": "nosuch"})
        assert r.status_code == 400
        assert r.json()["message"] == "01020036:3: The requested Monitor (/Common/nosuch) was not found."
        assert (await c.post("/mgmt/tm/ltm/pool", json={"name": "web"})).status_code == 200
        assert (await c.post("/mgmt/tm/ltm/pool", json={"name": "web"})).status_code == 409


def test_a_sys_config_load_body_is_its_tmsh_line():
    assert config_load_line({"command": "load", "name": "merge", "options": [{"file": "/tmp/a.conf"}, {"verify": ""}]}) \
        == "load sys config merge file /tmp/a.conf verify"
    assert config_load_line({"command": "load", "options": [{"merge": True}, {"file": "/tmp/a.conf"}]}) \
        == "load sys config merge file /tmp/a.conf"
    assert config_load_line({"command": "load"}) == "load sys config"
    assert config_load_line({"command": "load", "name": "default"}) == "load sys config default"
    for bad in ({"options": [{"file": "/tmp/a; rm -rf /"}]}, {"options": [{"colour": "red"}]},
                {"name": "default", "options": [{"file": "/tmp/a.conf"}]}, {"name": "factory"}):
        with pytest.raises(RestError):
            config_load_line({"command": "load", **bad})
