"""iqdump's recorder: what it keeps of each peer's iQuery messages."""
from node.iquery import recorder
from node.iquery.recorder import Recorder


async def test_messages_are_kept_only_while_an_iqdump_watches_and_each_only_for_the_age():
    clock = [1000.0]
    rec = Recorder(now=lambda: clock[0])
    rec.record("ltm1", {"t": "gtm-health", "n": 1})
    assert rec.messages == {}                                  # nobody watching: nothing held
    first = await rec.cmd("ltm1", wait=0)                      # an iqdump starts: from now on
    rec.record("ltm1", {"t": "gtm-health", "n": 2})
    clock[0] += recorder.AGE - 1
    answer = await rec.cmd("ltm1", after=first["seq"], wait=0)   # it asks again in time
    assert [m["message"]["n"] for m in answer["messages"]] == [2]
    clock[0] += 2
    rec.record("ltm1", {"t": "gtm-health", "n": 3})
    assert [body["n"] for _, _, body in rec.messages["ltm1"]] == [3]   # older than the age: gone
    clock[0] += recorder.AGE + 1                               # the iqdump stopped asking
    rec.record("ltm1", {"t": "gtm-health", "n": 4})
    assert rec.messages == {}
