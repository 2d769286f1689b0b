"""DNS queries to the GTM answerer (wide IPs, zones, topology): an answer, FORMERR, or nothing for
what has no readable header or is a response. Each input is asked twice (the second from the cache)."""
import atheris

from common import ROOT, main

with atheris.instrument_imports(include=["node", "dns"]):
    import dns.message
    import node.gtm.answer  # noqa: F401 (instrumented before the test module imports it)

import sys  # noqa: E402
sys.path.insert(0, str(ROOT / "tests" / "unit"))
from test_gtm_answer import build_answerer  # noqa: E402  (the answerer the unit tests ask)

ANSWERER = build_answerer()
SEEDS = [dns.message.make_query(n, t, use_edns=e).to_wire()
         for n, t, e in [("www.example.com", "A", None), ("www.example.net", "AAAA", 0), ("mail.example.com", "MX", 0),
                         ("a.old.example.com", "A", None), ("x.apps.example.com", "ANY", 0), ("other.org", "SOA", None)]]


def one_input(data: bytes) -> None:
    for _ in range(2):
        out = ANSWERER.handle(data, "10.20.1.9")
        if len(data) < 12 or data[2] & 0x80:
            assert out is None, "answered a response or a headerless packet"
            continue
        assert out is not None, "no answer to a query with a readable header"
        reply = dns.message.from_wire(out)
        assert reply.id == int.from_bytes(data[:2], "big")


if __name__ == "__main__":
    main(one_input, SEEDS)
