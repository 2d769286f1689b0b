"""tmsh command lines: a Command or TmshSyntaxError, nothing else."""
import atheris

from common import main, text

with atheris.instrument_imports(include=["node"]):
    from node.config.tmsh import TmshSyntaxError, parse

SEEDS = [
    "create ltm pool web members add { 10.1.20.21:80 10.1.20.22:80 } monitor http",
    "modify ltm pool web members modify { 10.1.20.21:80 { session user-disabled } }",
    "create cm device-group dg devices add { bigip1 bigip2 } type sync-failover auto-sync enabled",
    "create gtm topology ldns: not subnet 10.0.0.0/8 server: pool P1 score 30",
    "modify gtm global-settings load-balancing { topology-longest-match no }",
    'create gtm zone example.com records add { "@ IN SOA ns1 h 1 2 3 4 5" "@ IN NS ns1" }',
    "create gtm wideip a www.example.com pools add { p1 { order 0 } } last-resort-pool a p2",
    "list ltm virtual all-properties one-line",
]


def one_input(data: bytes) -> None:
    try:
        parse(text(data))
    except TmshSyntaxError:
        pass


if __name__ == "__main__":
    main(one_input, SEEDS)
