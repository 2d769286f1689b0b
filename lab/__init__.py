"""biglab's orchestrator, in layers (each imports only those below it; see docs/design.md):
cli -> scenario -> observe | faults -> lifecycle -> runtime -> model."""
