"""The GTM page's model: for each wide IP and each client network, the answer a client gets now
(dig from a client node of the lab, against a GTM's listener: real DNS inside the lab) and why,
from the GTM's own status (the member's data center, its state and reason)."""
from __future__ import annotations

import re

from ..runtime.control import ControlError


def wideips(lab, gtm: str) -> list[str]:
    """The wide IPs the GTM serves, as `tmsh list gtm wideip a` names them."""
    try:
        text = lab.tmsh(gtm, "list gtm wideip a")
    except ControlError:
        return []
    return re.findall(r"^gtm wideip a (\S+)", text, re.M)


def dig(lab, client: str, server: str, name: str) -> list[str]:
    proc = lab.run(client, ["dig", f"@{server}", name, "A", "+short", "+time=1", "+tries=1"],
                   capture_output=True, text=True, timeout=5)
    if proc.returncode != 0:
        return [f"no answer ({(proc.stdout + proc.stderr).strip().splitlines()[-1:] or ['dig failed']})"]
    return [line.strip() for line in proc.stdout.splitlines() if line.strip() and not line.startswith(";")]


def answers(lab, statuses: dict) -> list[dict]:
    """[{gtm, listener, wideip, client, network, answer, why}] for every GTM with a listener."""
    clients = [n for n in lab.plan.nodes if n.kind == "host"]
    out = []
    for gtm, status in statuses.items():
        if status is None or isinstance(status, str) or status.gtm is None or not status.gtm.listeners:
            continue
        listener = next(iter(status.gtm.listeners.values())).address
        members = status.gtm.members
        for wip in wideips(lab, gtm):
            for c in clients:
                out.append({"gtm": gtm, "listener": listener, "wideip": wip, "client": c.name,
                            "network": ", ".join(i.address for i in c.interfaces), "dc": "",
                            "answer": dig(lab, c.name, listener, wip.split("/")[-1]),
                            "why": [f"{key}: {st.state} ({st.reason})" for key, st in sorted(members.items())]})
    return out

