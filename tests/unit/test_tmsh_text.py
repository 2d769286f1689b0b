"""tmsh's printer and bigip.conf: F5's order and names, save sys config, load sys config merge (one
commit, all or nothing, errors with the line), UCS archives, restart of mcpd."""
import datetime
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.config import conf
from node.config.schema import object_path
from node.config.store import ConfigStore, Op
from node.config.tmsh import View, one_line, parse, render
from node.errors import ShellError
from node.iquery.trust import TrustStore
from node.shell import Shell
from node.sysconfig import SysConfig


class Log:
    def __init__(self):
        self.lines = []

    def log(self, level, process, text, **kw):
        self.lines.append(text)


class Clock:
    def now(self):
        return datetime.datetime.now(datetime.timezone.utc)


def run(store, line):
    cmd = parse(line)
    return store.commit([Op(cmd.verb, cmd.type, object_path(cmd.type, cmd.name), cmd.values)])


BASE = ["create net vlan external interfaces add { 1.1 }", "create net self ext address 10.1.10.11/24 vlan external",
        "create net vlan internal", "create net self int address 10.1.20.11/24 vlan internal"]
LTM = ['create ltm monitor http web_mon send "GET /health\\r\\n" recv 200 interval 10',
       "create ltm pool web members add { 10.1.20.21:80 10.1.20.22:8080 { ratio 2 } } monitor web_mon",
       "create ltm virtual vs destination 10.1.10.100:80 pool web profiles replace-all-with { http tcp } "
       "source-address-translation { type automap }"]


@pytest.fixture
def store(tmp_path):
    s = ConfigStore(tmp_path / "running.json", "bigip1", now=lambda: 1000.0)
    for line in BASE + LTM:
        run(s, line)
    return s


def user_objects(store):
    return {k: v for k, v in store.objects.items() if k[0] not in ("net vlan", "net self")}


# -- the printer --------------------------------------------------------------------------------
def test_list_shows_ports_by_name_profiles_as_blocks_and_properties_in_f5s_order(store):
    text = render("ltm virtual", "/Common/vs", store.get("ltm virtual", "/Common/vs"))
    assert text == ("ltm virtual vs {\n    destination 10.1.10.100:http\n    ip-protocol tcp\n"
                    "    mask 255.255.255.255\n    pool web\n    profiles {\n        http { }\n        tcp { }\n"
                    "    }\n    source 0.0.0.0/0\n    source-address-translation {\n        type automap\n    }\n"
                    "    translate-address enabled\n    translate-port enabled\n}")
    pool = render("ltm pool", "/Common/web", store.get("ltm pool", "/Common/web"))
    assert "10.1.20.21:http {" in pool and "10.1.20.22:webcache {" in pool
    mon = render("ltm monitor http", "/Common/web_mon", store.get("ltm monitor http", "/Common/web_mon"))
    assert 'send "GET /health\\r\\n"' in mon   # two characters, as typed and as F5 prints them


def test_one_line_puts_each_object_on_a_line(store):
    text = "\n".join(render("ltm node", p, v) for p, v in sorted(store.of_type("ltm node").items()))
    assert one_line(text) == ("ltm node 10.1.20.21 { address 10.1.20.21 }\n"
                              "ltm node 10.1.20.22 { address 10.1.20.22 }")


def test_names_read_relative_to_the_folder_and_whole_in_the_saved_form(store):
    v = store.get("ltm pool", "/Common/web")
    assert render("ltm pool", "/Common/web", v, view=View("/")).startswith("ltm pool Common/web {")
    saved = render("ltm pool", "/Common/web", v, view=View(conf=True))
    assert saved.startswith("ltm pool /Common/web {") and "/Common/10.1.20.21:80 {" in saved


def test_a_port_given_by_name_is_the_same_port(store):
    run(store, "create ltm pool named members add { 10.1.20.23:https }")
    assert store.get("ltm pool", "/Common/named")["members"][0]["name"] == "/Common/10.1.20.23:443"


