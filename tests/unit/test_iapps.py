"""iApps without sockets: APL, the shipped templates, a service's run as one commit, strict updates,
orphaning, reconfigure, delete, the sandbox, and sync of what a run made."""
from pathlib import Path

import pytest

from node.config.iapp_text import TEMPLATE, parse_command, read_tmpl
from node.config.schema import object_path
from node.config.store import ConfigStore, Op
from node.config.tmsh import parse, render
from node.errors import IappFailed, StrictUpdates
from node.tcl.apl import AplError, check, fields

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
WEB = "/Common/web.app/web"
WEB_SERVICE = ('create sys application service web template lab.http variables add { pool__addr { value 10.1.10.100 } '
               'pool__persist { value "/#cookie#" } } tables add { pool__members { column-names { addr port } '
               'rows { { row { 10.1.20.11 80 } } { row { 10.1.20.12 80 } } } } }')


def run(store, line, folder="/Common"):
    cmd = parse(line)
    return store.commit([Op(cmd.verb, cmd.type, object_path(cmd.type, cmd.name, folder), cmd.values)])


def template(store, name, implementation, presentation="section basic { string addr required }"):
    run(store, f"create sys application template {name} actions replace-all-with {{ definition {{ "
               f"implementation {{ {implementation} }} presentation {{ {presentation} }} }} }}")


def owned(store, service=WEB):
    return sorted((t, p) for (t, p), v in store.objects.items() if v.get("app-service") == service)


def device(path, name):
    s = ConfigStore(path, name, now=lambda: 1000.0)
    for line in ("create net vlan external", "create net self ext address 10.1.10.11/24 vlan external",
                 "create net vlan internal", "create net self int address 10.1.20.11/24 vlan internal"):
        run(s, line)
    return s


@pytest.fixture
def store(tmp_path):
    s = device(tmp_path / "running.json", "bigip1")
    for f in ("lab.http.tmpl", "lab.tcp.tmpl"):
        for name, values in read_tmpl((TEMPLATES / f).read_text()):
            s.commit([Op("create", TEMPLATE, object_path(TEMPLATE, name), values)])
    return s


# -- APL --------------------------------------------------------------------------------------------
APL = """
section basic {
    string addr required
    choice port default "80" { "80", "443" }
    choice mode default "yes" { "Yes" => "yes", "No" => "no" }
    optional ( basic__mode == "yes" ) { string timeout default "5" }
    multichoice vlans { "internal", "external" }
    table members { string addr required
                    string port default "80" }
    message intro "nothing to fill in"
}
text { basic "Basic" }
"""


def test_apl_fields_have_their_types_required_flags_defaults_and_choices():
    f = fields(APL)
    assert set(f) == {"basic__addr", "basic__port", "basic__mode", "basic__timeout", "basic__vlans", "basic__members"}
    assert f["basic__addr"].required and f["basic__addr"].kind == "string"
    assert (f["basic__port"].default, f["basic__port"].choices) == ("80", ("80", "443"))
    assert f["basic__mode"].choices == ("yes", "no")          # the values, not the labels
    assert f["basic__vlans"].kind == "multichoice"
    assert [(c.name, c.required) for c in f["basic__members"].columns] == [("addr", True), ("port", False)]


@pytest.mark.parametrize("variables,tables,lists,error", [
    ({}, {}, {}, 'the variable "basic__addr" is required'),
    ({"basic__addr": "1.1.1.1", "basic__colour": "red"}, {}, {}, '"basic__colour" is not a variable'),
    ({"basic__addr": "1.1.1.1", "basic__port": "8080"}, {}, {}, '"8080" is not a choice of "basic__port"'),
    ({"basic__addr": "1.1.1.1"}, {"basic__members": {"column-names": ["addr", "weight"], "rows": []}}, {},
     'table "basic__members" has no column "weight"'),
    ({"basic__addr": "1.1.1.1"}, {}, {"basic__vlans": ["dmz"]}, '"dmz" is not a choice of "basic__vlans"'),
])
def test_a_service_s_values_are_checked_against_the_presentation(variables, tables, lists, error):
    with pytest.raises(AplError, match=error):
        check(fields(APL), variables, tables, lists)


def test_defaults_fill_the_variables_not_given():
    out = check(fields(APL), {"basic__addr": "1.1.1.1"}, {}, {})
    assert out == {"basic__addr": "1.1.1.1", "basic__port": "80", "basic__mode": "yes", "basic__timeout": "5"}


