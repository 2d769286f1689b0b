"""The loop-lag probe's summary: milliseconds, nearest-rank percentiles."""
from node.looplag import summary


def test_loop_lag_summary_in_milliseconds():
    late = [0.0001] * 98 + [0.005, 0.020]
    assert summary(late) == {"samples": 100, "p50_ms": 0.1, "p99_ms": 5.0, "max_ms": 20.0}


def test_loop_lag_summary_of_nothing():
    assert summary([])["samples"] == 0 and summary([])["p99_ms"] is None