# -- save sys config, load sys config merge -----------------------------------------------------
def test_save_writes_bigip_conf_files_and_merge_reads_them_back_as_the_same_objects(store, tmp_path):
    sc = SysConfig("bigip1", store, tmp_path, Log())
    assert sc.save() == ["/config/bigip.conf", "/config/bigip_base.conf"]
    text = (tmp_path / "config" / "bigip.conf").read_text()
    assert text.startswith("#TMSH-VERSION: 17.1.0\n") and "ltm pool /Common/web {" in text
    assert "net vlan" in (tmp_path / "config" / "bigip_base.conf").read_text() and "net vlan" not in text
    fresh = ConfigStore(None, "bigip1")
    for line in BASE:
        run(fresh, line)
    SysConfig("bigip1", fresh, tmp_path / "other", Log()).merge(text, "/config/bigip.conf")
    assert user_objects(fresh) == user_objects(store)


def test_an_irule_is_saved_as_its_tcl_and_read_back(store, tmp_path):
    tcl = 'when HTTP_REQUEST {\n    if { [HTTP::uri] eq "/" } { HTTP::respond 200 content "ok" }\n}'
    store.commit([Op("create", "ltm rule", "/Common/r1", {"api-anonymous": ("set", tcl)})])
    sc = SysConfig("bigip1", store, tmp_path, Log())
    sc.save()
    text = (tmp_path / "config" / "bigip.conf").read_text()
    assert f"ltm rule /Common/r1 {{\n{tcl}\n}}" in text
    store.commit([Op("delete", "ltm rule", "/Common/r1", {})])
    sc.merge(text)
    assert store.get("ltm rule", "/Common/r1")["api-anonymous"] == tcl


def test_merge_replaces_the_objects_it_names_and_leaves_the_rest(store, tmp_path):
    run(store, "create ltm pool other")
    sc = SysConfig("bigip1", store, tmp_path, Log())
    before_cid = store.cid
    n = sc.merge("ltm pool /Common/web {\n    members {\n        /Common/10.1.20.21:80 {\n"
                 "            address 10.1.20.21\n        }\n    }\n    monitor /Common/web_mon\n}\n"
                 "ltm node /Common/n9 {\n    address 10.9.9.9\n}\n")
    assert n == 2 and store.cid.id == before_cid.id + 1   # one commit
    assert [m["name"] for m in store.get("ltm pool", "/Common/web")["members"]] == ["/Common/10.1.20.21:80"]
    assert store.get("ltm node", "/Common/n9")["address"] == "10.9.9.9"
    assert store.get("ltm pool", "/Common/other") is not None


def test_a_pasted_section_of_a_real_bigip_conf_makes_its_objects(store, tmp_path):
    pasted = '''
# pasted from a BIG-IP
ltm monitor http /Common/app_http {
    adaptive disabled
    defaults-from /Common/http
    interval 5
    ip-dscp 0
    recv "HTTP/1.1 200"
    recv-disable none
    send "GET /app HTTP/1.1\\r\\nHost: app\\r\\n\\r\\n"
    time-until-up 0
    timeout 16
}
ltm pool /Common/app_pool {
    members {
        /Common/10.1.20.31:http {
            address 10.1.20.31
            session monitor-enabled
            state up
        }
    }
    monitor /Common/app_http
}
ltm virtual /Common/app_vs {
    destination /Common/10.1.10.120:https
    ip-protocol tcp
    mask 255.255.255.255
    pool /Common/app_pool
    profiles {
        /Common/clientssl {
            context clientside
        }
        /Common/tcp { }
    }
    source 0.0.0.0/0
    translate-address enabled
    translate-port enabled
    vs-index 3
}
'''
    sc = SysConfig("bigip1", store, tmp_path, Log())
    with pytest.raises(conf.LoadError, match=r'line: 8\) "recv-disable" unknown property'):
        sc.merge(pasted.replace("# pasted from a BIG-IP\n", "").replace("recv-disable none", "recv-disable down"))
    assert store.get("ltm pool", "/Common/app_pool") is None          # nothing applied
    modelled = pasted.replace("            session monitor-enabled\n            state up\n", "")
    assert sc.merge(modelled) == 3
    vs = store.get("ltm virtual", "/Common/app_vs")
    assert vs["destination"] == "/Common/10.1.10.120:443" and vs["profiles"] == ["/Common/clientssl", "/Common/tcp"]
    assert store.get("ltm monitor http", "/Common/app_http")["send"] == "GET /app HTTP/1.1\\r\\nHost: app\\r\\n\\r\\n"


