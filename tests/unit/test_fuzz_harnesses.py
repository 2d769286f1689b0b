"""The fuzz harnesses stay runnable: each takes its own seeds, and bytes that are no valid input,
without failing (bench/fuzz.py runs them for real)."""
import contextlib
import importlib
import sys
from pathlib import Path

import pytest

atheris = pytest.importorskip("atheris")
FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ))
HARNESSES = sorted(p.stem for p in FUZZ.glob("fuzz_*.py"))


@pytest.mark.parametrize("name", HARNESSES)
def test_a_harness_takes_its_seeds_and_garbage(name, monkeypatch):
    # imported without coverage instrumentation: the other tests share these modules
    monkeypatch.setattr(atheris, "instrument_imports", lambda **kw: contextlib.nullcontext())
    harness = importlib.import_module(name)
    assert harness.SEEDS
    for seed in harness.SEEDS:
        harness.one_input(seed if isinstance(seed, bytes) else seed.encode())
    for junk in (b"", b"\x00", b"\xff" * 64, b"{" * 200, b"#\n- [", bytes(range(256))):
        harness.one_input(junk)
