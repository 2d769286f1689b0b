"""The TLS suites docs/design.md lists for 443 and 4353 are exactly the ones the node's contexts
offer, and nothing below TLS 1.2 (1.3 on 4353) is enabled."""
import re
import ssl
from pathlib import Path

from node.clock import NodeClock
from node.iquery.trust import TrustStore
from node.rest.server import RestServer

DESIGN = Path(__file__).resolve().parents[2] / "docs" / "design.md"


def documented() -> dict[str, set[str]]:
    """port -> the suites in the docs' "TLS on 443 and 4353" table."""
    section = DESIGN.read_text().split("### TLS on 443 and 4353", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if re.match(r"\| \d+ ", line)]
    return {row[1].split()[0]: set(re.findall(r"`([A-Z0-9_-]+)`", row[3])) for row in rows}


def offered(ctx: ssl.SSLContext) -> set[str]:
    return {c["name"] for c in ctx.get_ciphers()}


class _Log:
    def log(self, *args, **kw):
        pass


def test_443_offers_the_documented_suites_from_tls_1_2(tmp_path):
    TrustStore(tmp_path, "bigip1", "127.0.0.1", NodeClock())   # writes dtdi.crt/.key, as the daemon's
    server = RestServer(None, "127.0.0.1", 0, tmp_path, _Log())
    assert offered(server.context) == documented()["443"]
    assert server.context.minimum_version is ssl.TLSVersion.TLSv1_2


def test_4353_offers_the_documented_suites_on_tls_1_3_only(tmp_path):
    store = TrustStore(tmp_path, "bigip1", "127.0.0.1", NodeClock())
    for ctx in (store.server_context(), store.client_context(), TrustStore.join_context()):
        assert ctx.minimum_version is ssl.TLSVersion.TLSv1_3
        assert {c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.3"} == documented()["4353"]
