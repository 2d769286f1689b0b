"""A GTM server's virtual-server names take parentheses (F5's own AS3 example names one
"testServer(192_0_2_4)"), in tmsh and as a pool member SERVER:VIRTUAL-SERVER; an object's
name does not."""
import pytest

from node.config.schema import full_path
from node.config.store import ConfigStore, Op
from node.config.tmsh import parse
from node.errors import Invalid


def run(store, line):
    cmd = parse(line)
    store.commit([Op(cmd.verb, cmd.type, full_path(cmd.name), cmd.values)])


def test_a_gtm_virtual_server_name_takes_parentheses_and_a_pool_member_names_it():
    store = ConfigStore(None, "gtm1")
    run(store, "create gtm datacenter dc")
    run(store, "create gtm server srv datacenter dc product generic-host addresses add { 192.0.2.4 } "
               "virtual-servers add { srv(192_0_2_4) { destination 192.0.2.4:80 } }")
    assert [v["name"] for v in store.get("gtm server", "/Common/srv")["virtual-servers"]] == ["srv(192_0_2_4)"]
    run(store, "create gtm pool a p members add { srv:srv(192_0_2_4) }")
    assert [m["name"] for m in store.get("gtm pool a", "/Common/p")["members"]] == ["/Common/srv:srv(192_0_2_4)"]
    with pytest.raises(Invalid, match="invalid name"):
        run(store, "create gtm datacenter dc(2)")
