"""Topology files: a Topology or TopologyError, nothing else (the management subnet moved too)."""
import atheris

from common import ROOT, main, text

with atheris.instrument_imports(include=["lab", "node"]):
    from lab.model.topology import TopologyError, loads

SEEDS = [p.read_bytes() for p in sorted((ROOT / "topologies").glob("*.yml"))]


def one_input(data: bytes) -> None:
    try:
        loads(text(data), "fuzz.yml", mgmt_subnet="10.253.9.0/24" if data[:1] == b"#" else None)
    except TopologyError:
        pass


if __name__ == "__main__":
    main(one_input, SEEDS)
