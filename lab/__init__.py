"""biglab's orchestrator: topology -> plan -> backend -> wiring -> operations."""
