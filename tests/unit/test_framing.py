import struct

import msgpack
import pytest

from node.iquery.framing import FrameDecoder, FrameError, encode


def test_a_frame_survives_arriving_one_byte_at_a_time():
    data = encode({"t": "hello", "device": "bigip1", "blob": b"\x00\x01"})
    dec = FrameDecoder()
    for i in range(len(data) - 1):
        dec.receive_data(data[i:i + 1])
        assert dec.next_message() is None
    dec.receive_data(data[-1:])
    assert dec.next_message() == {"t": "hello", "device": "bigip1", "blob": b"\x00\x01"}
    assert dec.pending == 0


def test_several_frames_in_one_read_come_out_in_order():
    dec = FrameDecoder()
    dec.receive_data(encode({"t": "a"}) + encode({"t": "b"}) + encode({"t": "c"})[:3])
    assert [dec.next_message()["t"], dec.next_message()["t"], dec.next_message()] == ["a", "b", None]


def test_an_oversized_length_is_refused_before_the_body_arrives():
    dec = FrameDecoder(max_frame=1024)
    dec.receive_data(struct.pack(">I", 1025))
    with pytest.raises(FrameError, match="exceeds the 1024-byte limit"):
        dec.next_message()


def test_a_body_that_is_not_msgpack_is_a_frame_error():
    dec = FrameDecoder()
    dec.receive_data(struct.pack(">I", 2) + b"\xc1\xc1")  # 0xc1 is never used in msgpack
    with pytest.raises(FrameError, match="not msgpack"):
        dec.next_message()


@pytest.mark.parametrize("value", [[1, 2], {"x": 1}, {"t": 5}, "hello"])
def test_msgpack_that_is_not_a_typed_map_is_a_frame_error(value):
    body = msgpack.packb(value)
    dec = FrameDecoder()
    dec.receive_data(struct.pack(">I", len(body)) + body)
    with pytest.raises(FrameError, match="not a message"):
        dec.next_message()


def test_encode_refuses_what_the_decoder_would_refuse():
    with pytest.raises(ValueError):
        encode({"no": "type"})
    with pytest.raises(ValueError, match="frame limit"):
        encode({"t": "big", "blob": b"x" * 2048}, max_frame=1024)
