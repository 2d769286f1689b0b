"""AS3's /settings: F5's keys and defaults, a POST overwrites them all, 422 on bad types, kept
in the configuration; burst handling queues declarations instead of answering 503."""
from __future__ import annotations

import trio
from trio.testing import wait_all_tasks_blocked

from node.as3 import settings
from node.config.store import ConfigStore
from tests.unit.test_as3_core import adc, app, as3_client

URL = "/mgmt/shared/appsvcs/settings"


async def test_get_shows_the_defaults_and_a_post_overwrites_every_setting(tmp_path):
    _, c = as3_client(tmp_path)
    async with c:
        assert (await c.get(URL)).json() == settings.DEFAULTS
        r = await c.post(URL, json={"burstHandlingEnabled": True, "asyncTaskStorage": "memory"})
        assert r.status_code == 200 and r.json() == {**settings.DEFAULTS, "burstHandlingEnabled": True,
                                                     "asyncTaskStorage": "memory"}
        r = await c.post(URL, json={"serviceDiscoveryEnabled": False})    # the others back to their defaults
        assert r.json() == {**settings.DEFAULTS, "serviceDiscoveryEnabled": False}
        assert (await c.get(URL)).json() == r.json()


async def test_a_bad_settings_body_is_422_and_changes_nothing(tmp_path):
    _, c = as3_client(tmp_path)
    async with c:
        await c.post(URL, json={"burstHandlingEnabled": True})
        for body, error in (({"burstHandlingEnabled": "yes"}, "/burstHandlingEnabled: should be boolean"),
                            ({"colour": 1}, "/: should NOT have additional properties"),
                            ({"asyncTaskStorage": "disk"}, "/asyncTaskStorage: should be equal to one of the allowed values")):
            r = await c.post(URL, json=body)
            assert r.status_code == 422 and r.json() == {"code": 422, "message": "declaration is invalid",
                                                         "errors": [error]}
        r = await c.post(URL, json={"performanceTracingEnabled": True})   # no Jaeger client in the lab
        assert r.status_code == 422 and "jaeger" in r.json()["message"]
        assert (await c.put(URL, json={})).status_code == 405
        assert (await c.get(URL)).json() == {**settings.DEFAULTS, "burstHandlingEnabled": True}


def test_settings_are_kept_in_the_configuration_across_a_restart(tmp_path):
    store = ConfigStore(tmp_path / "running.json", "b1")
    store.commit(settings.overwrite(store, {"burstHandlingEnabled": True, "webhook": "https://hooks.example/as3"}))
    again = ConfigStore(tmp_path / "running.json", "b1")
    assert settings.current(again) == {**settings.DEFAULTS, "burstHandlingEnabled": True,
                                       "webhook": "https://hooks.example/as3"}


async def burst_of_declarations(tmp_path, burst: bool) -> list[int]:
    """12 declarations posted while one runs: each one's HTTP status."""
    rest, c = as3_client(tmp_path)
    statuses = []
    async with c:
        await c.post(URL, json={"burstHandlingEnabled": burst})

        async def post(i):
            r = await c.post("/mgmt/shared/appsvcs/declare",
                             json=adc(**{f"T{i}": {"class": "Tenant", "A": app(p={"class": "Pool"})}}))
            statuses.append(r.status_code)
        async with trio.open_nursery() as n:
            async with rest.appsvcs.turn:     # a declaration is being applied
                for i in range(12):
                    n.start_soon(post, i)
                await wait_all_tasks_blocked()
        assert rest.appsvcs.pending == 0
        deployed = (await c.get("/mgmt/shared/appsvcs/declare")).json()
        assert sum(k.startswith("T") for k in deployed) == statuses.count(200)   # each one that waited ran
    return sorted(statuses)


async def test_without_burst_handling_a_declaration_while_another_runs_is_503(tmp_path):
    assert await burst_of_declarations(tmp_path, False) == [200] + [503] * 11


async def test_burst_handling_queues_declarations_up_to_ten_behind_the_running_one(tmp_path):
    assert await burst_of_declarations(tmp_path, True) == [200] * 11 + [503]