@pytest.mark.parametrize("text,error", [
    ("ltm pool /Common/a {\n}\nltm pool /Common/b {\n    colour red\n}\n", r'at line: 4\) "colour" unknown property'),
    ("ltm pool /Common/a {\n}\nltm pool /Common/b {\n", r'at line: 3\) missing "}"'),
    ("ltm pool /Common/a { }\nltm wibble /Common/w { }\n", r'at line: 2\) "ltm wibble /Common/w" is not an object'),
    ("ltm pool /Common/a { monitor /Common/nosuch }\n", r"01020036:3: The requested Monitor \(/Common/nosuch\)"),
])
def test_bad_input_is_refused_with_its_line_and_changes_nothing(store, tmp_path, text, error):
    before = dict(store.objects)
    with pytest.raises(Exception, match=error):
        SysConfig("bigip1", store, tmp_path, Log()).merge(text, "/var/tmp/x.conf")
    assert store.objects == before


def test_the_saved_files_are_loaded_back_as_the_running_configuration(store, tmp_path):
    sc = SysConfig("bigip1", store, tmp_path, Log())
    sc.save()
    run(store, "create ltm pool unsaved")
    run(store, "delete ltm virtual vs")
    sc.load_saved()
    assert store.get("ltm pool", "/Common/unsaved") is None and store.get("ltm virtual", "/Common/vs") is not None


# -- the round trip, as a property --------------------------------------------------------------
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
POOL_PROPS = st.fixed_dictionaries({}, optional={
    "description": TEXT, "load-balancing-mode": st.sampled_from(["round-robin", "ratio-member"]),
    "slow-ramp-time": st.integers(0, 600), "min-active-members": st.integers(0, 5)})
