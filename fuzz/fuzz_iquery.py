"""4353 frames into the session (hello, messages, keepalive): events, or the session closes on a
bad frame; nothing else. The input is split into chunks to exercise partial frames."""
import atheris

from common import main

with atheris.instrument_imports(include=["node", "msgpack"]):
    from node.iquery.framing import encode
    from node.iquery.protocol import Closed, Hello, Message, Session, State

SEEDS = [encode({"t": "hello", "version": [1, 0], "device": "bigip2"}) + encode({"t": "ping"})
         + encode({"t": "commit", "changes": [["put", "ltm pool", "/Common/p", {"monitor": "http"}]]})
         + encode({"t": "error", "code": "local", "reason": "bye"})]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    s = Session("bigip1", 0.0, max_frame=1 << 16)
    now = 0.0
    while fdp.remaining_bytes():
        chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 64))
        now += 0.1
        for event in s.receive_data(chunk, now):
            assert isinstance(event, (Hello, Message, Closed))
        s.data_to_send()
        s.tick(now)
    if s.state is State.CLOSED:
        assert s.closed is not None


if __name__ == "__main__":
    main(one_input, SEEDS)
