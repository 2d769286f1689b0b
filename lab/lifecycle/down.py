"""`biglab down`: remove a lab and everything it made, whatever state it is in, and sweep what a
crash left behind (namespaces, containers, links no lab.json knows of)."""
from __future__ import annotations

import shutil

from node.netlink import IPRoute, netns

from ..model import state
from ..model.errors import LabError
from ..model.plan import PREFIX, Plan, prefix
from ..runtime import forkserver, ntpd, wiring
from ..runtime.backends import BACKENDS, get_backend
from ..runtime.lab import Lab, require_root
from ..runtime.threads import each


def teardown(plan: Plan) -> list[str]:
    """Remove everything of a lab, whatever state it is in; returns what was removed."""
    be = get_backend(plan.backend)
    removed = []
    ntpd.stop(plan.lab)   # the fork server is the host's: it ends itself a while after its last daemon
    present = [node for node in plan.nodes if be.exists(node)]
    each(be.remove, present)   # each node's processes end side by side
    removed += [node.netns for node in present]
    removed += wiring.remove_fabric(plan.fabric)
    with IPRoute() as ipr:   # the host's veth ends went with their peers; an older lab's links
        removed += wiring.remove_links(ipr, prefix(plan.lab))
    state.forget(plan.lab)
    shutil.rmtree(state.CERTS / plan.lab, ignore_errors=True)
    return removed


def down(lab: str) -> list[str]:
    require_root()
    plan = state.load_plan(lab)
    if plan is None:
        leftovers = sweep(prefix(lab))
        if not leftovers:
            raise LabError(f"no lab named {lab!r} is up")
        state.forget(lab)  # node directories (or links to container volumes) without a lab.json
        return leftovers
    return teardown(plan) + sweep(prefix(lab))


def down_all() -> list[str]:
    require_root()
    removed = []
    for lab in state.labs():
        removed += teardown(Lab.open(lab).plan)
    return removed + sweep(PREFIX)


def sweep(lab_prefix: str) -> list[str]:
    """What each backend, the fork servers, the fabrics and the host's links hold with the prefix
    that no lab.json knows of."""
    removed = forkserver.sweep(lab_prefix)
    for name in netns.listnetns():
        if name.startswith(lab_prefix) and wiring.is_fabric(name):
            removed += wiring.remove_fabric(name)
    removed += get_backend("netns").sweep(lab_prefix)
    with IPRoute() as ipr:
        removed += wiring.remove_links(ipr, lab_prefix)
    for name in BACKENDS:
        if name != "netns":
            removed += get_backend(name).sweep(lab_prefix)
    return removed