MEMBERS = st.lists(st.tuples(st.integers(1, 254), st.sampled_from([80, 443, 8080, 8443, 9999]),
                             st.sampled_from([{}, {"ratio": "3"}, {"session": "user-disabled"},
                                              {"state": "user-down", "priority-group": "2"}])),
                   max_size=4, unique_by=lambda m: (m[0], m[1]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pools=st.lists(st.tuples(st.sampled_from(["a", "b.c", "web_1", "x-y"]), POOL_PROPS, MEMBERS), max_size=3,
                      unique_by=lambda p: p[0]),
       virtual=st.fixed_dictionaries({"port": st.sampled_from([0, 80, 443, 5000]),
                                      "snat": st.sampled_from(["none", "automap"]),
                                      "profiles": st.sampled_from([["tcp"], ["http", "tcp"], ["udp"]])}))
def test_printed_configuration_loads_back_as_the_same_objects(tmp_path, pools, virtual):
    store = ConfigStore(None, "bigip1")
    for line in BASE:
        run(store, line)
    ops = []
    for name, props, members in pools:
        values = {k: ("set", str(v)) for k, v in props.items()}
        values["members"] = ("set", {f"10.1.20.{h}:{p}": dict(m) for h, p, m in members})
        ops.append(Op("create", "ltm pool", f"/Common/{name}", values))
    ops.append(Op("create", "ltm virtual", "/Common/v", {
        "destination": ("set", f"10.1.10.100:{virtual['port']}"), "profiles": ("set", virtual["profiles"]),
        "source-address-translation": ("set", {"type": virtual["snat"]}),
        **({"pool": ("set", pools[0][0])} if pools else {})}))
    store.commit(ops)
    fresh = ConfigStore(None, "bigip1")
    for line in BASE:
        run(fresh, line)
    blocks = [b for text in conf.dump(store.objects).values() for b in conf.parse(text)]
    fresh.commit(conf.merge_ops(fresh.objects, blocks))
    assert fresh.objects == store.objects


# -- UCS ----------------------------------------------------------------------------------------
def test_a_ucs_holds_every_file_and_the_trust_and_restores_a_fresh_device(store, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    trust = TrustStore(tmp_path / "a", "bigip1", "10.0.0.1", Clock())
    sc = SysConfig("bigip1", store, tmp_path / "a", Log(), trust)
    path = sc.ucs_save("backup")
    assert path == tmp_path / "a" / "var" / "local" / "ucs" / "backup.ucs"
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert {"config/bigip.conf", "config/bigip_base.conf", "config/ssl/ssl.crt/dtdi.crt",
            "config/ssl/ssl.key/dtdi.key", "config/ssl/ssl.crt/dtca.crt"} <= set(names)
    # a fresh device of the same name: its own (new) identity, nothing configured
    fresh_dir = tmp_path / "b"
    fresh = ConfigStore(fresh_dir / "running.json", "bigip1")
    fresh_trust = TrustStore(fresh_dir, "bigip1", "10.0.0.1", Clock())
    assert fresh_trust.state.cert != trust.state.cert
    (fresh_dir / "var" / "local" / "ucs").mkdir(parents=True)
    (fresh_dir / "var" / "local" / "ucs" / "backup.ucs").write_bytes(path.read_bytes())
    reconnected = []
    SysConfig("bigip1", fresh, fresh_dir, Log(), fresh_trust, trust_changed=lambda: reconnected.append(1)).ucs_load(
        "/var/local/ucs/backup.ucs")
    assert fresh.objects == store.objects and reconnected == [1]
    assert fresh_trust.state.cert == trust.state.cert and (fresh_dir / "config" / "bigip.conf").exists()


def test_a_ucs_that_is_not_an_archive_changes_nothing(store, tmp_path):
    sc = SysConfig("bigip1", store, tmp_path, Log())
    (tmp_path / "var" / "local" / "ucs").mkdir(parents=True)
    (tmp_path / "var" / "local" / "ucs" / "junk.ucs").write_bytes(b"not a tarball")
    before = dict(store.objects)
    with pytest.raises(Exception, match="not a UCS archive"):
        sc.ucs_load("junk.ucs")
    assert store.objects == before


# -- through tmsh -------------------------------------------------------------------------------
async def test_tmsh_saves_loads_and_lists_ucs_and_runs_in_a_folder(store, tmp_path):
    shell = Shell("bigip1", store, None, set, lambda: [])
    shell.sysconfig = SysConfig("bigip1", store, tmp_path, Log())
    assert "Saving active configuration" in await shell.run("save sys ucs nightly")
    assert await shell.run("list sys ucs") == "sys ucs nightly.ucs"
    await shell.run("delete ltm virtual vs")
    await shell.run("load sys ucs nightly.ucs no-license")
    assert store.get("ltm virtual", "/Common/vs") is not None
    assert await shell.run("delete sys ucs nightly.ucs") == "nightly.ucs is deleted"
    assert await shell.run("list sys ucs") == ""
    out = await shell.run("load sys config merge from-terminal", text="ltm node /Common/t1 { address 10.1.20.99 }")
    assert "1 objects merged" in out and store.get("ltm node", "/Common/t1")
    out = await shell.run("load sys config merge from-terminal verify", text="ltm node /Common/t2 { address 10.1.20.98 }")
    assert "verified" in out and store.get("ltm node", "/Common/t2") is None
    with pytest.raises(ShellError, match='"colour" unknown property'):
        await shell.run("load sys config merge from-terminal", text="ltm node /Common/t3 {\n colour red\n}")
    assert "ltm pool Common/web {" in await shell.run("list ltm pool recursive", folder="/")
    assert await shell.run("list ltm pool", folder="/") == ""
    assert (await shell.run("list ltm node one-line")).startswith("ltm node 10.1.20.21 { address")


async def test_restart_of_mcpd_reloads_the_configuration_from_disk(store, tmp_path):
    restarted = []
    sc = SysConfig("bigip1", store, tmp_path, Log(), restarted=lambda: restarted.append(1))
    store.objects = {}          # what only memory held is gone after the restart
    sc.restart_mcpd()
    assert store.get("ltm pool", "/Common/web") is not None and restarted == [1]


def test_each_partition_is_saved_in_its_own_files_and_loads_back(tmp_path):
    from node.config.store import create_folder_ops
    store = ConfigStore(None, "bigip1")
    store.commit(create_folder_ops("/P", description="tenant") + create_folder_ops("/P/app"))
    store.commit([Op("create", "ltm pool", "/P/app/web", {"members": ("set", {"10.1.20.5:80": {}}),
                                                            "monitor": ("set", "/Common/http")}),
                  Op("create", "ltm pool", "/Common/c", {})])
    sc = SysConfig("bigip1", store, tmp_path, Log())
    assert sc.save() == ["/config/bigip.conf", "/config/bigip_base.conf", "/config/partitions/P/bigip.conf",
                         "/config/partitions/P/bigip_base.conf"]
    text = (tmp_path / "config" / "partitions" / "P" / "bigip.conf").read_text()
    assert "ltm pool /P/app/web {" in text and "/P/app/10.1.20.5:80 {" in text and "/Common/c" not in text
    fresh = ConfigStore(None, "bigip1")
    SysConfig("bigip1", fresh, tmp_path, Log()).load_saved()
    assert fresh.objects == store.objects


# -- over REST, as bigip_ucs and bigip_ucs_fetch move archives ------------------------------------
def rest_with_shell(store, tmp_path):
    """A device's REST with its shell and saved configuration (util bash, file transfer)."""
    from node.rest.app import RestApp
    from node.rest.parts import Device
    sc = SysConfig("bigip1", store, tmp_path, Log())
    shell = Shell("bigip1", store, None, set, lambda: [])
    shell.sysconfig = sc
    return RestApp(store=store, shell=shell, cluster=None, ltm=None, device=Device("bigip1", "t", "10.9.9.11"),
                   admin={"username": "admin", "password": "admin"}, now=lambda: 0.0, save_config=sc.save,
                   sysconfig=sc), shell


async def test_ucs_archives_go_up_and_down_in_chunks_and_are_listed_saved_and_loaded_over_rest(store, tmp_path):
    import httpx
    rest, shell = rest_with_shell(store, tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                                 auth=("admin", "admin")) as c:
        # bigip_ucs_fetch: a save task, then the archive down in chunks
        r = await c.post("/mgmt/tm/task/sys/ucs", json={"command": "save", "name": "nightly.ucs"})
        tid = r.json()["_taskId"]
        r = await c.put(f"/mgmt/tm/task/sys/ucs/{tid}", json={"_taskState": "VALIDATING"})
        assert r.status_code == 202
        assert (await c.get(f"/mgmt/tm/task/sys/ucs/{tid}/result")).json()["_taskState"] == "COMPLETED"
        items = (await c.get("/mgmt/tm/sys/ucs")).json()["items"]
        assert [i["apiRawValues"]["filename"] for i in items] == ["/var/local/ucs/nightly.ucs"]
        whole = (tmp_path / "var" / "local" / "ucs" / "nightly.ucs").read_bytes()
        got, start = b"", 0
        while start < len(whole):
            r = await c.get("/mgmt/shared/file-transfer/ucs-downloads/nightly.ucs",
                            headers={"Content-Range": f"{start}-{start + 999}/0"})
            assert r.status_code == 200 and r.headers["content-range"].endswith(f"/{len(whole)}")
            got += r.content
            start += 1000
        assert got == whole
        # bigip_ucs: the archive up in chunks, moved beside the others, loaded with tmsh
        for start in range(0, len(whole), 1000):
            chunk = whole[start:start + 1000]
            r = await c.post("/mgmt/shared/file-transfer/uploads/restore.ucs", content=chunk, headers={
                "Content-Range": f"{start}-{start + len(chunk) - 1}/{len(whole)}",
                "Content-Type": "application/octet-stream"})
            assert r.status_code == 200
        r = await c.post("/mgmt/tm/util/unix-mv", json={
            "command": "run", "utilCmdArgs": "/var/config/rest/downloads/restore.ucs /var/local/ucs/restore.ucs"})
        assert r.status_code == 200
        assert (tmp_path / "var" / "local" / "ucs" / "restore.ucs").read_bytes() == whole
        r = await c.post("/mgmt/tm/util/unix-mv", json={"command": "run", "utilCmdArgs": "/etc/passwd /var/local/ucs/x"})
        assert r.status_code == 400                            # only between the two directories
        await shell.run("delete ltm virtual vs")
        r = await c.post("/mgmt/tm/util/bash", json={"command": "run",
                                                     "utilCmdArgs": '-c "tmsh load sys ucs /var/local/ucs/restore.ucs"'})
        assert r.status_code == 200 and store.get("ltm virtual", "/Common/vs") is not None
        r = await c.post("/mgmt/tm/util/bash", json={"command": "run", "utilCmdArgs": '-c "tmsh delete sys ucs restore.ucs"'})
        assert "restore.ucs is deleted" in r.json()["commandResult"]


def test_a_devices_saved_configuration_loads_whole_bookkeeping_and_all(tmp_path):
    from pathlib import Path
    text = (Path(__file__).parent / "data" / "device_bigip.conf").read_text()
    store = ConfigStore(None, "bigip1")
    assert SysConfig("bigip1", store, tmp_path, Log()).merge(text, "bigip.conf") == 11
    vs = store.get("ltm virtual", "/Common/real_vs")
    assert (vs["destination"], vs["pool"], vs["profiles"]) == ("/Common/10.1.10.100:80", "/Common/real_pool",
                                                                ["/Common/http", "/Common/tcp"])
    assert store.get("net self", "/Common/external-self")["allow-service"] == "default"
    assert store.get("net vlan", "/Common/external")["interfaces"] == ["1.1"]
    assert [m["name"] for m in store.get("gtm pool a", "/Common/gp")["members"]] == ["/Common/bigip1:real_vs"]
    assert store.get("ltm monitor http", "/Common/my_http")["recv"] == "200 OK"
    with pytest.raises(conf.LoadError, match=r'line: \d+\) "recv-disable" unknown property'):
        SysConfig("bigip1", store, tmp_path, Log()).merge(text.replace("recv-disable none", "recv-disable down"))


# -- completion and help, from the schema -----------------------------------------------------------
def test_module_contexts_complete_and_explain_from_the_schema():
    from node.config import grammar
    assert grammar.is_module(["ltm"]) and grammar.is_module(["ltm", "monitor"]) and not grammar.is_module(["ltm", "pool"])
    assert grammar.is_module(["gtm", "pool"]) and grammar.is_module(["gtm", "wideip"])   # also `show` targets
    assert grammar.full_line(["ltm"], ["list", "pool", "web"]) == ["list", "ltm", "pool", "web"]
    assert grammar.full_line(["ltm"], ["show", "/sys", "version"]) == ["show", "sys", "version"]
    assert grammar.full_line(["ltm"], ["quit"]) == ["quit"]
    top = grammar.next_words([], "")
    assert {"create", "list", "show", "ltm", "gtm", "net", "sys", "cm", "auth"} <= set(top)
    assert {"pool", "virtual", "monitor"} <= set(grammar.next_words(["ltm"], "list "))
    assert grammar.next_words([], "create ltm pool web load-balancing-mode ")["ratio-member"].startswith("value")
    props = grammar.next_words([], "modify ltm pool web ")
    assert "members" in props and "min-up-members" in props and "colour" not in props
    assert set(grammar.next_words([], "list ltm pool ")) >= {"all-properties", "one-line", "recursive"}
    assert grammar.name_position(["ltm"], "modify pool ") == "ltm pool"
    assert grammar.name_position([], "show sys ") is None


def test_a_module_that_is_also_a_show_target_is_a_context_and_shows(monkeypatch):
    """`gtm pool` is a context on a BIG-IP (`list a p`) while `show gtm pool` shows them all."""
    import node.tmsh_cli as cli
    sent = []
    monkeypatch.setattr(cli, "call", lambda ctl, kind, **kw: sent.append(kw.get("line")) or {"ok": True, "result": ""})
    session = cli.Session("ctl")
    for line in ("gtm pool", "list a gp", "show", "..", "show pool", "/", "ltm", "show virtual vs"):
        session.run(line)
    assert sent == ["list gtm pool a gp", "show gtm pool", "show gtm pool", "show ltm virtual vs"]
    assert session.context == ["ltm"] and session.rc == 0


def test_question_mark_groups_what_may_come_next_as_tmsh_does():
    from node.tmsh_cli import help_text
    text = help_text(["ltm"], "list ")
    assert text.startswith("Components:") and "  pool" in text
    props = help_text([], "modify ltm pool web ")
    assert props.startswith("Properties:") and any(line.split()[:1] == ["load-balancing-mode"]
                                                    for line in props.splitlines())
    assert "Commands:" in help_text([], "") and "Modules:" in help_text([], "")


def test_list_gtm_topology_with_only_options_names_no_record():
    # `list gtm topology one-line` lists every record; the option is not a record's name
    cmd = parse("list gtm topology one-line")
    assert (cmd.type, cmd.name, cmd.words) == ("gtm topology", None, ["one-line"])


def test_list_prints_what_differs_from_the_defaults_and_all_properties_prints_all(store):
    """`list` leaves out what is at F5's default (and a db variable's read-only properties);
    `all-properties` prints every property, a pool member's too."""
    db = store.get("sys db", "/Common/setup.run")
    assert render("sys db", "/Common/setup.run", db) == 'sys db setup.run {\n    value "false"\n}'
    assert "value-range" in render("sys db", "/Common/setup.run", db, all_properties=True)
    pool = store.get("ltm pool", "/Common/web")
    short, full = render("ltm pool", "/Common/web", pool), render("ltm pool", "/Common/web", pool, all_properties=True)
    assert "load-balancing-mode" not in short and "slow-ramp-time" not in short and "ratio 2" in short
    assert "load-balancing-mode round-robin" in full and "slow-ramp-time 10" in full
    member = full.split("10.1.20.21:http {")[1].split("}")[0]
    assert {"address", "priority-group", "ratio", "session", "state", "description"} <= {
        line.split()[0] for line in member.strip().splitlines()}
    store.commit([Op("modify", "sys db", "/Common/ui.advisory.text", {"value": ("set", "lab \"one\"")})])
    saved = "\n".join(conf.dump(store.objects).values())
    assert 'sys db /Common/ui.advisory.text {\n    value "lab \\"one\\""\n}' in saved or \
        'sys db ui.advisory.text {\n    value "lab \\"one\\""\n}' in saved
    back = conf.parse(saved)
    assert any('lab "one"' in str(b) for b in back)


def test_merging_the_same_text_again_commits_nothing(store, tmp_path):
    sc = SysConfig("bigip1", store, tmp_path, Log())
    text = "ltm node /Common/n9 {\n    address 10.9.9.9\n    description again\n}\n"
    sc.merge(text)
    cid = store.cid
    assert sc.merge(text) == 1 and store.cid == cid


async def test_a_file_in_the_devices_tmp_loads_and_a_refusal_is_tmshs_and_changes_nothing(store, tmp_path):
    shell = Shell("bigip1", store, None, set, lambda: [])
    shell.sysconfig = sc = SysConfig("bigip1", store, tmp_path, Log())
    sc.local("/tmp/m.conf").parent.mkdir(parents=True)
    sc.local("/tmp/m.conf").write_text("ltm node /Common/t1 { address 10.1.20.99 }")
    assert "1 objects merged" in await shell.run("load sys config file /tmp/m.conf merge")
    assert sc.local("/etc/passwd") is None and sc.local("/tmp/../x") is None
    sc.local("/tmp/m.conf").write_text("ltm pool /Common/p9 {\n    monitor /Common/nope\n}")
    cid = store.cid
    for verify, doing in (("", "Loading"), (" verify", "Validating")):
        with pytest.raises(ShellError) as refused:
            await shell.run(f"load sys config file /tmp/m.conf merge{verify}")
        assert str(refused.value) == (f"{doing} configuration...\n  /tmp/m.conf\n01020036:3: The requested Monitor "
                                      f"(/Common/nope) was not found.\nUnexpected Error: {doing} configuration "
                                      "process failed.")
    assert store.cid == cid


async def test_load_sys_config_default_keeps_the_set_up_and_trust_and_resets_the_rest(store, tmp_path):
    base = [Op("create", "net vlan", "/Common/external", {}), Op("create", "net self", "/Common/ext", {})]
    shell = Shell("bigip1", store, None, set, lambda: [])
    shell.sysconfig = SysConfig("bigip1", store, tmp_path, Log(), base=lambda: base)
    for line in ("create cm device-group dg type sync-failover", "create auth partition P",
                 "create ltm pool /P/p2", "modify sys db ui.advisory.enabled value true",
                 "modify ltm monitor http http interval 9"):
        await shell.run(line)
    out = await shell.run("load sys config default")
    assert out.startswith("Loading the default configuration...")
    gone = [("ltm virtual", "/Common/vs"), ("ltm pool", "/Common/web"), ("ltm node", "/Common/10.1.20.21"),
            ("net vlan", "/Common/internal"), ("net self", "/Common/int"), ("ltm pool", "/P/p2"),
            ("auth partition", "/Common/P"), ("sys folder", "/P")]
    assert [k for k in gone if k in store.objects] == []
    for kept in (("net vlan", "/Common/external"), ("net self", "/Common/ext"), ("cm device-group", "/Common/dg"),
                 ("ltm monitor http", "/Common/http"), ("sys folder", "/Common")):
        assert kept in store.objects
    assert store.get("sys db", "/Common/ui.advisory.enabled")["value"] == "false"
    assert store.get("ltm monitor http", "/Common/http")["interval"] == 5
    assert "ltm pool" not in (tmp_path / "config" / "bigip.conf").read_text()    # saved as it now is
    assert "0 objects reset" in await shell.run("load sys config default")
