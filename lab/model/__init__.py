"""What a lab is, as data: the topology file, the plan made from it, and the lab's state on the
host (the plan, the fault record, the timeline of faults). The bottom layer: it imports nothing
else of lab/."""
