"""iRules run by real Tcl against a Flow, without sockets: F5's commands, operators, errors,
the budget, the sandbox, and the load-time check."""
import pytest

from node.config.store import ConfigStore, Op
from node.errors import RuleError
from node.ltm.hooks import Flow, Headers, Request, Response
from node.ltm.irules import COMMANDS, IRules, Tables
from node.tcl.irule import F5_COMMANDS, compile_rule


class Log:
    def __init__(self):
        self.lines = []

    def log(self, level, proc, text, msgid="", **fields):
        self.lines.append((level, text, msgid))


def store_with(*ops):
    store = ConfigStore(None, "bigip1")
    store.commit([Op("create", "net vlan", "/Common/external", {}),
                  Op("create", "net self", "/Common/ext", {"address": ("set", "10.1.10.1/24"),
                                                           "vlan": ("set", "/Common/external")}),
                  Op("create", "ltm pool", "/Common/web_pool", {}), Op("create", "ltm pool", "/Common/api_pool", {}),
                  Op("create", "ltm data-group internal", "/Common/dg_paths",
                     {"type": ("set", "string"), "records": ("set", {"/old": {"data": "/new"}, "/api": {}})}),
                  Op("create", "ltm data-group internal", "/Common/dg_nets",
                     {"type": ("set", "ip"), "records": ("set", {"10.9.0.0/16": {"data": "lab"}})})])
    if ops:
        store.commit(list(ops))
    return store


def rule(name, text):
    return Op("create", "ltm rule", f"/Common/{name}", {"api-anonymous": ("set", text)})


def virtual(*rules):
    return Op("create", "ltm virtual", "/Common/vs", {"destination": ("set", "10.1.10.100:80"),
                                                      "pool": ("set", "web_pool"), "profiles": ("set", ["tcp", "http"]),
                                                      "rules": ("set", list(rules))})


def flow(uri="/", headers=(("Host", "www.example.com"),)):
    return Flow("/Common/vs", ("10.9.1.5", 40000), ("10.1.10.100", 80), "/Common/web_pool",
                request=Request("GET", uri, headers=Headers(headers)))


def run(text, uri="/", event="HTTP_REQUEST", f=None):
    log = Log()
    rules = IRules(store_with(rule("r", text), virtual("r")), log)
    rules.reconcile()
    f = f or flow(uri)
    rules.hook_for("/Common/vs").fire(event, f)
    return f, log, rules


def test_every_f5_command_the_check_knows_is_registered():
    assert set(COMMANDS) | {"call"} == set(F5_COMMANDS)


def test_uri_switch_with_f5_operators_picks_the_pool_and_header_insert():
    text = '''when HTTP_REQUEST {
        if { [HTTP::uri] starts_with "/api" and not ([HTTP::host] equals "x") } {
            pool api_pool
        }
        HTTP::header insert X-Forwarded-For [IP::client_addr]
    }'''
    f, log, _ = run(text, "/api/v1")
    assert f.pool == "/Common/api_pool" and f.target.pool == "/Common/api_pool"
    assert f.request.headers.value("X-Forwarded-For") == "10.9.1.5" and f.outcome is None
    f, _, _ = run(text, "/index.html")
    assert f.pool == "/Common/web_pool" and f.target is None


def test_redirect_respond_reject():
    f, _, _ = run('when HTTP_REQUEST { HTTP::redirect "https://[HTTP::host][HTTP::uri]" }', "/a?b=1")
    assert (f.outcome.kind, f.outcome.location) == ("redirect", "https://www.example.com/a?b=1")
    f, _, _ = run('when HTTP_REQUEST { HTTP::respond 403 content "no" Content-Type text/plain }')
    assert (f.outcome.kind, f.outcome.status, f.outcome.body, f.outcome.headers) == \
        ("respond", 403, b"no", (("Content-Type", "text/plain"),))
    f, _, _ = run("when HTTP_REQUEST { reject }")
    assert f.outcome.kind == "reset"