# -- tmsh text ------------------------------------------------------------------------------------
def test_a_service_line_reads_variables_tables_and_lists_in_f5s_rest_shape():
    verb, type_, name, values = parse_command(
        'create sys application service a template t variables add { x__y { value "two words" } } '
        'tables add { x__t { column-names { addr port } rows { { row { 1.1.1.1 80 } } } } } '
        'lists add { x__l { value { a b } } } strict-updates disabled')
    assert (verb, type_, name) == ("create", "sys application service", "a")
    assert values["variables"] == ("add", [{"name": "x__y", "encrypted": "no", "value": "two words"}])
    assert values["tables"] == ("add", [{"name": "x__t", "columnNames": ["addr", "port"], "rows": [{"row": ["1.1.1.1", "80"]}]}])
    assert values["lists"] == ("add", [{"name": "x__l", "encrypted": "no", "value": ["a", "b"]}])
    assert values["strict-updates"] == ("set", "disabled")


def test_the_shipped_templates_load_with_their_actions_and_modules(store):
    http = store.get(TEMPLATE, "/Common/lab.http")
    assert "tmsh::create ltm virtual" in http["implementation"] and http["requires-modules"] == ["ltm"]
    assert "pool__members" in {n for n in fields(http["presentation"])}
    text = render(TEMPLATE, "/Common/lab.http", http)
    assert text.startswith("sys application template lab.http {\n    actions {\n        definition {")


# -- a service's run --------------------------------------------------------------------------------
def test_a_service_makes_its_objects_in_its_folder_owned_by_it_in_one_commit(store):
    before = store.cid
    result = run(store, WEB_SERVICE)
    assert result["cid"].id == (before.id if before else 0) + 1
    assert owned(store) == [
        ("ltm monitor http", "/Common/web.app/web_http_monitor"), ("ltm node", "/Common/web.app/10.1.20.11"),
        ("ltm node", "/Common/web.app/10.1.20.12"), ("ltm pool", "/Common/web.app/web_pool"),
        ("ltm rule", "/Common/web.app/web_persist"), ("ltm virtual", "/Common/web.app/web_vs"),
        ("ltm virtual-address", "/Common/web.app/10.1.10.100"), ("sys folder", "/Common/web.app")]
    vs = store.get("ltm virtual", "/Common/web.app/web_vs")
    assert vs["destination"] == "/Common/web.app/10.1.10.100:80" and vs["pool"] == "/Common/web.app/web_pool"
    assert vs["rules"] == ["/Common/web.app/web_persist"]
    assert "persist cookie" in store.get("ltm rule", "/Common/web.app/web_persist")["api-anonymous"]


def test_a_failing_implementation_leaves_nothing_behind(store):
    template(store, "half", "tmsh::create ltm pool p1\n error {boom at the second step}")
    objects = dict(store.objects)
    with pytest.raises(IappFailed, match=r"script did not successfully complete: \(boom at the second step\)"):
        run(store, "create sys application service s template half variables add { basic__addr { value 1.1.1.1 } }")
    assert store.objects == objects


@pytest.mark.parametrize("script,error", [
    ("exec ls", 'invalid command name "exec"'),
    ("open /etc/passwd", 'invalid command name "open"'),
    ("while 1 {}", "limit exceeded"),
    ("tmsh::create ltm pool p1 colour red", "unknown property"),
])
def test_the_sandbox_refuses_what_an_iapp_may_not_do(store, script, error):
    template(store, "bad", script)
    with pytest.raises(IappFailed, match=error):
        run(store, "create sys application service s template bad variables add { basic__addr { value 1.1.1.1 } }")
    assert store.get("sys folder", "/Common/s.app") is None


def test_unknown_variables_are_refused_and_change_nothing(store):
    with pytest.raises(IappFailed, match='"pool__colour" is not a variable of the template'):
        run(store, "create sys application service web template lab.http variables add { pool__addr { value 1.1.1.1 } "
                   "pool__colour { value red } }")
    assert store.get("sys folder", "/Common/web.app") is None


