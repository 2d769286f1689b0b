"""Scenarios: YAML steps of faults, waits and expectations run against a lab (see runner.py)."""
