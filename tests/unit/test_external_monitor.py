"""F5's external monitor, for real: the script (a sys file external-monitor) runs as
`SCRIPT NODE_IP PORT [args]` with the monitor's user-defined variables; up when it prints, down
when it prints nothing or runs past the timeout (then its whole process group is killed)."""
from __future__ import annotations

import time

import trio

from node.config import tmsh
from node.config.store import ConfigStore, Op
from node.ltm.external import probe_external
from test_ssl_files import run

CHECK = """#!/bin/sh
[ "$1" = "::ffff:127.0.0.1" ] && [ "$2" = 8080 ] && [ "$3" = "-x" ] && [ "$4" = "two words" ] \\
  && [ "$GREETING" = hi ] && [ "$NODE_IP" = "::ffff:127.0.0.1" ] && [ "$NODE_PORT" = 8080 ] && echo up
"""


async def test_the_script_gets_f5s_arguments_and_variables_and_printing_is_up(tmp_path):
    settings = {"script": CHECK, "args": '-x "two words"', "user-defined": {"GREETING": "hi"}}
    assert await probe_external(tmp_path, settings, "127.0.0.1", 8080, 5) is None
    assert await probe_external(tmp_path, {**settings, "user-defined": {}}, "127.0.0.1", 8080, 5) == \
        "the script printed nothing"
    assert await probe_external(tmp_path, {"run": "/Common/gone"}, "127.0.0.1", 80, 5) == \
        "no script /Common/gone (sys file external-monitor)"


async def test_a_script_past_the_timeout_is_down_and_its_process_group_killed(tmp_path, autojump_clock):
    pids = tmp_path / "pids"
    script = f"#!/bin/sh\nsleep 300 &\necho $$ $! > {pids}.tmp && mv {pids}.tmp {pids}\nwait\necho late\n"
    got = []

    async def probe():
        got.append(await probe_external(tmp_path, {"script": script}, "10.1.20.21", 80, 3))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(probe)
        while not pids.exists():    # busy until the script has started its child: the clock jumps after
            await trio.lowlevel.checkpoint()
    assert got == ["the script ran past the timeout (3 s)"]
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5     # SIGKILL lands at once, the kernel's teardown may take a moment
        while not dead(pid) and time.monotonic() < deadline:
            pass
        assert dead(pid)


def dead(pid: int) -> bool:
    """Gone, or a zombie its new parent has yet to reap."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_tmsh_takes_the_script_file_and_the_monitors_variables(tmp_path):
    store = ConfigStore(None, "b1")
    upload = tmp_path / "var/config/rest/downloads/check.sh"
    upload.parent.mkdir(parents=True)
    upload.write_text(CHECK)
    store.path = tmp_path / "running.json"    # the device's state directory: where uploads are
    run(store, "create sys file external-monitor check source-path file:///var/config/rest/downloads/check.sh")
    script = store.get("sys file external-monitor", "/Common/check")
    assert script["content"] == CHECK and script["size"] == len(CHECK) and script["checksum"].startswith("SHA1:")
    run(store, 'create ltm monitor external ext run check args "-x y" user-defined GREETING hi user-defined B "c d"')
    run(store, "modify ltm monitor external ext user-defined B none")
    mon = store.get("ltm monitor external", "/Common/ext")
    assert (mon["run"], mon["args"], mon["user-defined"]) == ("/Common/check", "-x y", {"GREETING": "hi"})
    assert "    user-defined GREETING hi\n" in tmsh.render("ltm monitor external", "/Common/ext", mon)
    store.commit([Op("create", "sys file external-monitor", "/Common/inline", {
        "source-path": ("set", "file:/var/config/rest/downloads/_Common_inline"), "content": ("set", "echo up")})])
    assert store.get("sys file external-monitor", "/Common/inline")["content"] == "echo up"


def test_as3_external_monitor_installs_its_script_and_a_url_is_refused_by_name():
    from test_as3_core import adc, app, errors_of, run as deploy, services
    mon = {"class": "Monitor", "monitorType": "external", "script": {"base64": "IyEvYmluL3NoCmVjaG8gdXAK"},
           "arguments": "-x", "environmentVariables": {"USER": "example"}}
    decl = adc(T={"class": "Tenant", "A": app(m=mon, p={"class": "Pool", "members": [
        {"servicePort": 80, "serverAddresses": ["10.1.20.21"], "monitors": [{"use": "m"}]}]})})
    svc, store, _ = services()
    assert deploy(svc, decl)[0] == 200
    assert store.get("sys file external-monitor", "/T/A/m-script")["content"] == "#!/bin/sh\necho up\n"
    got = store.get("ltm monitor external", "/T/A/m")
    assert (got["run"], got["args"], got["user-defined"]) == ("/T/A/m-script", "-x", {"USER": "example"})
    assert deploy(svc, decl)[1]["results"][0]["message"] == "no change"
    decl["T"]["A"]["m"]["script"] = {"url": "https://example.com/monitor.sh"}
    assert errors_of(decl) == ["/T/A/m/script: a script from a URL is not supported by this lab "
                               "(it reaches no internet)"]


async def test_rest_shows_the_variables_as_f5s_api_raw_values(tmp_path):
    from test_as3_core import as3_client
    rest, c = as3_client(tmp_path)
    async with c:
        r = await c.post("/mgmt/tm/ltm/monitor/external", json={"name": "ext", "run": "/Common/arg_example"})
        assert r.status_code == 200 and "apiRawValues" not in r.json()
        run(rest.store, 'modify ltm monitor external ext user-defined USER "example"')   # bigip_monitor_external's way
        got = (await c.get("/mgmt/tm/ltm/monitor/external/~Common~ext")).json()
        assert got["apiRawValues"] == {"userDefined USER": "example"}
