"""gtm monitor external: the GTM's prober runs the monitor's script (a sys file external-monitor,
by the LTM's runner) against each virtual server it monitors, and the result decides the
member's status; AS3's GSLB_Monitor monitorType external (pathname, arguments,
environmentVariables, script) maps onto it."""
import trio

from node.as3.desired import tenant_objects
from node.as3.refs import Resolver
from node.config import tmsh as tmsh_text
from node.gtm import probes
from node.gtm.service import GTM
from node.log import Log
from node.config.store import ConfigStore, Op
from node.ltm.external import probe_external
from test_as3_core import adc, app, errors_of
from test_gtm_sync import Wire, tmsh

SCRIPT = "#!/bin/sh\n[ -e \"$UP_FILE\" ] && echo up\n"


def configure(store, vs_monitor=""):
    for line in ("create gtm datacenter dc1",
                 "create gtm monitor external ext run probe_sh interval 1 timeout 2 probe-timeout 1 "
                 "user-defined UP_FILE /nonexistent",
                 "create gtm server web datacenter dc1 product generic-host addresses add { 10.1.20.21 } "
                 f"virtual-servers add {{ vs1 {{ destination 10.1.20.21:80 {vs_monitor} }} vs2 {{ destination 10.1.20.22:80 }} }}"
                 + ("" if vs_monitor else " monitor /Common/ext")):
        tmsh(store, line)


def with_script(store, text=SCRIPT):
    store.commit([Op("create", "sys file external-monitor", "/Common/probe_sh", {
        "source-path": ("set", "file:/var/config/rest/downloads/probe_sh"), "content": ("set", text)})])


def test_the_probes_are_one_per_virtual_server_by_its_rule_or_its_servers(tmp_path):
    store = ConfigStore(None, "gtm1")
    with_script(store)
    configure(store)
    want = probes.wanted(store.objects)
    assert sorted(want) == [("/Common/web", "vs1", "/Common/ext"), ("/Common/web", "vs2", "/Common/ext")]
    spec = want[("/Common/web", "vs1", "/Common/ext")]
    assert (spec.address, spec.port) == ("10.1.20.21", 80)
    settings = probes.settings_of(spec)
    assert (settings["script"], settings["user-defined"], settings["name"]) == (SCRIPT, {"UP_FILE": "/nonexistent"}, "/Common/ext")


def test_a_monitor_target_replaces_the_virtual_servers_address_and_port():
    assert probes.target("*:*", "10.1.20.21", 80) == ("10.1.20.21", 80)
    assert probes.target("1.1.1.1:8080", "10.1.20.21", 80) == ("1.1.1.1", 8080)
    assert probes.target("*:443", "10.1.20.21", 80) == ("10.1.20.21", 443)


def test_a_probe_is_up_on_a_success_and_down_once_the_timeout_passes_without_one():
    p = probes.Probe(started=0.0, timeout=3.0)
    assert not p.took("the script printed nothing", 1.0) and p.state == "checking"
    assert p.took("the script printed nothing", 3.0) and (p.state, p.reason) == ("down", "the script printed nothing")
    assert p.took(None, 4.0) and p.state == "up"
    assert not p.took("x", 5.0) and p.state == "up"   # within the timeout of the last success
    assert p.took("x", 7.0) and p.state == "down"