def test_strict_updates_refuse_a_hand_edit_of_an_owned_object(store):
    run(store, WEB_SERVICE)
    for line in ("modify ltm pool /Common/web.app/web_pool description hand", "delete ltm virtual /Common/web.app/web_vs"):
        with pytest.raises(StrictUpdates, match=r"^01070621:3: The application service \(/Common/web.app/web\) must "
                                                r"be updated using an application management interface\.$"):
            run(store, line)


def test_strict_updates_disabled_lets_an_engineer_orphan_the_deployment(store):
    run(store, WEB_SERVICE)
    run(store, "modify sys application service web.app/web strict-updates disabled")
    for t, p in owned(store):
        run(store, f"modify {t} {p} app-service none") if t != "sys folder" else None
    run(store, "delete sys application service web.app/web")
    assert store.get("sys application service", WEB) is None
    assert store.get("ltm virtual", "/Common/web.app/web_vs")["app-service"] == "none"


def test_reconfigure_replaces_the_owned_objects_in_one_commit(store):
    run(store, WEB_SERVICE)
    cid = store.cid
    run(store, "modify sys application service web.app/web variables modify { pool__addr { value 10.1.10.101 } } "
               "tables replace-all-with { pool__members { column-names { addr } rows { { row { 10.1.20.13 } } } } }")
    assert store.cid.id == cid.id + 1
    assert store.get("ltm virtual-address", "/Common/web.app/10.1.10.100") is None
    assert store.get("ltm virtual", "/Common/web.app/web_vs")["destination"] == "/Common/web.app/10.1.10.101:80"
    assert [m["name"] for m in store.get("ltm pool", "/Common/web.app/web_pool")["members"]] == ["/Common/web.app/10.1.20.13:80"]
    assert store.get("ltm node", "/Common/web.app/10.1.20.11") is None


def test_deleting_the_service_removes_everything_it_owned(store):
    run(store, WEB_SERVICE)
    run(store, "delete sys application service web.app/web")
    assert not [p for _, p in store.objects if p.startswith("/Common/web.app")]


def test_a_peer_gets_what_the_run_made_as_one_commit(store, tmp_path):
    peer = device(tmp_path / "peer.json", "bigip2")
    peer.apply_full(store.snapshot(), store.cid, "bigip1")
    base = store.cid
    run(store, WEB_SERVICE)
    commits = store.commits_since(base)
    assert len(commits) == 1
    peer.apply_incremental(commits, "bigip1")
    assert owned(peer) == owned(store) and peer.get("sys application service", WEB) == store.get("sys application service", WEB)


def test_the_helpers_read_config_and_fields(store):
    template(store, "helpers", r"""
        tmsh::create ltm pool p1 description hello
        set obj [lindex [tmsh::get_config ltm pool p1] 0]
        tmsh::create ltm pool p2 description [tmsh::get_field_value $obj description]
        tmsh::create ltm pool p3 description [iapp::destination 2001:db8::1 443]
        if {[iapp::is ::basic__addr 1.1.1.1]} { iapp::conf create ltm pool p4 }
    """)
    run(store, "create sys application service h template helpers variables add { basic__addr { value 1.1.1.1 } }")
    assert store.get("ltm pool", "/Common/h.app/p2")["description"] == "hello"
    assert store.get("ltm pool", "/Common/h.app/p3")["description"] == "2001:db8::1.443"
    assert store.get("ltm pool", "/Common/h.app/p4")["app-service"] == "/Common/h.app/h"


TMPL_WITH_SCRIPT = """cli script /Common/lab.utils {
proc pool_name {app} { return "${app}_pool" }
proc script::run {} { tmsh::create ltm pool [lindex $tmsh::argv 1] description \\"[lindex $tmsh::argv 2]\\" }
}
sys application template /Common/withutils {
    actions { definition {
        implementation {
tmsh::include lab.utils
tmsh::create ltm pool [pool_name $tmsh::app_name] description included
tmsh::run cli script lab.utils ran_pool {made by script::run}
        }
        presentation { section basic { string addr required } }
    } }
}
"""


