"""Virtual server checks beyond the profiles' data path: one transport profile (fastL4 takes no
tcp), SNAT addresses on a VLAN, and which snatpool address a client leaves from."""
import pytest

from node.ltm import snat
from node.errors import IncompatibleProfiles, Invalid, NotFound
from tests.unit.test_ssl_files import run, store  # noqa: F401  (store: a fixture)


def test_a_fastl4_virtual_takes_no_tcp_profile_and_gets_no_default_one(store):
    run(store, "create net vlan external")
    run(store, "create net self ext address 10.1.10.11/24 vlan external")
    run(store, "create ltm virtual l4 destination 10.1.10.100:81 profiles add { fastL4 }")
    assert store.get("ltm virtual", "/Common/l4")["profiles"] == ["fastL4"]
    with pytest.raises(IncompatibleProfiles, match=r"^01070097:3: Virtual server /Common/l4 lists incompatible"):
        run(store, "modify ltm virtual l4 profiles replace-all-with { fastL4 tcp }")
    assert store.get("ltm virtual", "/Common/l4")["profiles"] == ["fastL4"]


def test_a_snat_translation_on_no_vlan_is_refused(store):
    with pytest.raises(Invalid, match="10.9.9.9 is on no VLAN of this device"):
        run(store, "create ltm snatpool sp members add { 10.9.9.9 }")
    assert store.get("ltm snat-translation", "/Common/10.9.9.9") is None


def test_a_snatpool_gives_one_client_always_the_same_address():
    pool = ["10.1.20.51", "10.1.20.50"]
    assert len({snat.pick(pool, "10.1.10.51") for _ in range(5)}) == 1
    assert {snat.pick(pool, f"10.1.10.{i}") for i in range(40)} == set(pool)


def test_a_virtual_naming_a_missing_profile_is_refused_with_f5s_error(store):
    run(store, "create net vlan external")
    run(store, "create net self ext address 10.1.10.11/24 vlan external")
    with pytest.raises(NotFound, match=r"^01020036:3: The requested profile \(/Common/nosuch\) was not found\.$"):
        run(store, "create ltm virtual v destination 10.1.10.100:80 profiles add { http nosuch }")
    assert store.get("ltm virtual", "/Common/v") is None
    run(store, "create ltm virtual v destination 10.1.10.100:80 profiles add { http }")
    with pytest.raises(NotFound, match=r"\(/Common/gone\) was not found"):
        run(store, "modify ltm virtual v profiles add { gone }")
    assert store.get("ltm virtual", "/Common/v")["profiles"] == ["tcp", "http"]
