"""Keep a set of running tasks (listeners) matching what the configuration wants."""
from __future__ import annotations


def reconcile(running: dict, want: dict, start) -> None:
    """running: key -> (spec, cancel scope, ...). Entries whose spec changed or is no longer wanted
    are cancelled; each wanted key not running gets `start(key, spec)`, which returns its entry."""
    for key in list(running):
        if want.get(key) != running[key][0]:
            running.pop(key)[1].cancel()
    for key, spec in want.items():
        if key not in running:
            running[key] = start(key, spec)