def test_data_group_lookup_and_ip_match():
    text = '''when HTTP_REQUEST {
        set to [class lookup [HTTP::path] dg_paths]
        if { $to ne "" } { HTTP::uri $to }
        if { [class match [IP::client_addr] equals dg_nets] } { HTTP::header insert X-Net [class match -value [IP::client_addr] equals dg_nets] }
        if { [class match [HTTP::uri] starts_with dg_paths] } { HTTP::header insert X-Api 1 }
    }'''
    f, _, _ = run(text, "/old")
    assert f.request.uri == "/new" and f.request.headers.value("X-Net") == "lab"
    f, _, _ = run(text, "/api/x")
    assert f.request.uri == "/api/x" and f.request.headers.value("X-Api") == "1"


def test_an_error_is_logged_in_f5_shape_counted_and_resets():
    f, log, rules = run("when HTTP_REQUEST { set x [expr {1 / 0}] }")
    assert f.outcome.kind == "reset"
    level, text, msgid = log.lines[-1]
    assert text.startswith("TCL error: /Common/r <HTTP_REQUEST> - divide by zero") and msgid == "01220001:3"
    assert rules.show()["/Common/r"]["HTTP_REQUEST"] == {"priority": 500, "executions": 1, "failures": 1, "aborts": 0}


def test_a_runaway_rule_is_stopped_by_the_budget():
    f, log, rules = run("when HTTP_REQUEST { while {1} {} }")
    assert f.outcome.kind == "reset" and rules.show()["/Common/r"]["HTTP_REQUEST"]["aborts"] == 1


def test_variables_live_per_connection_across_events():
    text = '''when CLIENT_ACCEPTED { set who [IP::client_addr] }
    when HTTP_REQUEST { HTTP::header insert X-Who $who }'''
    log = Log()
    rules = IRules(store_with(rule("r", text), virtual("r")), log)
    rules.reconcile()
    hook, f, g = rules.hook_for("/Common/vs"), flow(), flow()
    hook.fire("CLIENT_ACCEPTED", f)
    hook.fire("HTTP_REQUEST", f)
    hook.fire("HTTP_REQUEST", g)   # another connection never saw CLIENT_ACCEPTED: no $who
    assert f.request.headers.value("X-Who") == "10.9.1.5" and g.outcome.kind == "reset"


def test_priority_then_list_order_and_event_disable():
    a = 'when HTTP_REQUEST priority 600 { HTTP::header insert X-Order a }'
    b = 'when HTTP_REQUEST priority 100 { HTTP::header insert X-Order b ; event disable }'
    log = Log()
    rules = IRules(store_with(rule("a", a), rule("b", b), virtual("a", "b")), log)
    rules.reconcile()
    hook, f = rules.hook_for("/Common/vs"), flow()
    hook.fire("HTTP_REQUEST", f)
    hook.fire("HTTP_REQUEST", f)
    assert f.request.headers.values("X-Order") == ["b", "a", "a"]


def test_response_headers_table_and_log():
    text = '''when HTTP_RESPONSE {
        HTTP::header replace Server lab
        table incr hits
        log local0. "status [HTTP::status] hits [table lookup hits]"
    }'''
    f = flow()
    f.response = Response(200, "OK", headers=Headers([("Server", "nginx")]))
    f, log, rules = run(text, event="HTTP_RESPONSE", f=f)
    assert f.response.headers.value("Server") == "lab"
    assert log.lines[-1][1] == "Rule /Common/r <HTTP_RESPONSE>: status 200 hits 1"


def test_sandbox_has_no_exec_or_files():
    for cmd in ("exec ls", 'open "/etc/passwd"', "socket localhost 80", "file delete /x"):
        with pytest.raises(RuleError, match="undefined procedure"):
            compile_rule("/Common/r", f"when HTTP_REQUEST {{ {cmd} }}")
    f, _, _ = run('when HTTP_REQUEST { set c exec ; $c ls }')
    assert f.outcome.kind == "reset"


