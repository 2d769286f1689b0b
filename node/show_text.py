"""tmsh's `show` screens for what an F5 engineer types in the first minute, laid out as a BIG-IP
prints them (sans-IO: each takes the data the shell gathered and returns the text).
"""
from __future__ import annotations

from .tables import columns, table

UNICAST_PORT = 1026   # sod's failover heartbeats

def duration(seconds: float) -> str:
    """`0d 01:20:32`, as `show sys failover` and REST's sys failover print a time in a state."""
    s = int(max(seconds, 0))
    return f"{s // 86400}d {s % 86400 // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def sys_failover(state: str, seconds: float) -> str:
    return f"Failover {state} for {duration(seconds)}"


def sys_clock(now) -> str:
    """`show sys clock`: the device's date, as date(1) prints it."""
    return "\n".join(["-" * 29, "Sys::Clock", "-" * 29, now.strftime("%a %b %e %H:%M:%S UTC %Y")])


def net_arp(entries: list[dict]) -> str:
    """entries: {address, mac, vlan, expire, status} from the namespace's neighbour table."""
    rows = [(e["address"], e["address"], e["mac"], e["vlan"], e["expire"], e["status"]) for e in entries]
    return columns("Net::Arp", ("Name", "Address", "HWaddress", "Vlan", "Expire-in-sec", "Status"), rows)


def cm_sync_status(s: dict) -> str:
    return table("CM::Sync Status", [("Color", s["color"]), ("Status", s["status"]),
                                     ("Summary", s.get("summary") or s["status"]),
                                     ("Details", "\n".join(s["details"]) or " ")])


def cm_device_group(groups: list[dict]) -> str:
    """groups: {name, type, members: [{name, status, since, cid}]}: one row a member, as F5 lists them."""
    rows = [(g["name"], m["name"], g["type"], m["status"], m["since"], m["cid"]) for g in groups for m in g["members"]]
    return columns("CM::Device-Group", ("Group Name", "Member Name", "Group Type", "Sync Status",
                                        "Time Since Last Sync (Secs)", "Commit Id"), rows)


def cm_failover_connections(f: dict) -> str:
    """The failover paths of `show cm failover-status`: one row a peer and path, unicast on UDP 1026
    from our address to the peer's, multicast on the interface's group (cm device multicast-*)."""
    rows = []
    for name, peer in sorted(f["peers"].items()):
        for address, st in peer["paths"].items():
            local = peer.get("local", {}).get(address)
            if f.get("multicast") and address == f["multicast"].split(":", 1)[1]:
                ends = ("multicast", f["multicast"], f"{local}:{address}")
            else:
                ends = ("unicast", f"{local or '-'}:{UNICAST_PORT}", f"{address}:{UNICAST_PORT}")
            rows.append((ends[0], f["device"], ends[1], name, ends[2], st))
    return columns("CM::Failover Connections", ("Type", "Local Device", "Local Address", "Remote Device",
                                                "Remote Address", "Status"), rows)


def sys_ha_status(rows: list[tuple]) -> str:
    """rows: (feature, key, action, condition, enabled, active)."""
    return columns("Sys::HA Status", ("Feature", "Key", "Action", "Condition", "Enabled", "Active"), rows)


def net_self(selfs: list[dict]) -> str:
    """selfs: {name, address, vlan, traffic_group, floating, active} a self IP."""
    return "\n".join(table(f"Net::Self IP: {s['name']}", [
        ("Address", s["address"]), ("VLAN", s["vlan"]), ("Traffic Group", s["traffic_group"]),
        ("Floating", "yes" if s["floating"] else "no"),
        ("Status", "active on this device" if s["active"] else "standby (the peer serves it)")]) for s in selfs)


def ltm_pool_members(name: str, pool: dict) -> str:
    """`show ltm pool P members`: the pool's status, then a nested block a member."""
    members = pool["members"]
    up = sum(1 for m in members.values() if m["availability"] == "available")
    out = [table(f"Ltm::Pool: {name}", [
        ("Status", ""), ("  Availability", pool["availability"]),
        ("  State", "enabled"), ("  Reason", pool["reason"]), ("  Monitor", pool["monitor"]),
        ("  Current Active Members", str(up)), ("  Available Members", str(up)),
        ("  Total Members", str(len(members))),
        ("Traffic", "ServerSide"), ("  Bits In", str(pool["stats"]["bytes_in"] * 8)),
        ("  Bits Out", str(pool["stats"]["bytes_out"] * 8)),
        ("  Current Connections", str(pool["stats"]["cur_conns"])),
        ("  Total Connections", str(pool["stats"]["tot_conns"]))])]
    for m, info in members.items():
        block = table(f"Ltm::Pool Member: {m}", [
            ("Status", ""), ("  Availability", info["availability"]),
            ("  State", "enabled" if info["session"] == "user-enabled" else "disabled"),
            ("  Reason", info["reason"]), ("  Monitor", f"{pool['monitor']} (pool monitor)"),
            ("  Monitor Status", info["monitor"]),
            ("  Session Status", "enabled" if info["session"] == "user-enabled" else "disabled"),
            ("Traffic", "ServerSide"), ("  Bits In", str(info["stats"]["bytes_in"] * 8)),
            ("  Bits Out", str(info["stats"]["bytes_out"] * 8)),
            ("  Current Connections", str(info["stats"]["cur_conns"])),
            ("  Total Connections", str(info["stats"]["tot_conns"]))])
        out.append("\n".join(f"  | {line}" if not line.startswith("-") else f"  {line}" for line in block.split("\n")))
    return "\n".join(out)


def ltm_persist_records(rows: list[tuple[str, str, str, str]]) -> str:
    """`show ltm persistence persist-records`: (mode, value, virtual addr:port, member addr:port) a record."""
    return "\n".join(["Sys::Persistent Connections", *(f"{m}  {v}  {vs}  {node}  (tmm: 0)" for m, v, vs, node in rows),
                      f"Total records returned: {len(rows)}"])
