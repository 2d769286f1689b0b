"""AS3's per-application deployments (/declare/TENANT/applications[/APP]): posted applications
join the tenant's deployed ones, the others stand; DELETE of one leaves the rest; the answers show
applications without their tenant; perAppDeploymentAllowed false refuses them."""
from __future__ import annotations

from tests.unit.test_as3_core import adc, app, as3_client

DECLARE = "/mgmt/shared/appsvcs/declare"


def pool_app(n: int) -> dict:
    return app(p={"class": "Pool", "members": [{"servicePort": 80, "serverAddresses": [f"10.1.20.{n}"]}]})


async def test_posted_applications_join_the_tenant_and_the_others_stand(tmp_path):
    rest, c = as3_client(tmp_path)
    async with c:
        r = await c.post(DECLARE, json=adc(Shop={"class": "Tenant", "A1": pool_app(1)}))
        assert r.status_code == 200
        r = await c.post(f"{DECLARE}/Shop/applications", json={"schemaVersion": "3.50.0", "A2": pool_app(2)})
        assert r.status_code == 200, r.text
        assert [x["message"] for x in r.json()["results"]] == ["success"]
        assert set(r.json()["declaration"]) == {"schemaVersion", "A2"}
        assert rest.store.get("ltm pool", "/Shop/A1/p") and rest.store.get("ltm pool", "/Shop/A2/p")
        got = (await c.get(f"{DECLARE}/Shop/applications")).json()
        assert set(got) == {"schemaVersion", "A1", "A2"}
        assert set((await c.get(f"{DECLARE}/Shop/applications/A2")).json()) == {"schemaVersion", "A2"}
        assert (await c.get(f"{DECLARE}/Shop/applications/A9")).status_code == 404
        r = await c.post(f"{DECLARE}/New/applications", json={"A3": pool_app(3)})    # a tenant made for it
        assert r.status_code == 200 and rest.store.get("ltm pool", "/New/A3/p")
        assert set((await c.get(DECLARE)).json()) >= {"Shop", "New"}


async def test_deleting_an_application_leaves_the_others_and_the_last_takes_the_tenant(tmp_path):
    rest, c = as3_client(tmp_path)
    async with c:
        await c.post(DECLARE, json=adc(Shop={"class": "Tenant", "A1": pool_app(1), "A2": pool_app(2)}))
        r = await c.delete(f"{DECLARE}/Shop/applications/A1")
        assert r.status_code == 200, r.text
        assert rest.store.get("ltm pool", "/Shop/A1/p") is None and rest.store.get("ltm pool", "/Shop/A2/p")
        assert (await c.delete(f"{DECLARE}/Shop/applications/A1")).status_code == 404
        assert (await c.delete(f"{DECLARE}/Shop/applications/A2")).status_code == 200
        assert rest.store.get("sys folder", "/Shop") is None
        assert (await c.get(DECLARE)).status_code == 204


async def test_bad_per_application_bodies_and_the_setting_that_turns_them_off(tmp_path):
    rest, c = as3_client(tmp_path)
    async with c:
        r = await c.post(f"{DECLARE}/Shop/applications", json=adc(Shop={"class": "Tenant", "A1": pool_app(1)}))
        assert r.status_code == 422 and "not a Tenant or ADC" in r.json()["errors"][0]
        r = await c.post(f"{DECLARE}/Shop/applications", json={"A1": {"class": "Application", "p": {"class": "Nope"}}})
        assert r.status_code == 422 and r.json()["errors"][0].startswith('/Shop/A1/p/class: class "Nope"')
        await c.post("/mgmt/shared/appsvcs/settings", json={"perAppDeploymentAllowed": False})
        r = await c.post(f"{DECLARE}/Shop/applications", json={"A1": pool_app(1)})
        assert r.status_code == 422 and "disabled" in r.json()["message"]
        assert rest.store.get("sys folder", "/Shop") is None