def test_a_template_includes_a_cli_script_and_runs_one(store, tmp_path):
    """tmsh::include defines a cli script's procs; tmsh::run cli script NAME ARGS runs its
    script::run with $tmsh::argv; both from the .tmpl file that ships them."""
    from node.shell import Shell
    (tmp_path / "withutils.tmpl").write_text(TMPL_WITH_SCRIPT)
    shell = Shell("bigip1", store, None, set, lambda: [])
    shell._load_template([str(tmp_path / "withutils.tmpl")])
    assert "proc pool_name" in store.get("cli script", "/Common/lab.utils")["api-anonymous"]
    assert render("cli script", "/Common/lab.utils", store.get("cli script", "/Common/lab.utils")).startswith(
        "cli script lab.utils {\nproc pool_name")
    run(store, "create sys application service u template withutils variables add { basic__addr { value 1.1.1.1 } }")
    assert store.get("ltm pool", "/Common/u.app/u_pool")["description"] == "included"
    assert store.get("ltm pool", "/Common/u.app/ran_pool")["description"] == "made by script::run"
    assert store.get("ltm pool", "/Common/u.app/ran_pool")["app-service"] == "/Common/u.app/u"


@pytest.mark.parametrize("script,error", [
    ("tmsh::include nope", r"The requested Script \(/Common/nope\) was not found"),
    ("tmsh::run util bash -c ls", r'"run util bash -c ls": an iApp runs only "run cli script NAME ..."'),
])
def test_include_and_run_refuse_what_is_not_there_or_not_allowed(store, script, error):
    template(store, "bad", "tmsh::create ltm pool p1\n" + script)
    with pytest.raises(IappFailed, match=error):
        run(store, "create sys application service s template bad variables add { basic__addr { value 1.1.1.1 } }")
    assert store.get("ltm pool", "/Common/s.app/p1") is None


@pytest.mark.parametrize("how", ["config", "ucs"])
def test_saved_configuration_and_ucs_bring_back_the_service_its_template_and_what_it_owns(store, tmp_path, how):
    """save sys config / a UCS, then load into a fresh device: the service, its template, its
    objects (the iRule it made among them) come back owned, strict updates hold, delete cleans up."""
    from node.sysconfig import SysConfig
    from tests.unit.test_tmsh_text import Log
    run(store, WEB_SERVICE)
    rule = render("ltm rule", "/Common/web.app/web_persist", store.get("ltm rule", "/Common/web.app/web_persist"))
    assert rule.endswith("persist cookie } \n    app-service web.app/web\n}")
    sc = SysConfig("bigip1", store, tmp_path, Log())
    sc.save() if how == "config" else sc.ucs_save("with_iapps")
    fresh = device(tmp_path / "fresh.json", "bigip1")
    other = SysConfig("bigip1", fresh, tmp_path if how == "config" else tmp_path / "other", Log())
    if how == "ucs":
        other.ucs_dir.mkdir(parents=True)
        (other.ucs_dir / "with_iapps.ucs").write_bytes((sc.ucs_dir / "with_iapps.ucs").read_bytes())
    other.load_saved() if how == "config" else other.ucs_load("with_iapps")
    assert owned(fresh) == owned(store) and len(owned(fresh)) >= 7
    assert fresh.get("ltm rule", "/Common/web.app/web_persist") == store.get("ltm rule", "/Common/web.app/web_persist")
    assert fresh.get("sys application template", "/Common/lab.http") == store.get("sys application template", "/Common/lab.http")
    assert fresh.get("sys application service", WEB) == store.get("sys application service", WEB)
    with pytest.raises(StrictUpdates):
        run(fresh, "modify ltm rule /Common/web.app/web_persist description hand")
    run(fresh, "delete sys application service web.app/web")
    assert not [p for _, p in fresh.objects if p.startswith("/Common/web.app")]


