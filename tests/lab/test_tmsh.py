"""tmsh on a real pair: the interactive shell through a real pty (prompt from live status, module
contexts, Tab and ?, cd, from-terminal), the first-minute show commands from real state, restart of
mcpd, and UCS backup and restore, also onto a fresh device of the lab."""
import re
import shutil
import sys

import pexpect
import pytest

from lab.model import state
from lab.runtime.control import call, node_status
from tests.lab.conftest import HA_PAIR, Labs, wait_for

LAB = "ttmsh"
SUBNET = "10.250.20.0/24"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROMPT = r"root@\(bigip1\)\(cfg-sync In Sync\)\(Active\)\(/Common\)\(tmos{}\)#"


def tmsh(node, line, **kw):
    return call(LAB, node, "tmsh", line=line, **kw)


def in_sync():
    return all(node_status(LAB, n).sync.status == "In Sync" for n in ("bigip1", "bigip2"))


@pytest.fixture(scope="module")
def labs():
    made = Labs()
    made(HA_PAIR, LAB, SUBNET)
    wait_for(in_sync, timeout=30, what="the pair in sync")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def shell(labs):
    child = pexpect.spawn(sys.executable, ["-m", "lab.cli", "shell", LAB, "bigip1"], encoding="utf-8", timeout=15,
                          env={"TERM": "xterm", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                               "PROMPT_TOOLKIT_NO_CPR": "1"}, dimensions=(50, 200))
    yield child
    child.close(force=True)


def expect_text(child, pattern):
    """Waits for `pattern` in what the pty shows, escape sequences taken out."""
    seen = ""
    while True:
        try:
            seen += child.read_nonblocking(4096, timeout=15)
        except pexpect.TIMEOUT:
            raise AssertionError(f"no {pattern!r} in {ANSI.sub('', seen)[-600:]!r}") from None
        text = ANSI.sub("", seen)
        if re.search(pattern, text, re.S):
            return text


def test_the_interactive_shell_is_tmsh_with_contexts_completion_and_help(shell):
    expect_text(shell, PROMPT.format(""))
    shell.sendline("ltm")
    expect_text(shell, PROMPT.format(r"\.ltm"))
    shell.sendline("create pool tsh_pool members add { 10.1.20.21:80 } monitor http")
    expect_text(shell, PROMPT.format(r"\.ltm"))
    shell.sendline("list pool tsh_pool")
    text = expect_text(shell, r"monitor http\s*\}")
    assert "10.1.20.21:http {" in text and "ltm pool tsh_pool {" in text
    shell.send("list poo\t")                      # Tab completes from the schema (po: policy, pool)
    expect_text(shell, r"list pool")
    shell.sendcontrol("c")                        # the line dropped, a new prompt
    expect_text(shell, PROMPT.format(r"\.ltm"))
    shell.send("modify pool tsh_pool lo?")        # ? lists what may come next, the line kept
    text = expect_text(shell, r"load-balancing-mode\s+property.*\n.*modify pool tsh_pool lo")
    assert "Properties:" in text
    shell.sendcontrol("c")
    expect_text(shell, PROMPT.format(r"\.ltm"))
    shell.sendline("cd /NoSuchPartition")
    expect_text(shell, r"01020036:3: The requested folder \(/NoSuchPartition\) was not found\.")
    shell.sendline("show virtual vs_http")         # a show target from the module context
    expect_text(shell, r"Ltm::Virtual Server: vs_http.*" + PROMPT.format(r"\.ltm"))
    shell.sendline("/")
    shell.sendline("gtm pool")                     # a module that is also a show target is a context
    expect_text(shell, PROMPT.format(r"\.gtm\.pool"))
    shell.sendline("..")
    expect_text(shell, PROMPT.format(r"\.gtm"))
    shell.sendline("..")
    expect_text(shell, PROMPT.format(""))
    shell.sendline("load sys config merge from-terminal")
    expect_text(shell, "Enter configuration. Press CTRL-D to submit")
    shell.sendline("ltm node /Common/tsh_node {")
    shell.sendline("    address 10.1.20.77")
    shell.sendline("}")
    shell.sendcontrol("d")
    expect_text(shell, r"1 objects merged")
    shell.sendline("quit")
    shell.expect(pexpect.EOF)
    wait_for(lambda: "address 10.1.20.77" in tmsh("bigip2", "list ltm node tsh_node"), what="the merge synced")
    tmsh("bigip1", "delete ltm pool tsh_pool")
    tmsh("bigip1", "delete ltm node tsh_node")


