"""Reconnect delays: exponential, capped, reset by a success. Pure; the caller sleeps."""
from __future__ import annotations


class Backoff:
    def __init__(self, initial: float = 0.25, factor: float = 2.0, maximum: float = 2.0):
        self.initial, self.factor, self.maximum = initial, factor, maximum
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial
