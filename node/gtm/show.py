"""`tmsh show gtm ...`: iQuery channels, servers, pools, wide IPs and listeners, as tables."""
from __future__ import annotations

from ..config.schema import GTM_RECORD_TYPES, base_name, full_path
from ..errors import NotFound, ShellError
from ..tables import table

USAGE = "show gtm iquery | server [NAME] | pool [a|aaaa|cname] [NAME] | wideip [a|aaaa|cname] [NAME] | listener"


def _age(age) -> str:
    return "never" if age is None else f"{age:.1f} s ago"


def show(gtm, words: list[str]) -> str:
    what, rest = (words[0], words[1:]) if words else ("", [])
    if what == "iquery" and not rest:
        return _iquery(gtm.status())
    if what == "server" and len(rest) <= 1:
        return _servers(gtm, gtm.status(), rest[0] if rest else None)
    if what in ("pool", "wideip"):
        types = [rest.pop(0)] if rest and rest[0] in GTM_RECORD_TYPES else list(GTM_RECORD_TYPES)
        if len(rest) > 1:
            raise ShellError(f'Syntax Error: "{" ".join(rest[1:])}" unexpected argument ({USAGE})')
        return _pools_or_wideips(gtm, what, types, rest[0] if rest else None)
    if what == "listener" and not rest:
        return _listeners(gtm.status())
    raise ShellError(f'Syntax Error: "gtm {" ".join(words)}" unexpected argument ({USAGE})')


def _iquery(st: dict) -> str:
    blocks = []
    for peer, i in sorted(st["iquery"].items()):
        cert = i.get("certificate") or {}
        blocks.append(table(f"Gtm::IQuery: {peer} ({i['address']})", [
            ("State", i["state"] + (f" ({i['reason']})" if i["reason"] else "")),
            ("Peer certificate", cert.get("subject") or cert.get("fingerprint") or "-"),
            ("Certificate expires", cert.get("not_after") or "-"),
            ("Health updates", str(i["updates"])), ("Last update", _age(i["last_update_age"])),
            ("Subscribed to us", "yes" if i["subscribed"] else "no"),
            ("GTM sync group", "-" if not i["sync"] else
             f"{i['sync']['group']} ({'enabled' if i['sync']['enabled'] else 'disabled'})")]))
    sync = st["sync"]
    blocks.append(table("Gtm::Sync", [("Group", sync["group"]), ("Enabled", "yes" if sync["enabled"] else "no"),
                                      ("Generation", str(sync["gen"][0])),
                                      ("Members", ", ".join(sync["peers"]) or "-")]))
    return "\n".join(blocks)


def _servers(gtm, st: dict, name: str | None) -> str:
    blocks = []
    for path, s in sorted(st["servers"].items()):
        if name is not None and full_path(name) != path:
            continue
        cfg = gtm.store.get("gtm server", path) or {}
        rows = [("Datacenter", base_name(cfg.get("datacenter", "-"))), ("Product", cfg.get("product")),
                ("iQuery device", s["device"] or "-"), ("iQuery state", s["state"]), ("Reason", s["reason"]),
                ("Last update", _age(s["age"]))]
        sv = gtm.view.servers.get(path)
        for vs, v in sorted((sv.virtuals if sv else {}).items()):
            rows.append((f"Virtual server {vs}", f"{v.get('destination')} {v.get('availability')}"))
        blocks.append(table(f"Gtm::Server: {base_name(path)}", rows))
    if name is not None and not blocks:
        raise ShellError.of(NotFound("Server", full_path(name)))
    return "\n".join(blocks)


def _pools_or_wideips(gtm, what: str, types: list[str], name: str | None) -> str:
    blocks = []
    for rt in types:
        for path, v in sorted(gtm.store.of_type(f"gtm {what} {rt}").items()):
            if name is not None and full_path(name, wild=True) != path:
                continue
            rows = _pool_rows(gtm, rt, path, v) if what == "pool" else _wideip_rows(gtm, rt, path, v)
            blocks.append(table(f"Gtm::{'Pool' if what == 'pool' else 'WideIP'}: {rt} {base_name(path)}", rows))
    if name is not None and not blocks:
        raise ShellError.of(NotFound("Pool" if what == "pool" else "Wide IP", full_path(name, wild=True)))
    return "\n".join(blocks)


def _pool_rows(gtm, rt: str, path: str, v: dict) -> list[tuple[str, str]]:
    pool = gtm.view.pools.get((rt, path))
    rows = [("Availability", "available" if pool and pool.available else "offline"),
            ("Load balancing", f"{v['load-balancing-mode']} / {v['alternate-mode']} / {v['fallback-mode']}"),
            ("TTL", str(v["ttl"]))]
    for m in v.get("members") or []:
        ms = gtm.view.members.get((path, m["name"]))
        rows.append((f"Member {base_name(m['name'])}", f"{ms.state} ({ms.reason})" if ms else "unknown"))
    return rows


def _wideip_rows(gtm, rt: str, path: str, v: dict) -> list[tuple[str, str]]:
    stats = gtm.answerer.wideip_stats().get(f"{rt} {base_name(path)}", {})
    return [("Pool LB mode", v["pool-lb-mode"]),
            ("Pools", ", ".join(base_name(p["name"]) for p in v.get("pools") or []) or "none"),
            ("Aliases", ", ".join(v.get("aliases") or []) or "none"),
            ("Requests", str(stats.get("requests", 0))), ("Resolved", str(stats.get("resolutions", 0))),
            ("Returned to DNS", str(stats.get("returnToDns", 0))), ("Dropped", str(stats.get("dropped", 0)))]


def _listeners(st: dict) -> str:
    rows = [(name, f"{l['address']}:{l['port']} udp {l['udp_queries']} tcp {l['tcp_queries']} "
                   f"errors {l['errors']}") for name, l in sorted(st["listeners"].items())]
    a = st["answerer"]
    rows.append(("Answerer", f"{a['queries']} queries, {a['misses']} decisions, {a['cached']} cached"))
    return table("Gtm::Listener", rows)
