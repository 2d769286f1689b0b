"""The hook interface between the proxy and iRules: header lists as HTTP::header sees them."""
from node.ltm.hooks import Headers, Request


def test_header_names_match_without_case_and_value_is_the_last():
    h = Headers([("Host", "a"), ("X-A", "1"), ("x-a", "2")])
    assert h.value("X-a") == "2" and h.values("x-A") == ["1", "2"] and h.exists("HOST")


def test_replace_changes_the_last_or_inserts_and_remove_takes_all():
    h = Headers([("X-A", "1"), ("X-A", "2")])
    h.replace("x-a", "3")
    assert h.items == [("X-A", "1"), ("X-A", "3")]
    h.replace("X-B", "4")
    assert h.value("X-B") == "4"
    h.remove("X-A")
    assert h.names() == ["X-B"]


def test_request_path_query_host():
    r = Request("GET", "/api/v1?x=1&y=2", headers=Headers([("Host", "www.example.com")]))
    assert (r.path, r.query, r.host) == ("/api/v1", "x=1&y=2", "www.example.com")
