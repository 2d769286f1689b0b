"""The fork server's request handling (its forking is covered by tests/lab/test_scale.py)."""
import json
import socket

from lab.runtime.forkserver import handle, socket_path


def answer_to(raw: bytes) -> dict:
    server, client = socket.socketpair()
    with server, client:
        client.sendall(raw)
        handle(server, listener=None)   # nothing is forked: the listener is only closed in a child
        return json.loads(client.makefile("rb").readline())


def test_a_request_without_its_fields_is_refused_without_forking():
    assert answer_to(b'{"netns": "bl-x-bigip1"}\n') == {"error": "request lacks config, log"}


def test_a_request_that_is_not_json_is_refused():
    assert "error" in answer_to(b"fork please\n")


def test_the_socket_is_named_with_the_lab_prefix_so_down_finds_it_after_a_crash():
    assert socket_path("ha").name == "bl-ha-forkserver.sock"
