"""The fork server's request handling (its forking is covered by tests/lab/test_scale.py)."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.runtime import forkserver
from lab.runtime.forkserver import handle, socket_path


def answer_to(raw: bytes) -> dict:
    server, client = socket.socketpair()
    with server, client:
        client.sendall(raw)
        handle(server, listener=None)   # nothing is forked: the listener is only closed in a child
        return json.loads(client.makefile("rb").readline())


def test_a_request_without_its_fields_is_refused_without_forking():
    assert answer_to(b'{"netns": "bl-x-bigip1"}\n') == {"error": "request lacks argv, log"}


def idle_server(tmp_path, monkeypatch):
    """A listening socket and the files of a server for this code; os._exit raises instead."""
    monkeypatch.setenv("BIGLAB_RUN_DIR", str(tmp_path))
    sock = socket_path()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock))
    listener.listen(4)
    for suffix in (".pid", ".out", ".lock"):
        sock.with_suffix(suffix).write_text("")

    def exit_(code):
        raise SystemExit(code)
    monkeypatch.setattr(forkserver.os, "_exit", exit_)
    return sock, listener


def test_an_idle_server_ends_itself_and_leaves_no_file(tmp_path, monkeypatch):
    sock, listener = idle_server(tmp_path, monkeypatch)
    with pytest.raises(SystemExit):
        forkserver.end_if_idle(str(sock), listener)
    assert listener.fileno() == -1 and list(tmp_path.iterdir()) == []


def test_an_idle_server_stays_for_a_request_waiting_or_a_launch_holding_the_lock(tmp_path, monkeypatch):
    sock, listener = idle_server(tmp_path, monkeypatch)
    with listener, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(str(sock))   # a spawn's request not read yet
        forkserver.end_if_idle(str(sock), listener)
        assert sock.exists() and sock.with_suffix(".pid").exists()
        listener.accept()[0].close()
        with forkserver.locked(sock):   # a launch found this server running and will ask it
            forkserver.end_if_idle(str(sock), listener)
        assert sock.exists() and sock.with_suffix(".pid").exists()


def test_a_request_that_is_not_json_is_refused():
    assert "error" in answer_to(b"fork please\n")


def test_the_socket_is_the_hosts_named_for_its_code_so_down_all_finds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BIGLAB_RUN_DIR", str(tmp_path))
    assert socket_path().parent == tmp_path and socket_path().name == f"bl-forkserver-{forkserver.key()}.sock"
    assert socket_path("other").name == "bl-forkserver-other.sock"   # other code, another server


def test_a_running_server_for_the_same_code_is_reused_not_started_again(tmp_path, monkeypatch):
    monkeypatch.setenv("BIGLAB_RUN_DIR", str(tmp_path))
    sock = socket_path()
    # a stand-in with a server's command line (python -m MODULE SOCKET), started by an earlier lab
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", forkserver.MODULE, str(sock)])
    try:
        deadline = time.monotonic() + 10   # until it has exec'd: before, its command line is ours
        while forkserver.MODULE not in Path(f"/proc/{running.pid}/cmdline").read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        sock.with_suffix(".pid").write_text(str(running.pid))
        assert forkserver.pid() == running.pid
        assert forkserver.launch() == running.pid
    finally:
        running.kill()
        running.wait()
    assert forkserver.pid() is None   # gone: the next launch starts one


def test_a_server_that_ends_before_it_accepts_is_started_again_not_reported(tmp_path, monkeypatch):
    # The running server ended itself, idle (and removed its files), between our launch finding
    # it and our connect: the next launch starts a fresh one.
    monkeypatch.setenv("BIGLAB_RUN_DIR", str(tmp_path))
    sock = socket_path()
    launched = []

    def launch():
        launched.append(True)
        if len(launched) == 2:   # the fresh server: its socket appears once it accepts
            sock.touch()
        return 999_999_999 if len(launched) == 1 else 1   # first: gone; then one that runs
    monkeypatch.setattr(forkserver, "launch", launch)
    assert forkserver.start(timeout=5) == sock and len(launched) == 2


def test_a_launch_waiting_on_the_lock_takes_it_again_when_an_ending_server_removed_its_file(tmp_path, monkeypatch):
    import threading
    monkeypatch.setenv("BIGLAB_RUN_DIR", str(tmp_path))
    lock = socket_path().with_suffix(".lock")
    held = []
    with forkserver.locked(socket_path()):
        waiter = threading.Thread(target=lambda: [forkserver.locked(socket_path()).__enter__(),
                                                  held.append(lock.exists() and lock.stat().st_ino)])
        waiter.start()
        time.sleep(0.1)   # the waiter blocks on the old file
        lock.unlink()     # as a server ending itself does, holding the lock
    waiter.join(5)
    assert held and held[0] and lock.exists()   # it holds the file that is there now, not the gone one


def test_a_key_made_ahead_goes_to_one_forked_daemon_and_leaves_the_server(monkeypatch):
    from node.config import ssl_files
    monkeypatch.setattr(ssl_files, "SPARE_KEYS", ["k1", "k2", "k3"])
    read, write = os.pipe()
    pid = forkserver.fork()
    if pid == 0:   # the daemon: the last key is its, and only that one
        os.write(write, json.dumps([ssl_files.new_rsa_key(), len(ssl_files.SPARE_KEYS)]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as child:
        assert json.loads(child.read()) == ["k3", 0]
    os.waitpid(pid, 0)
    assert ssl_files.SPARE_KEYS == ["k1", "k2"]   # the next daemon's is another


def test_scapys_vendor_tables_are_emptied_and_garp_frames_still_build():
    import scapy.data
    from scapy.layers.l2 import ARP, Ether
    forkserver.shed()
    assert not scapy.data.MANUFDB.d and scapy.data.BLUETOOTH_CORE_COMPANY_IDENTIFIERS == {}
    frame = Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc="02:00:00:00:00:01", psrc="10.1.10.100", hwdst="00:00:00:00:00:00", pdst="10.1.10.100")
    assert len(bytes(frame)) == 42


def test_down_all_and_the_last_server_to_end_put_ksmd_back_and_a_lab_sweep_does_not(tmp_path, monkeypatch):
    from lab.runtime import samepage
    monkeypatch.setenv("BIGLAB_RUN_DIR", str(tmp_path))
    restored = []
    monkeypatch.setattr(samepage, "restore", lambda root, prefix: restored.append((root, prefix)))
    monkeypatch.setattr(forkserver, "servers", lambda prefix: {})
    forkserver.sweep("bl-ha-")   # one lab's leftovers: the host's ksmd stays as it is
    assert restored == []
    forkserver.sweep("bl-")   # down --all
    assert restored == [(tmp_path, "bl-")]
    forkserver.last_out()   # a server ending with none other left
    assert len(restored) == 2
    monkeypatch.setattr(forkserver, "servers", lambda prefix: {4242: tmp_path / "other.sock"})
    forkserver.last_out()   # another server still runs: it will
    assert len(restored) == 2