def test_load_time_errors_read_as_f5s():
    with pytest.raises(RuleError) as e:
        compile_rule("/Common/r", "when HTTP_REQUEST {\n  pool a\n  if {1} {\n")
    assert str(e.value) == "01070151:3: Rule [/Common/r] error: /Common/r:1: error: [parse error: missing close-brace][{]"
    with pytest.raises(RuleError, match=r"/Common/r:3: error: \[undefined procedure: xlog\]\[xlog local0. hi\]"):
        compile_rule("/Common/r", "when HTTP_REQUEST {\n  pool a\n  xlog local0. hi\n}")


def test_store_refuses_a_bad_rule_and_http_events_without_http_profile():
    store = store_with()
    with pytest.raises(RuleError):
        store.commit([rule("bad", "when HTTP_REQUEST { if }} ")])
    assert store.get("ltm rule", "/Common/bad") is None
    store.commit([rule("r", "when HTTP_REQUEST { pool web_pool }")])
    vs = virtual("r")
    vs.values["profiles"] = ("set", ["tcp"])
    with pytest.raises(Exception, match="01071912:3: HTTP_REQUEST event in rule .* requires an associated HTTP"):
        store.commit([vs])


def test_tables_expire_after_their_timeout():
    now = [0.0]
    t = Tables(lambda: now[0])
    t.set("", "k", "v", 10)
    now[0] = 9
    assert t.lookup("", "k") == "v"     # touched: lives 10 more
    now[0] = 18
    assert t.lookup("", "k", touch=False) == "v"
    now[0] = 20
    assert t.lookup("", "k") == ""


def test_table_entries_nobody_looks_up_again_expire_and_leave_the_table():
    now = [0.0]
    t = Tables(lambda: now[0])
    for second in range(20):   # a rate limit keyed by client: every entry is new, none asked for again
        now[0] = second * 60.0
        for client in range(500):
            t.set("rate", f"10.{second}.0.{client}", "1", 60)
    assert len(t.entries) <= 2 * Tables.SWEEP and t.lookup("rate", "10.19.0.1") == "1"


def test_names_in_a_rule_are_relative_to_its_folder():
    log = Log()
    store = store_with(Op("create", "auth partition", "/P", {}),
                       Op("create", "ltm pool", "/P/api_pool", {}))
    store.commit([Op("create", "ltm rule", "/P/r", {"api-anonymous": ("set", "when HTTP_REQUEST { pool api_pool }")}),
                  Op("create", "ltm virtual", "/P/vs", {"destination": ("set", "10.1.10.100:80"),
                                                        "profiles": ("set", ["tcp", "http"]),
                                                        "rules": ("set", ["/P/r"])})])
    rules = IRules(store, log)
    rules.reconcile()
    f = flow()
    rules.hook_for("/P/vs").fire("HTTP_REQUEST", f)
    assert f.pool == "/P/api_pool" and f.outcome is None


def test_persist_and_snat_commands_set_what_the_proxy_acts_on():
    f, _, _ = run("when HTTP_REQUEST { persist source_addr 255.255.255.0 60 ; snat automap }")
    assert (f.persist, f.persist_options, f.snat_rule) == ("source_addr", {"mask": "255.255.255.0", "timeout": "60"},
                                                           "automap")
    f, _, _ = run("when HTTP_REQUEST { persist cookie insert my_cookie ; snat 10.1.20.10 }")
    assert (f.persist, f.persist_options, f.snat_rule) == ("cookie", {"cookie-name": "my_cookie"}, "10.1.20.10")
    f, log, _ = run("when HTTP_REQUEST { snat somewhere }")
    assert f.outcome.kind == "reset" and 'invalid IP address "somewhere"' in log.lines[-1][1]


def ltm_of(store):
    from node.events import Hub
    from node.ltm.service import LTM
    return LTM("bigip1", store, lambda: ["traffic-group-1"], Log(), Hub())


