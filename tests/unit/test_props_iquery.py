"""The 4353 channel's framing and messages (node/iquery/framing.py, messages.py), property-based:
every message of every kind goes to the wire and back unchanged however the stream is cut; any
map is a message or BadMessage; any bytes are messages or a FrameError."""
from __future__ import annotations

import dataclasses
import types
import typing

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.iquery import framing
from node.iquery import messages as m

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCALAR = st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.text(max_size=20) \
    | st.binary(max_size=20) | st.floats(allow_nan=False)
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
BY_TYPE = {str: st.text(max_size=30), int: st.integers(-2**63, 2**64 - 1), bytes: st.binary(max_size=64),
           bool: st.booleans(), list: st.lists(VALUE, max_size=4),
           dict: st.dictionaries(st.text(max_size=8), VALUE, max_size=4), type(None): st.none()}


def field_values(cls: type) -> st.SearchStrategy:
    """Keyword arguments of the right types for every field of a message class."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        out[f.name] = st.one_of(*(BY_TYPE[typing.get_origin(o) or (type(None) if o is None else o)] for o in options))
    return st.fixed_dictionaries(out)


def message(cls: type) -> st.SearchStrategy:
    if cls is m.SyncPush:   # its two modes carry one of objects or commits
        return st.builds(lambda kw, full, body: cls(**{**kw, "mode": "full" if full else "incremental",
                                                      "objects": body if full else None,
                                                      "commits": None if full else body}),
                         field_values(cls), st.booleans(), st.lists(VALUE, max_size=4))
    if cls is m.Hello:      # its extra fields sit beside version and device on the wire
        return st.builds(cls, st.lists(st.integers(0, 9), max_size=2), st.text(max_size=20),
                         st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("t", "version", "device")),
                                         VALUE, max_size=3))
    return field_values(cls).map(lambda kw: cls(**kw))


MESSAGES = st.one_of(*(message(c) for c in m.KINDS.values()))


@SETTINGS
@given(st.lists(MESSAGES, min_size=1, max_size=5), st.data())
def test_any_messages_cross_the_wire_unchanged_however_the_stream_is_cut(msgs, data):
    wire = b"".join(framing.encode(x.to_wire()) for x in msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    decoder, got = framing.FrameDecoder(), []
    for a, b in zip([0, *cuts], [*cuts, len(wire)]):
        decoder.receive_data(wire[a:b])
        while (body := decoder.next_message()) is not None:
            got.append(m.decode(body))
    assert got == msgs and decoder.pending == 0


@SETTINGS
@given(st.sampled_from(sorted(m.KINDS)) | st.text(max_size=10),
       st.dictionaries(st.sampled_from(sorted({f.name for c in m.KINDS.values() for f in dataclasses.fields(c)}))
                       | st.text(max_size=8), VALUE, max_size=6))
def test_any_map_is_a_message_or_a_bad_message(kind, fields):
    try:
        msg = m.decode({**fields, "t": kind})
    except m.BadMessage:
        return
    assert msg.kind == kind
    assert m.decode(msg.to_wire()) == msg


@SETTINGS
@given(st.binary(max_size=300) | MESSAGES.map(lambda x: framing.encode(x.to_wire())).flatmap(
    lambda b: st.tuples(st.integers(0, len(b)), st.binary(max_size=8)).map(lambda t: b[:t[0]] + t[1] + b[t[0]:])))
def test_any_bytes_are_messages_or_a_frame_error(data):
    decoder = framing.FrameDecoder(max_frame=1024)
    decoder.receive_data(data)
    try:
        while (body := decoder.next_message()) is not None:
            assert isinstance(body, dict) and isinstance(body["t"], str)
            try:
                m.decode(body)
            except m.BadMessage:
                pass
    except framing.FrameError:
        pass
