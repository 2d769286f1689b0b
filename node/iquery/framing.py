"""Length-prefixed msgpack frames, sans-IO.

A frame is a 4-byte big-endian length followed by that many bytes of msgpack, which must decode to
a map with a string "t" (the message type). Feed bytes with `receive_data`, then pull messages with
`next_message` until it returns None. A bad frame raises FrameError; the connection is then
unusable (we cannot find the next frame boundary) and must be closed.
"""
from __future__ import annotations

import struct

import msgpack

HEADER = struct.Struct(">I")
MAX_FRAME = 32 * 1024 * 1024  # a 10,000-object full sync fits with room to spare


class FrameError(Exception):
    """The peer sent something that is not a valid frame; `reason` says what."""


def encode(message: dict, *, max_frame: int = MAX_FRAME) -> bytes:
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ValueError("a message is a dict with a string 't'")
    body = msgpack.packb(message, use_bin_type=True)
    if len(body) > max_frame:
        raise ValueError(f"message of {len(body)} bytes exceeds the {max_frame}-byte frame limit")
    return HEADER.pack(len(body)) + body


class FrameDecoder:
    def __init__(self, *, max_frame: int = MAX_FRAME):
        self.max_frame = max_frame
        self._buf = bytearray()

    def receive_data(self, data: bytes) -> None:
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes received but not yet returned as a message."""
        return len(self._buf)

    def next_message(self) -> dict | None:
        if len(self._buf) < HEADER.size:
            return None
        (length,) = HEADER.unpack_from(self._buf)
        if length > self.max_frame:
            raise FrameError(f"frame of {length} bytes exceeds the {self.max_frame}-byte limit")
        if len(self._buf) < HEADER.size + length:
            return None
        body = bytes(self._buf[HEADER.size:HEADER.size + length])
        del self._buf[:HEADER.size + length]
        try:
            message = msgpack.unpackb(body, raw=False, strict_map_key=True)
        except Exception as exc:  # msgpack raises several unrelated types
            raise FrameError(f"frame is not msgpack ({type(exc).__name__})") from None
        if not isinstance(message, dict) or not isinstance(message.get("t"), str):
            raise FrameError("frame is not a message (a map with a string 't')")
        return message
