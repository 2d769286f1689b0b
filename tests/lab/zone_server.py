"""A test's own DNS server inside the lab: answers A queries for the names in a JSON file
({"name": ["address", ...]}), read again at each query so a test can change the answers; NXDOMAIN
for any other name. Binds ADDRESS:53 (UDP) in the node it runs in.

    python zone_server.py ADDRESS ZONE.json
"""
import json
import socket
import sys

import dns.message
import dns.rcode
import dns.rrset


def main() -> None:
    address, zone = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 53))
    while True:
        data, peer = sock.recvfrom(4096)
        try:
            query = dns.message.from_wire(data)
        except Exception:   # noqa: BLE001  (a malformed query gets no answer)
            continue
        reply = dns.message.make_response(query)
        with open(zone) as f:
            names = json.load(f)
        q = query.question[0]
        found = names.get(q.name.to_text(omit_final_dot=True))
        if found is None:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif found and q.rdtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text(q.name, 1, "IN", "A", *found))
        sock.sendto(reply.to_wire(), peer)


if __name__ == "__main__":
    main()
