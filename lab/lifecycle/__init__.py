"""A lab's life: up (make, start, wait until ready, trust, HA), down, and inspecting one."""
