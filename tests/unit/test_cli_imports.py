"""`biglab up` imports only what bringing a lab up needs: not the fault registry, the observe,
scenario or web layers (each verb imports its own when it runs)."""
import subprocess
import sys

LATER = ("lab.faults", "lab.observe", "lab.scenario", "lab.web", "rich.table")


def test_up_loads_no_layer_it_does_not_use():
    code = ("import sys, lab.cli, lab.lifecycle.up; lab.cli.parser('up').parse_args(['up', 'f.yml']); "
            f"print(sorted(m for m in sys.modules if m.startswith({LATER!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_chaos_still_lists_the_fault_registrys_verbs():
    out = subprocess.run([sys.executable, "-m", "lab.cli", "chaos", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "partition" in out.stdout