# -- iControl REST ----------------------------------------------------------------------------------
async def test_rest_deploys_a_service_in_f5s_shape_and_refuses_a_hand_edit():
    from tests.unit.test_rest_shapes import client, rest_of
    rest, store = rest_of()
    for name, values in read_tmpl((TEMPLATES / "lab.tcp.tmpl").read_text()):
        store.commit([Op("create", TEMPLATE, object_path(TEMPLATE, name), values)])
    body = {"name": "db", "partition": "Common", "template": "/Common/lab.tcp",
            "variables": [{"name": "basic__addr", "value": "10.0.0.100"}, {"name": "basic__port", "value": "3306"}],
            "tables": [{"name": "basic__servers", "columnNames": ["addr", "port"], "rows": [{"row": ["10.0.0.21", "3306"]}]}]}
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/sys/application/service", json=body)
        assert r.status_code == 200, r.text
        got = (await c.get("/mgmt/tm/sys/application/service/~Common~db.app~db")).json()
        assert (got["fullPath"], got["template"], got["strictUpdates"]) == ("/Common/db.app/db", "/Common/lab.tcp", "enabled")
        assert got["variables"][0] == {"name": "basic__addr", "encrypted": "no", "value": "10.0.0.100"}
        assert got["tables"] == body["tables"]
        vs = (await c.get("/mgmt/tm/ltm/virtual/~Common~db.app~db_vs")).json()
        assert vs["appService"] == "/Common/db.app/db"
        r = await c.patch("/mgmt/tm/ltm/pool/~Common~db.app~db_pool", json={"description": "hand"})
        assert r.status_code == 400 and "01070621:3" in r.json()["message"]
        r = await c.post("/mgmt/tm/sys/application/service", json={**body, "name": "bad",
                                                                   "variables": [{"name": "basic__nope", "value": "1"}]})
        assert r.status_code == 400 and '"basic__nope" is not a variable' in r.json()["message"]
        assert (await c.delete("/mgmt/tm/sys/application/service/~Common~db.app~db")).status_code == 200
        assert (await c.get("/mgmt/tm/ltm/virtual/~Common~db.app~db_vs")).status_code == 404


async def test_a_template_goes_up_as_a_file_loads_with_tmsh_and_shows_its_definition_as_actions(tmp_path):
    """bigip_iapp_template's calls: the .tmpl through the file-transfer endpoint, `tmsh load sys
    application template FILE` and `generate ... checksum` through util bash, the template in F5's
    REST shape (its definition the one item of its actions subcollection)."""
    import httpx
    from tests.unit.test_tmsh_text import rest_with_shell
    store = device(tmp_path / "running.json", "bigip1")
    rest, _ = rest_with_shell(store, tmp_path)
    text = (TEMPLATES / "lab.tcp.tmpl").read_text()
    url = "/mgmt/tm/sys/application/template/~Common~"

    async def load(name):
        data = text.replace("/Common/lab.tcp", f"/Common/{name}").encode()
        r = await c.post(f"/mgmt/shared/file-transfer/uploads/{name}", content=data, headers={
            "Content-Range": f"0-{len(data) - 1}/{len(data)}", "Content-Type": "application/octet-stream"})
        assert r.status_code == 200
        for cmd in (f"load sys application template /var/config/rest/downloads/{name}",
                    f"generate sys application template {name} checksum"):
            r = await c.post("/mgmt/tm/util/bash", json={"command": "run", "utilCmdArgs": f'-c "tmsh {cmd}"'})
            assert r.status_code == 200 and "commandResult" not in r.json(), r.text
        return (await c.get(url + name)).json()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                                 auth=("admin", "admin")) as c:
        got = await load("tcp_a")
        assert got["kind"] == "tm:sys:application:template:templatestate" and "implementation" not in got
        assert got["actionsReference"]["isSubcollection"] is True and got["requiresModules"] == ["ltm"]
        assert got["tmplChecksum"] == (await load("tcp_b"))["tmplChecksum"]     # the content's, not the name's
        actions = (await c.get(url + "tcp_a/actions")).json()
        assert actions["kind"] == "tm:sys:application:template:actions:actionscollectionstate"
        definition = (await c.get(url + "tcp_a/actions/definition")).json()
        assert definition["name"] == "definition" and "tmsh::create ltm pool" in definition["implementation"]
        assert "section basic" in definition["presentation"] and definition["htmlHelp"].startswith("<p>")
        r = await c.patch(url + "tcp_a", json={"tmplChecksum": None})
        assert r.status_code == 200 and "tmplChecksum" not in r.json()
        r = await c.post("/mgmt/tm/sys/application/template", json={
            "name": "sdk", "actions": {"definition": {"implementation": "set x 1", "presentation": ""}}})
        assert r.status_code == 200 and (await c.get(url + "sdk/actions/definition")).json()["implementation"] == "set x 1"
        r = await c.patch(url + "sdk/actions/definition", json={"implementation": "set x 2"})
        assert r.status_code == 200 and store.get(TEMPLATE, "/Common/sdk")["implementation"] == "set x 2"
        r = await c.post("/mgmt/tm/util/bash", json={"command": "run", "utilCmdArgs":
                                                     '-c "tmsh load sys application template /var/config/rest/downloads/nope"'})
        assert "cannot read" in r.json()["commandResult"]