async def test_the_prober_runs_the_script_and_the_member_follows_it(tmp_path):
    """The real runner: the script finds its UP_FILE (a user-defined variable), the generic host's
    virtual server goes available; the file removed, offline after the timeout. Real time (the
    script is a real process): each wait is on a condition, with a deadline."""
    up = tmp_path / "up"
    wire = Wire()
    iq = wire.end("gtm1")
    store = ConfigStore(None, "gtm1", events=iq.events)
    with_script(store)
    configure(store)
    tmsh(store, f"modify gtm monitor external ext user-defined UP_FILE {up}")
    tmsh(store, "create gtm pool a pool_a members add { web:vs1 }")

    async def run(settings, address, port, timeout):
        return await probe_external(tmp_path / "scripts", settings, address, port, timeout)

    gtm = GTM("gtm1", store, iq, Log(tmp_path / "gtm1.jsonl", "gtm1"), iq.events, run_external=run)
    async with trio.open_nursery() as nursery:
        await nursery.start(gtm.run)
        assert gtm.virtual_status("/Common/web", "vs1").state == "unknown"   # checking
        up.write_text("")
        st = await until(lambda: gtm.virtual_status("/Common/web", "vs1").state == "available"
                         and gtm.virtual_status("/Common/web", "vs1"))
        assert (st.state, st.usable) == ("available", True)
        assert gtm.view.members[("/Common/pool_a", "/Common/web:vs1")].state == "available"
        up.unlink()
        st = await until(lambda: gtm.virtual_status("/Common/web", "vs1").state == "offline"
                         and gtm.virtual_status("/Common/web", "vs1"))
        assert (st.state, st.usable) == ("offline", False)
        assert "Monitor /Common/ext: the script printed nothing" in st.reason
        tmsh(store, "modify gtm server web monitor none")   # no monitor: no probe, as before
        assert not gtm.probes and gtm.virtual_status("/Common/web", "vs1").reason == "No monitor: checking disabled"
        nursery.cancel_scope.cancel()


async def until(check, deadline: float = 10.0):
    with trio.fail_after(deadline):
        while not (got := check()):
            await trio.sleep(0.05)
    return got


def test_tmsh_lists_a_gtm_external_monitor_with_its_variables(tmp_path):
    store = ConfigStore(None, "gtm1")
    with_script(store)
    configure(store)
    text = tmsh_text.render("gtm monitor external", "/Common/ext", store.get("gtm monitor external", "/Common/ext"))
    assert "    run probe_sh\n" in text and store.get("gtm monitor external", "/Common/ext")["run"] == "/Common/probe_sh" and "    user-defined UP_FILE /nonexistent\n" in text


def gslb(**mon):
    return adc(T={"class": "Tenant", "A": app(ext={"class": "GSLB_Monitor", "monitorType": "external", **mon})})


def test_as3_gslb_monitor_external_takes_a_pathname_or_a_script_and_its_environment():
    decl = gslb(pathname="/Common/arg_example", arguments="A=1", target="1.1.1.1:80", interval=31, timeout=121,
                environmentVariables={"USER": "nobody"})
    assert errors_of(decl) == []
    objs = {(o.type, o.path): o.values for o in tenant_objects("T", decl["T"], Resolver({"T": decl["T"]}))}
    mon = objs[("gtm monitor external", "/T/A/ext")]
    assert (mon["run"], mon["args"], mon["destination"], mon["user-defined"], mon["interval"]) == (
        "/Common/arg_example", "A=1", "1.1.1.1:80", {"USER": "nobody"}, 31)
    decl = gslb(script={"text": SCRIPT})
    objs = {(o.type, o.path): o.values for o in tenant_objects("T", decl["T"], Resolver({"T": decl["T"]}))}
    assert objs[("gtm monitor external", "/T/A/ext")]["run"] == "/T/A/ext-script"
    assert objs[("sys file external-monitor", "/T/A/ext-script")]["content"] == SCRIPT
    assert errors_of(gslb(script={"url": "https://example.com/monitor.sh"})) == [
        "/T/A/ext/script: a script from a URL is not supported by this lab (it reaches no internet)"]


async def test_rest_takes_a_gtm_external_monitor_and_shows_its_variables_as_f5_does(tmp_path):
    import httpx
    from node.rest.app import RestApp
    from test_icontrol import fake_parts
    parts = fake_parts(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**parts).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        r = await c.post("/mgmt/tm/gtm/monitor/external", json={"name": "ext", "run": "/Common/probe_sh",
                                                                  "interval": 5, "timeout": 16})
        assert r.status_code == 200, r.text
        tmsh(parts["store"], "modify gtm monitor external ext user-defined FLAG /tmp/x")
        got = (await c.get("/mgmt/tm/gtm/monitor/external/~Common~ext")).json()
        assert (got["run"], got["interval"]) == ("/Common/probe_sh", 5)
        assert got["apiRawValues"] == {"userDefined FLAG": "/tmp/x"}   # as F5 shows them (and the LTM's)
