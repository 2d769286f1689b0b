"""pcap files as `biglab capture --summary` reads them: records or PcapError; every frame classified
and the whole summarised without an exception."""
import atheris

from common import main

with atheris.instrument_imports(include=["lab"]):
    from lab.observe.pcap import PcapError, Record, read, summarise, write

# a heartbeat and a gratuitous ARP, as the lab's bridges carry them
_ETH = bytes(6) + bytes.fromhex("02aabbccddee")
_HB = (_ETH + b"\x08\x00" + bytes.fromhex("4500002c00004000401100000a011e0c0a011e0b") + b"\x04\x02\x04\x02\x00\x18\x00\x00"
       + b"\x83\xa1t\xa2hb\xa1v\x01\xa6device\xa6bigip2")
_GARP = (b"\xff" * 6 + bytes.fromhex("02aabbccddee") + b"\x08\x06" + bytes.fromhex("0001080006040001")
         + bytes.fromhex("02aabbccddee") + bytes([10, 1, 10, 10]) + bytes(6) + bytes([10, 1, 10, 10]))
SEEDS = [write([Record(1.0, _HB, len(_HB)), Record(1.2, _GARP, len(_GARP)), Record(1.4, _HB, len(_HB))])]


def one_input(data: bytes) -> None:
    try:
        records = read(data)
    except PcapError:
        return
    summarise(records)


if __name__ == "__main__":
    main(one_input, SEEDS)
