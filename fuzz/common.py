"""What the harnesses share: the project on the path, seeds written to the corpus, atheris started.

A harness is `fuzz_<parser>.py` with one_input(data) and SEEDS (valid inputs to start from); it
raises only for a bug (an exception its parser does not declare). Run one by hand:

    .venv/bin/python fuzz/fuzz_tmsh.py -max_total_time=60 CORPUS_DIR

or all of them for a set time with bench/fuzz.py. A crash found becomes a regression test.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402

# coverage feedback from the project's own code (and the parsers it hands bytes to)
INSTRUMENT = ["node", "lab", "dns", "msgpack", "yaml", "pydantic"]


def main(one_input, seeds=()) -> None:
    """Write the seeds into the corpus directory given in FUZZ_CORPUS (if any), then fuzz."""
    args = list(sys.argv)
    corpus = os.environ.get("FUZZ_CORPUS")
    if corpus:
        Path(corpus).mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(seeds):
            (Path(corpus) / f"seed-{i}").write_bytes(seed if isinstance(seed, bytes) else seed.encode())
        args.append(corpus)
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def text(data: bytes) -> str:
    """The input as text, as a file or a command line would arrive (invalid UTF-8 replaced)."""
    return data.decode("utf-8", "replace")
