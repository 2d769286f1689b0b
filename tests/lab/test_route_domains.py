"""Route domains on the wire: VLAN blue in route domain 2 has its own routing table in bigip1, so
its virtual servers (a full proxy and a fastL4 one) and its server are reached from blue only, and
the member's monitor probes it through route domain 2 (tests/lab/topologies/route-domains.yml)."""
from pathlib import Path

from lab.runtime.control import node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import module_lab, wait_for

HERE = Path(__file__).resolve().parent


def ready(lab: str) -> None:
    def up() -> bool:
        ltm = node_status(lab, "bigip1").ltm
        return (ltm.pools["/Common/blue_pool"].members["/Common/10.1.40.21%2:80"].availability == "available"
                and all(ltm.virtuals[v].serving for v in ("/Common/vs_blue", "/Common/vs_blue_l4")))
    wait_for(up, timeout=30, what="the member up through route domain 2 and both virtuals serving")


rd_lab = module_lab(HERE / "topologies" / "route-domains.yml", "trd", "10.252.14.0/24", ready)


def run(lab: str, node: str, *argv: str):
    return Lab.open(lab).run(node, list(argv), capture_output=True, text=True)


def curl(lab: str, node: str, port: int):
    return run(lab, node, "curl", "-s", "-m", "2", f"http://10.1.40.100:{port}/")


def test_route_domain_2_is_its_own_table_with_blue_in_it(rd_lab):
    rules = run(rd_lab, "bigip1", "ip", "rule").stdout
    assert "iif blue lookup 2" in rules and "oif blue lookup 2" in rules
    table = run(rd_lab, "bigip1", "ip", "route", "show", "table", "2").stdout
    assert "10.1.40.0/24 dev blue" in table and "unreachable default" in table
    assert "10.1.40.0/24" not in run(rd_lab, "bigip1", "ip", "route", "show", "table", "main").stdout


def test_the_virtuals_in_route_domain_2_answer_on_blue(rd_lab):
    for port in (80, 81):   # the full proxy (its socket bound to blue) and fastL4 (the kernel, on blue)
        out = wait_for(lambda: (r := curl(rd_lab, "blueclient", port)).returncode == 0 and r, what=f"port {port}")
        assert out.stdout.split()[0] == "blueweb"


def test_route_domain_0_reaches_neither_the_virtuals_nor_the_server(rd_lab):
    for port in (80, 81):
        assert curl(rd_lab, "client", port).returncode != 0
    # the client routes blue's network through bigip1, and blueweb routes back: only the route
    # domain keeps bigip1 from forwarding between the two
    assert run(rd_lab, "client", "ping", "-c", "1", "-W", "1", "10.1.40.21").returncode != 0
    assert run(rd_lab, "blueclient", "ping", "-c", "1", "-W", "1", "10.1.10.51").returncode != 0
