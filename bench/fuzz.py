"""Coverage-guided fuzzing: each harness under fuzz/ for a set time, then one JSON report.

    python bench/fuzz.py [--seconds 60] [--corpus DIR] [--artifacts DIR] [HARNESS ...]

A harness stops at its first crash; it is started again on the same corpus for the time left, so
one run can find several crashes. Each crash is reported with its exception and the input file
(keep it: it becomes a regression test). Figures: executions and final coverage per harness.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESSES = sorted(p.stem.removeprefix("fuzz_") for p in (ROOT / "fuzz").glob("fuzz_*.py"))


def run_once(name: str, seconds: int, corpus: Path, artifacts: Path) -> dict:
    """One libFuzzer run: executions, coverage and the crash it stopped at (if any)."""
    env = {**os.environ, "FUZZ_CORPUS": str(corpus / name)}
    argv = [sys.executable, str(ROOT / "fuzz" / f"fuzz_{name}.py"), f"-max_total_time={seconds}",
            "-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048", f"-artifact_prefix={artifacts}/{name}-"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 120)
    out = proc.stderr + proc.stdout
    runs = re.findall(r"stat::number_of_executed_units: (\d+)", out) or re.findall(r"^#(\d+)\s", out, re.M)
    cov = re.findall(r"cov: (\d+)", out)
    crash = None
    written = re.search(r"Test unit written to (\S+)", out)
    if written or proc.returncode not in (0,):
        exc = re.findall(r"^(\w+(?:\.\w+)*(?:Error|Exception|Label|Exit)\b.*)$", out, re.M)
        frames = re.findall(r'File "([^"]+)", line (\d+)', out)
        ours = [(f, n) for f, n in frames if f.startswith(str(ROOT)) and "/.venv/" not in f] or frames
        crash = {"input": written.group(1) if written else None, "exit": proc.returncode,
                 "exception": exc[-1][:200] if exc else out.strip().splitlines()[-1:],
                 "at": f"{ours[-1][0].replace(str(ROOT) + '/', '')}:{ours[-1][1]}" if ours else None}
    return {"executions": int(runs[-1]) if runs else 0, "coverage": int(cov[-1]) if cov else 0, "crash": crash}


def fuzz(name: str, seconds: int, corpus: Path, artifacts: Path) -> dict:
    started, executions, coverage, crashes = time.monotonic(), 0, 0, []
    while (left := seconds - (time.monotonic() - started)) >= 1:
        one = run_once(name, int(left), corpus, artifacts)
        executions += one["executions"]
        coverage = max(coverage, one["coverage"])
        if one["crash"] is None:
            break
        crashes.append(one["crash"])
        if len(crashes) >= 20:
            break
    distinct = list({(str(c["exception"]).split(":")[0], c["at"]): c for c in crashes}.values())   # type, place
    return {"seconds": round(time.monotonic() - started, 1), "executions": executions, "coverage": coverage,
            "crashes": len(distinct), "crash_runs": len(crashes), "crash_details": distinct}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("harness", nargs="*", help=f"of {', '.join(HARNESSES)} (default: all)")
    ap.add_argument("--seconds", type=int, default=60, help="per harness")
    ap.add_argument("--corpus", type=Path, help="keep the corpus here (default: a temporary directory)")
    ap.add_argument("--artifacts", type=Path, help="crash inputs go here (default: a temporary directory)")
    args = ap.parse_args()
    unknown = set(args.harness) - set(HARNESSES)
    if unknown:
        ap.error(f"no harness {', '.join(sorted(unknown))} (known: {', '.join(HARNESSES)})")
    with tempfile.TemporaryDirectory(prefix="fuzz-corpus-") as tmp:
        corpus = args.corpus or Path(tmp)
        artifacts = args.artifacts or Path(tempfile.mkdtemp(prefix="fuzz-crashes-"))
        artifacts.mkdir(parents=True, exist_ok=True)
        report = {name: fuzz(name, args.seconds, corpus, artifacts) for name in args.harness or HARNESSES}
    print(json.dumps({"seconds_per_harness": args.seconds, "artifacts": str(artifacts), "harnesses": report},
                     indent=2))


if __name__ == "__main__":
    main()
