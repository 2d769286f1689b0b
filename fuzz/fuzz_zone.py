"""ZoneRunner records (one per line of the input): a Zone or ZoneError, nothing else."""
import atheris

from common import main, text

with atheris.instrument_imports(include=["node", "dns"]):
    from node.config.zones import ZoneError, load

SEEDS = ["@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 10.30.0.53\n"
         "mail 300 IN A 10.40.0.25\n@ IN MX 10 mail\nalias IN CNAME mail\nold IN DNAME new.example.org.\n"
         "_sip._udp IN SRV 0 5 5060 sip\nwww IN AAAA 2001:db8::1\ntxt IN TXT \"hello world\"\n"]


def one_input(data: bytes) -> None:
    try:
        load("example.com", text(data).split("\n"))
    except ZoneError:
        pass


if __name__ == "__main__":
    main(one_input, SEEDS)
