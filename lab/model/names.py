"""Names the lab's resources share, kept apart from the topology model so that what only needs a
name (the plan, the fork server and what it preloads) does not import pydantic and YAML."""

FABRIC = "fabric"   # the lab's namespace of bridges is `bl-<lab>-fabric` (lab/model/plan.py): no node's
# name may be this
