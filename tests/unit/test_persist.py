"""Persistence: F5's cookie encoding, source-address records (mask, timeout), the virtual's
`persist` in tmsh and REST, and a persistence profile refused on a virtual without a pool."""
import pytest

from node.errors import Invalid, NotFound
from node.ltm import persist
from node.rest.resources import to_rest
from tests.unit.test_config import run, store  # noqa: F401 - the configuration store with VLANs


@pytest.fixture
def with_pool(store):  # noqa: F811
    run(store, "create ltm pool web members add { 10.1.20.21:80 }")
    return store


def test_the_cookie_encodes_the_member_as_f5_does():
    assert persist.encode("10.1.1.100", 8080) == "1677787402.36895.0000"   # F5's documented example
    assert persist.decode("1677787402.36895.0000") == ("10.1.1.100", 8080)
    assert persist.decode("garbage") is None and persist.decode("99999999999.1.0000") is None


def test_the_cookie_is_named_for_the_pool():
    assert persist.cookie_name("/Common/web") == "BIGipServerweb"
    assert persist.cookie_name("/P/app/web") == "BIGipServer~P~app~web"
    assert persist.cookie_name("/Common/web", "mine") == "mine"
    assert persist.request_cookie("a=1; BIGipServerweb=5.6.0000", "BIGipServerweb") == "5.6.0000"


def test_a_source_address_record_is_found_under_its_mask_until_it_times_out():
    table = persist.Table()
    key = persist.source_key("10.250.55.77", "255.255.255.0")
    assert key == "10.250.55.0" and persist.source_key("10.250.55.77", "none") == "10.250.55.77"
    table.put(persist.Record("source-address", key, "/Common/vs", "/Common/web", "/Common/10.1.20.21:80",
                             "10.1.20.21", 80, 100.0 + persist.lifetime("180")))
    assert table.find("/Common/vs", "/Common/web", key, 279.0).member == "/Common/10.1.20.21:80"
    assert table.find("/Common/vs", "/Common/web", key, 280.0) is None
    assert table.live(280.0) == [] and persist.lifetime("indefinite") is None


def test_a_virtual_lists_its_persistence_profile_as_f5_shows_it(with_pool):
    store = with_pool
    run(store, "create ltm persistence source-addr sa timeout 60 mask 255.255.255.0")
    run(store, "create ltm virtual vs destination 10.1.10.100:80 pool web persist replace-all-with { sa { default yes } }")
    vs = store.get("ltm virtual", "/Common/vs")
    assert vs["persist"] == [{"name": "/Common/sa", "default": "yes"}]
    rest = to_rest("ltm virtual", "/Common/vs", vs, 1)
    assert rest["persist"] == [{"name": "sa", "partition": "Common", "fullPath": "/Common/sa", "tmDefault": "yes"}]
    assert store.get("ltm persistence cookie", "/Common/cookie") is not None   # the built-ins


def test_persistence_on_a_virtual_without_a_pool_is_refused_and_changes_nothing(with_pool):
    store = with_pool
    with pytest.raises(Invalid, match="01070734:3: .*persistence profile \\(/Common/source_addr\\) but no default pool"):
        run(store, "create ltm virtual vs destination 10.1.10.100:80 persist replace-all-with { source_addr { default yes } }")
    assert store.get("ltm virtual", "/Common/vs") is None
    with pytest.raises(NotFound, match="Persistence Profile \\(/Common/nosuch\\)"):
        run(store, "create ltm virtual vs destination 10.1.10.100:80 pool web persist replace-all-with { nosuch }")
