"""iqdump's recorder: what it keeps of each peer's iQuery messages."""
from node.iquery import recorder
from node.iquery.recorder import Recorder


async def test_messages_older_than_the_age_go_and_newer_ones_are_still_shown():
    clock = [1000.0]
    rec = Recorder(now=lambda: clock[0])
    rec.record("ltm1", {"t": "gtm-health", "n": 1})
    rec.record("ltm1", {"t": "gtm-health", "n": 2})
    clock[0] += recorder.AGE + 1
    rec.record("ltm1", {"t": "gtm-health", "n": 3})
    assert [body["n"] for _, _, body in rec.messages["ltm1"]] == [3]   # a peer's old messages are not held
    answer = await rec.cmd("ltm1", after=2, wait=0)                    # what a running iqdump asks for
    assert [m["message"]["n"] for m in answer["messages"]] == [3] and answer["seq"] == 3