def test_an_irules_persist_uses_the_builtin_profile_without_one_on_the_virtual_and_snat_picks_the_source():
    store = store_with(Op("create", "net vlan", "/Common/internal", {}),
                       Op("create", "net self", "/Common/int", {"address": ("set", "10.1.20.11/24"),
                                                               "vlan": ("set", "/Common/internal")}),
                       Op("create", "net self", "/Common/int_float", {"address": ("set", "10.1.20.10/24"),
                          "vlan": ("set", "/Common/internal"), "traffic-group": ("set", "/Common/traffic-group-1")}),
                       virtual())
    ltm = ltm_of(store)
    f = flow()
    assert ltm.persistence_of(f) is None                 # the virtual has no persistence profile
    f.persist, f.persist_options = "source_addr", {"timeout": "60"}
    kind, values = ltm.persistence_of(f)
    assert kind == "source-addr" and values["timeout"] == "60" and values["mask"] == "none"
    f.persist = "none"
    assert ltm.persistence_of(f) is None
    from node.ltm.proxy import Picked
    member = Picked("/Common/web_pool", "/Common/10.1.20.21:80", "10.1.20.21", 80)
    assert ltm.source_of(f, member) == (None, False)     # SNAT none, no transparent socket here: the proxy's own
    ltm.transparent = True                                # (the data plane sets it up in the node's namespace)
    assert ltm.source_of(f, member) == (f.client[0], True)   # SNAT none: the client's own address
    f.snat_rule = "automap"
    assert ltm.source_of(f, member) == ("10.1.20.10", False)   # the traffic group's floating self IP
    f.snat_rule = "10.1.20.99"
    assert ltm.source_of(f, member) == ("10.1.20.99", False)
    # a traffic group with no floating self IP there: the device's own, never another group's floating one
    assert ltm.automap("/Common/traffic-group-2", "10.1.20.21") == "10.1.20.11"


def test_an_irule_takes_a_fastl4_virtual_onto_the_proxy_path_where_l4_events_run():
    store = store_with(rule("r", "when CLIENT_ACCEPTED { log local0. hi }\nwhen SERVER_CONNECTED { log local0. up }"),
                       Op("create", "ltm virtual", "/Common/l4", {"destination": ("set", "10.1.10.100:81"),
                                                                  "pool": ("set", "web_pool"),
                                                                  "profiles": ("set", ["fastL4"])}))
    ltm = ltm_of(store)
    assert ltm.data_path(store.get("ltm virtual", "/Common/l4")) == "fastl4"
    store.commit([Op("modify", "ltm virtual", "/Common/l4", {"rules": ("set", ["r"])})])
    assert ltm.data_path(store.get("ltm virtual", "/Common/l4")) == "tcp"
    ltm.irules.reconcile()
    hook = ltm.hook_for("/Common/l4")
    assert hook.wants("CLIENT_ACCEPTED") and hook.wants("SERVER_CONNECTED")


def test_a_rule_no_virtual_uses_gets_no_interpreter_until_one_does():
    """Every device has _sys_https_redirect: a daemon made a Tcl interpreter for it at start (and
    the master's), 16 ms and memory of its own each, for a rule few virtuals use. A rule with
    RULE_INIT is loaded at once, as on a BIG-IP, which runs it when the configuration loads."""
    log = Log()
    store = store_with(rule("unused", "when HTTP_REQUEST { HTTP::redirect https://[HTTP::host][HTTP::uri] }"),
                       rule("init", "when RULE_INIT { set static::n 1 }"))
    rules = IRules(store, log)
    rules.reconcile()
    assert set(rules.loaded) == {"/Common/init"}
    assert {"/Common/unused", "/Common/init"} <= set(rules.show())   # `show ltm rule` lists it all the same
    store.commit([virtual("unused")])
    f = flow()
    rules.hook_for("/Common/vs").fire("HTTP_REQUEST", f)
    assert f.outcome.kind == "redirect" and "/Common/unused" in rules.loaded
    assert rules.show()["/Common/unused"]["HTTP_REQUEST"]["executions"] == 1
    store.commit([Op("modify", "ltm rule", "/Common/unused", {"api-anonymous": ("set", "when HTTP_REQUEST { reject }")})])
    rules.reconcile()
    assert "/Common/unused" not in rules.loaded   # changed: checked again, made again when asked for
    f = flow()
    rules.hook_for("/Common/vs").fire("HTTP_REQUEST", f)
    assert f.outcome.kind == "reset"