def test_the_first_minute_commands_read_the_devices_real_state(labs):
    state_dir = state.node_dir(LAB, "bigip1")
    assert re.fullmatch(r"Failover active for 0d \d\d:\d\d:\d\d", tmsh("bigip1", "show sys failover"))
    assert re.search(r"Failover standby for", tmsh("bigip2", "show sys failover"))
    arp = tmsh("bigip1", "show net arp")      # the namespace's neighbour table: its peer on the HA VLAN
    assert re.search(r"10\.1\.30\.12\s+10\.1\.30\.12\s+([0-9a-f]{2}:){5}[0-9a-f]{2}\s+/Common/ha\s+\d+\s+resolved", arp)
    members = tmsh("bigip1", "show ltm pool web_pool members")
    assert "Ltm::Pool Member: 10.1.20.21:http" in members and "Availability" in members
    dg = tmsh("bigip1", "show cm device-group dg-ha")   # Time Since Last Sync from each device's last sync
    assert re.search(r"dg-ha\s+bigip1\s+sync-failover\s+In Sync\s+\d+\s", dg) and \
        re.search(r"dg-ha\s+bigip2\s+sync-failover\s+In Sync\s+\d+\s", dg)
    details = tmsh("bigip1", "show cm sync-status")
    assert re.search(r"Details\s+bigip2: connected \(for \d+s\)\n\s+dg-ha \(In Sync\): All devices", details)
    assert re.search(r"Details\s+active for /Common/traffic-group-1", tmsh("bigip1", "show cm failover-status"))
    assert "sys provision ltm {\n    level nominal\n}" in tmsh("bigip1", "list sys provision")
    assert "Net::Self IP: external-floating" in tmsh("bigip1", "show net self")
    tmsh("bigip1", "modify net vlan internal failsafe enabled failsafe-timeout 3600")
    try:      # every failsafe the device has, each with its action and whether it tripped
        ha = tmsh("bigip1", "show sys ha-status")
    finally:
        tmsh("bigip1", "modify net vlan internal failsafe disabled")
    assert re.search(r"daemon_heartbeat\s+tmm\s+go-offline-downlinks-restart\s+none\s+yes\s+no", ha)
    assert re.search(r"vlan_fs\s+/Common/internal\s+failover-restart-tm\s+none\s+yes\s+no", ha)
    assert re.search(r"cluster_time_sync\s+dg-ha\s+none", ha)
    assert "Sys::Clock" in tmsh("bigip1", "show sys clock")
    assert "Version     17.1.0" in tmsh("bigip1", "show sys version")
    out = tmsh("bigip1", "save sys config")
    assert "/config/bigip.conf" in out and "ltm pool /Common/web_pool {" in (state_dir / "config" / "bigip.conf").read_text()
    tmsh("bigip1", "restart sys service mcpd")      # reloaded from disk; sync decided again
    wait_for(in_sync, timeout=20, what="in sync after mcpd's restart")
    assert "web_pool" in tmsh("bigip1", "list ltm pool")


def test_bad_lines_get_tmshs_errors_and_change_nothing(labs):
    before = tmsh("bigip1", "list ltm pool")
    with pytest.raises(Exception, match='"colour" unknown property'):
        tmsh("bigip1", "create ltm pool bad colour red")
    with pytest.raises(Exception, match=r"Syntax Error:\(terminal at line: 4\)"):
        tmsh("bigip1", "load sys config merge from-terminal",
             text="ltm pool /Common/half1 { }\n\nltm pool /Common/half2 {\n    colour red\n}\n")
    assert tmsh("bigip1", "list ltm pool") == before


def test_a_ucs_restores_the_configuration_and_a_fresh_device(labs, tmp_path):
    tmsh("bigip1", "create ltm pool ucs_pool members add { 10.1.20.22:80 }")
    assert "is saved" in tmsh("bigip1", "save sys ucs tmsh_backup")
    assert "sys ucs tmsh_backup.ucs" in tmsh("bigip1", "list sys ucs")
    tmsh("bigip1", "delete ltm pool ucs_pool")
    tmsh("bigip1", "load sys ucs /var/local/ucs/tmsh_backup.ucs")
    assert "ucs_pool" in tmsh("bigip1", "list ltm pool")
    wait_for(lambda: "ucs_pool" in tmsh("bigip2", "list ltm pool"), what="the restored pool synced")
    # a fresh device: the lab rebuilt from nothing, then the archive loaded on it
    ucs = tmp_path / "tmsh_backup.ucs"
    shutil.copy(state.node_dir(LAB, "bigip1") / "var" / "local" / "ucs" / "tmsh_backup.ucs", ucs)
    cert = (state.node_dir(LAB, "bigip1") / "dtdi.crt").read_bytes()
    labs.close()
    labs.made.clear()
    labs(HA_PAIR, LAB, SUBNET)
    assert "ucs_pool" not in tmsh("bigip1", "list ltm pool")
    assert (state.node_dir(LAB, "bigip1") / "dtdi.crt").read_bytes() != cert
    target = state.node_dir(LAB, "bigip1") / "var" / "local" / "ucs"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ucs, target / "tmsh_backup.ucs")
    tmsh("bigip1", "load sys ucs tmsh_backup.ucs")
    assert "ucs_pool" in tmsh("bigip1", "list ltm pool")
    assert (state.node_dir(LAB, "bigip1") / "dtdi.crt").read_bytes() == cert   # its identity is back
    assert "tmsh_backup.ucs is deleted" == tmsh("bigip1", "delete sys ucs tmsh_backup.ucs")
