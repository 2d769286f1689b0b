"""The biglab node daemon: one emulated BIG-IP device, run inside its own network namespace."""
