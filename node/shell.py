"""tmsh on a node: runs parsed command lines against the one config store and the CM service.

Every line either succeeds whole or changes nothing and returns tmsh-style error text.
"""
from __future__ import annotations

from .cm.failsafe import ha_status_rows
from .cm.service import CM
import fnmatch

from .config.schema import (LOCAL_ONLY, PARTITION, TYPES, UNPARTITIONED, ConfigError, base_name, check_trusted,
                            folder_of, folder_path, full_path, in_folder, object_path, split_destination)
from .config import policy, route_domains
from .config.access import may_read
from .config.fqdn_checks import is_template
from .config.iapp_text import TEMPLATE, read_tmpl_objects, template_checksum
from .config.store import ConfigStore, Op
from .config.tmsh import Command, TmshSyntaxError, View, object_name, one_line, parse, render, split_commands, tokenize
from .errors import LoadFailed, NotFound, ShellError, catalogued
from .logins import LoginFailures
from .gtm import show as gtm_show
from .config.zones import validate as validate_zone
from . import show_text
from .tables import columns, table
from .version import show_sys_version


def show_ntp(st: dict | None) -> str:
    """`show sys ntp`: ntpq -pn's peer line, then the synchronisation summary."""
    if st is None:
        return table("Sys::NTP", [("Servers", "none configured (the clock runs free)")])
    ms = lambda v: "-" if v is None else f"{v:.3f}"
    mark = "*" if st["synchronized"] else " "
    head = f"{'remote':<17}{'refid':<8}{'st':>3}{'t':>2}{'when':>6}{'poll':>6}{'reach':>6}{'delay':>10}{'offset':>12}"
    when = "-" if st["when"] is None else f"{st['when']:.0f}"
    peer = (f"{mark + st['server']:<17}{('.' + st['refid'] + '.') if st['refid'] else '.INIT.':<8}"
            f"{st['stratum']:>3}{'u':>2}{when:>6}{st['poll']:>6g}{st['reach']:>6}{ms(st['delay_ms']):>10}"
            f"{ms(st['offset_ms']):>12}")
    rows = [("Peers", f"{head}\n{'=' * len(head)}\n{peer}"),
            ("Status", "synchronized" if st["synchronized"] else "unsynchronized"),
            ("Clock offset", f"{st['clock_offset']:+.6f} s from true time"),
            ("Drift", f"{st['drift_ppm']:g} ppm when free-running")]
    if st["error"]:
        rows.append(("Last error", st["error"]))
    return table("Sys::NTP", rows)


def arp_table(vlans: dict[str, str]) -> list[dict]:
    """This namespace's neighbour table (what the kernel resolved), as `show net arp` lists it;
    `vlans` maps an interface name to its VLAN."""
    from .netlink import IPRoute
    states = {0x02: "resolved", 0x04: "resolved", 0x08: "resolved", 0x10: "resolved", 0x80: "permanent",
              0x01: "incomplete", 0x20: "failed"}
    out = []
    with IPRoute() as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
        for n in ipr.get_neighbours(family=2):
            address, mac = n.get_attr("NDA_DST"), n.get_attr("NDA_LLADDR")
            if not address or n["state"] == 0x40:    # NUD_NOARP: not a neighbour
                continue
            cache = n.get_attr("NDA_CACHEINFO") or {}
            age = cache.get("ndm_updated", 0) // 100 if isinstance(cache, dict) else 0
            ifname = names.get(n["ifindex"], "?")
            out.append({"address": address, "mac": mac or "incomplete", "vlan": f"/Common/{vlans.get(ifname, ifname)}",
                        "expire": max(300 - age, 0), "status": states.get(n["state"], "unknown")})
    return sorted(out, key=lambda e: tuple(int(x) for x in e["address"].split(".")))


class Shell:
    def __init__(self, device: str, store: ConfigStore, cm: CM, trust_members, save_config, ltm=None):
        self.device, self.store, self.cm, self.ltm = device, store, cm, ltm
        self.gtm = None   # the GTM service on nodes with the gtm module
        self.trust_members = trust_members  # () -> set of device names in the trust domain
        self.save_config = save_config
        self.ntp = None  # the NTP client (node/ntp_service.py), if the lab runs an NTP server
        self.sysconfig = None   # saved configuration and UCS archives (node/sysconfig.py)
        self.clock = None       # the device's clock (node/clock.py), for `show sys clock`
        self.logins = LoginFailures(lambda: 0)   # the daemon's, shared with REST

    def prompt(self) -> str:
        state = {"active": "Active", "standby": "Standby", "forced-offline": "Forced Offline"}[
            self.cm.failover.device_state()]
        return f"[root@{self.device}:{state}:{self.cm.sync_status()['status']}] ~ # "

    def tmsh_prompt(self, folder: str = PARTITION, modules=(), user: str = "root") -> str:
        """tmsh's prompt, from the live status: root@(bigip1)(cfg-sync In Sync)(Active)(/Common)(tmos.ltm)#"""
        state = {"active": "Active", "standby": "Standby", "forced-offline": "ForcedOffline"}[
            self.cm.failover.device_state()]
        where = ".".join(("tmos", *modules))
        return f"{user}@({self.device})(cfg-sync {self.cm.sync_status()['status']})({state})({folder})({where})# "

    def names(self, type_: str, folder: str = PARTITION) -> list[str]:
        """The names Tab completes for a type, as `list` shows them in `folder`."""
        if type_ not in TYPES:
            return []
        return sorted(object_name(type_, p, View(folder)) or "" for p, _ in self._in_folder(type_, folder, False))

    async def run(self, line: str, folder: str = PARTITION, text: str | None = None) -> str:
        """A line, or a script of lines (`cd /P; list ltm pool`), run in `folder`; a refusal
        stops the script, and its error carries what ran before it. `text` is what `load sys
        config merge from-terminal` reads."""
        lines = [part.strip() for part in split_commands(line) if part.strip()] if ";" in line or "&&" in line \
            else [line]
        out = []
        for one in lines:
            try:
                if one.split()[:1] == ["cd"]:
                    folder = self.cd(folder, one.split()[1:])
                    continue
                out.append(await self._run_line(one, folder, text))
            except ShellError as exc:
                if not out:
                    raise
                raise ShellError("\n".join(o for o in out if o) + "\n" + str(exc), exc.error) from None
        return "\n".join(o for o in out if o)

    def cd(self, folder: str, words: list[str]) -> str:
        """tmsh's `cd /P`, `cd F`, `cd ..`, `cd /`: the folder it moves to, which must exist."""
        if len(words) != 1:
            raise ShellError('Syntax Error: "cd" takes one folder')
        to = words[0]
        if to == "..":
            return folder_of(folder)
        try:
            path = "/" if to == "/" else folder_path(to.rstrip("/"), folder)
        except ConfigError as exc:
            raise ShellError.of(exc) from None
        if path != "/" and (self.store.get("sys folder", path) is None or not may_read("sys folder", path)):
            raise ShellError.of(NotFound("folder", path))
        return path

    async def _run_line(self, line: str, folder: str, text: str | None = None) -> str:
        try:
            words = [str(w) for w in tokenize(line)]
            if words[:1] == ["tmsh"]:
                words = words[1:]
            if words[:4] == ["load", "sys", "application", "template"]:
                return self._load_template(words[4:])
            if words[:4] == ["generate", "sys", "application", "template"]:
                return self._template_checksum(words[4:], folder)
            if words[1:3] == ["sys", "ucs"] or words[:1] in (["load"], ["restart"]) or words[:3] == ["save", "sys", "ucs"]:
                return self._sys(words, text)
            if words[:3] == ["publish", "ltm", "policy"] or (words[:3] == ["modify", "ltm", "policy"]
                                                             and words[4:] == ["create-draft"]):
                return self._policy_draft(words, folder)
            cmd = parse(line)
        except TmshSyntaxError as exc:
            raise ShellError(str(exc)) from None
        try:
            if cmd.verb in ("create", "modify", "delete"):
                return self._change(cmd, folder)
            if cmd.verb == "list":
                return self._list(cmd, folder)
            if cmd.verb == "show":
                return self._show(cmd.words, folder)
            if cmd.verb == "run":
                return await self._run(cmd.words)
            if cmd.verb == "reset-stats":
                return self._reset_stats(cmd.words)
            if cmd.verb == "save":
                if cmd.words not in (["sys", "config"], ["sys", "config", "partitions", "all"]):   # all: what it saves
                    raise ShellError(f'Syntax Error: "save {" ".join(cmd.words)}" unexpected argument')
                return "Saving running configuration...\n" + "\n".join(f"  {p}" for p in self.save_config())
        except ConfigError as exc:
            raise ShellError.of(exc) from None
        raise ShellError(f'Syntax Error: "{cmd.verb}" unknown command')

    def _policy_draft(self, words: list[str], folder: str) -> str:
        """`publish ltm policy Drafts/P` and `modify ltm policy P create-draft`, each one commit."""
        if len(words) not in (4, 5):
            raise ShellError(f'Syntax Error: "{words[0]} ltm policy" takes one policy name')
        try:
            path = object_path(policy.POLICY, words[3], folder)
            steps = policy.publish_ops(self.store.get, path) if words[0] == "publish" \
                else policy.draft_ops(self.store.get, path)
            self.store.commit([Op(*step) for step in steps])
        except ConfigError as exc:
            raise ShellError.of(exc) from None
        return ""

    # -- saved configuration, UCS, mcpd -------------------------------------------------------------
    def _sys(self, words: list[str], text: str | None) -> str:
        sc = self.sysconfig
        if sc is None:
            raise ShellError("Syntax Error: this device keeps no saved configuration")
        try:
            return self._sys_command(sc, words, text)
        except ConfigError as exc:
            raise ShellError.of(exc) from None

    def _sys_command(self, sc, words: list[str], text: str | None) -> str:
        verb, rest = words[0], words[1:]
        if rest[:2] == ["sys", "ucs"]:
            args = rest[2:]
            if verb == "list" and not args:
                return "\n".join(f"sys ucs {p.name}" for p in sc.ucs_list())
            if verb == "save" and len(args) == 1:
                return f"Saving active configuration...\n/var/local/ucs/{sc.ucs_save(args[0]).name} is saved."
            if verb == "delete" and len(args) == 1:
                sc.ucs_delete(args[0])
                return f"{sc.ucs_path(args[0]).name} is deleted"
            if verb == "load" and args:
                options, i = set(), 1
                while i < len(args):   # bigip_ucs's options: only reset-trust changes what the lab does
                    if args[i] == "passphrase" and i + 1 < len(args):
                        i += 2
                        continue
                    if args[i] not in ("reset-trust", "no-license", "no-platform-check", "include-chassis-level-config"):
                        raise ShellError(f'Syntax Error: "{args[i]}" unknown property')
                    options.add(args[i])
                    i += 1
                n = sc.ucs_load(args[0], reset_trust="reset-trust" in options)
                return f"Restoring UCS {sc.ucs_path(args[0]).name}: {n} objects loaded\nSaving active configuration..."
        if verb == "restart" and rest == ["sys", "service", "mcpd"]:
            sc.restart_mcpd()
            return ""
        if verb == "load" and rest[:2] == ["sys", "config"]:
            return self._load_config(sc, rest[2:], text)
        raise ShellError(f'Syntax Error: "{" ".join(words[:4])}" unexpected argument (save|load|delete|list sys ucs '
                         "NAME, load sys config [default | merge file F | merge from-terminal], restart sys service mcpd)")

    def _load_config(self, sc, args: list[str], text: str | None) -> str:
        if not args:
            return f"Loading configuration...\n  /config/bigip.conf\n{sc.load_saved()} objects loaded"
        if args == ["default"]:
            return f"Loading the default configuration...\n{sc.load_default()} objects reset"
        rest = [a for a in args if a not in ("merge", "verify")]
        if "merge" not in args:
            raise ShellError('Syntax Error: "load sys config" takes default, merge file F or merge from-terminal')
        if rest == ["from-terminal"]:
            if text is None:
                raise ShellError("Syntax Error: from-terminal reads the configuration from the terminal")
            source = "terminal"
        elif len(rest) == 2 and rest[0] == "file":
            source = rest[1]
            try:   # a device path (/tmp/x, where bigip_config moves its upload) is the device's own file
                with open(sc.device_file(source)) as f:
                    text = f.read()
            except OSError as exc:
                raise ShellError(f"Syntax Error: cannot read {source}: {exc.strerror}") from None
        else:
            raise ShellError(f'Syntax Error: "{" ".join(rest)}" unexpected argument')
        doing = "Validating" if "verify" in args else "Loading"
        try:
            if "verify" in args:
                n = sc.verify(text, source)
                return f"Validating configuration...\n  {source}\n{n} objects verified, nothing changed"
            n = sc.merge(text, source)
        except ConfigError as exc:
            raise ShellError.of(LoadFailed(doing, source, str(exc))) from None
        return f"Loading configuration...\n  {source}\n{n} objects merged"

    def _load_template(self, args: list[str]) -> str:
        """`load sys application template FILE`: the .tmpl file's templates (and the cli scripts they
        include), made or replaced in one commit (as F5 loads an exported template over one of the
        same name); a template's new content drops its old tmpl-checksum."""
        if len(args) != 1:
            raise ShellError('Syntax Error: "load sys application template" takes one FILE')
        try:
            with open(self.sysconfig.device_file(args[0]) if self.sysconfig else args[0]) as f:
                text = f.read()
        except OSError as exc:
            raise ShellError(f"Syntax Error: cannot read {args[0]}: {exc.strerror}") from None
        try:
            ops = [Op("modify" if self.store.get(t, p) else "create", t, p,
                      {"tmpl-checksum": ("set", None), **values} if t == TEMPLATE else values)
                   for t, p, values in ((t, object_path(t, name), values) for t, name, values in read_tmpl_objects(text))]
            self.store.commit(ops)
        except ConfigError as exc:
            raise ShellError.of(exc) from None
        return ""

    def _template_checksum(self, args: list[str], folder: str) -> str:
        """`generate sys application template NAME checksum`: the template's tmpl-checksum, the MD5
        of its content (not its name: automation compares a template with a renamed copy of it)."""
        if len(args) != 2 or args[1] != "checksum":
            raise ShellError('Syntax Error: "generate sys application template" takes NAME checksum')
        path = object_path(TEMPLATE, args[0], folder)
        values = self.store.get(TEMPLATE, path)
        if values is None:
            raise ShellError.of(NotFound("Application Template", path))
        try:
            self.store.commit([Op("modify", TEMPLATE, path, {"tmpl-checksum": ("set", template_checksum(values))})])
        except ConfigError as exc:
            raise ShellError.of(exc) from None
        return ""

    # -- configuration --------------------------------------------------------------------------
    def transaction(self, lines: list[str]) -> int:
        """Several create/modify/delete lines as one commit, all or nothing (tmsh's
        `create cli transaction` ... `submit cli transaction`). Returns how many were applied."""
        ops = []
        for n, line in enumerate(lines, 1):
            try:
                cmd = parse(line)
                if cmd.verb not in ("create", "modify", "delete"):
                    raise ShellError(f"only create, modify and delete go in a transaction, not {cmd.verb!r}")
                ops.append(self._op(cmd))
            except (TmshSyntaxError, ConfigError, ShellError) as exc:
                raise ShellError(f"line {n}: {exc}", catalogued(exc)) from None
        if not ops:
            raise ShellError("the transaction is empty")
        try:
            self.store.commit(ops)
        except ConfigError as exc:
            raise ShellError.of(exc) from None
        return len(ops)

    def _change(self, cmd: Command, folder: str = PARTITION) -> str:
        op = self._op(cmd, folder)
        self.store.commit([op])
        if cmd.type == "gtm zone" and cmd.verb != "delete":
            return "\n".join(f"warning: {w}" for w in validate_zone(base_name(op.path), self.store.get(cmd.type, op.path)["records"]))
        return ""

    @staticmethod
    def _path(cmd: Command, folder: str = PARTITION) -> str:
        return object_path(cmd.type, cmd.name, folder)

    def _op(self, cmd: Command, folder: str = PARTITION) -> Op:
        path = self._path(cmd, folder)
        check_trusted(cmd.type, cmd.values, self.trust_members)
        return Op(cmd.verb, cmd.type, path, cmd.values)

    def _list(self, cmd: Command, folder: str = PARTITION) -> str:
        """`list ltm pool [NAME | /P/* | p*] [recursive] [one-line] [all-properties]`: without a
        name, the objects of the current folder (and those below it with `recursive`), as tmsh
        lists them."""
        allp = "all-properties" in cmd.words
        if cmd.name and any(c in cmd.name for c in "*?"):
            pattern = cmd.name if cmd.name.startswith("/") else f"{folder.rstrip('/')}/{cmd.name}"
            shown = [(p, v) for p, v in sorted(self.store.of_type(cmd.type).items())
                     if folder_of(p) == folder_of(pattern)   # * stays in its folder
                     and fnmatch.fnmatchcase(base_name(p), base_name(pattern)) and may_read(cmd.type, p)]
        elif cmd.name:
            path = self._path(cmd, folder)
            values = self.store.get(cmd.type, path) if may_read(cmd.type, path) else None
            if values is None:
                raise ShellError.of(NotFound(TYPES[cmd.type].label, path))
            shown = [(path, values)]
        else:
            shown = self._in_folder(cmd.type, folder, "recursive" in cmd.words)
        if cmd.type == "net route-domain":
            shown = [(p, route_domains.shown(self.store.of_type, p, v)) for p, v in shown]
        text = "\n".join(render(cmd.type, p, v, allp, folder) for p, v in shown)
        return one_line(text) if "one-line" in cmd.words else text

    def _in_folder(self, type_: str, folder: str, deep: bool) -> list[tuple[str, dict]]:
        """The objects `list` shows without a name: those in `folder` (with `deep`, below it too)."""
        return [(p, v) for p, v in sorted(self.store.of_type(type_).items())
                if (type_ in UNPARTITIONED or not p.startswith("/") or (in_folder(p, folder) if deep
                                                                       else folder_of(p) == folder))
                and may_read(type_, p)]

    # -- login failures (auth password-policy max-login-failures) -------------------------------
    def _login_failures(self, names: list[str]) -> str:
        counts = self.logins.counts
        rows = [(n, f"{counts[n]} failures{', locked' if self.logins.locked(n) else ''}")
                for n in sorted(counts) if not names or n in names]
        return table("Auth::Login Failures", rows or [("-", "no failed logins")])

    def _reset_stats(self, words: list[str]) -> str:
        if words[:2] != ["auth", "login-failures"] or len(words) > 3:
            raise ShellError(f'Syntax Error: "reset-stats {" ".join(words)}" unexpected argument '
                             "(reset-stats auth login-failures [NAME])")
        self.logins.reset(words[2] if len(words) == 3 else None)
        return ""

    # -- show -----------------------------------------------------------------------------------
    def _show(self, words: list[str], folder: str = PARTITION) -> str:
        what = " ".join(words)
        if what == "cm sync-status":
            return show_text.cm_sync_status(self.cm.sync_status())
        if what == "cm failover-status":
            f = self.cm.failover_status()
            tgs = "\n".join(f"{st} for /Common/{tg}" for tg, st in sorted(f["traffic_groups"].items())) or "-"
            active = sum(1 for st in f["traffic_groups"].values() if st == "active")
            peers = "\n".join(f"{n}: {'alive' if p['alive'] else 'NO STATUS'} ({p['state'] or '?'}); paths "
                              + ", ".join(f"{a} {st}" for a, st in p["paths"].items())
                              for n, p in sorted(f["peers"].items())) or "-"
            rows = [("Color", "green" if f["state"] == "active" else "gray"), ("Status", f["state"].upper()),
                    ("Summary", f"{active}/{len(f['traffic_groups'])} active"), ("Details", tgs),
                    ("Peers", peers), ("Floating", "\n".join(f["floating"]) or "-")]
            rows += [("Failsafe", "\n".join(f"{t} fails, action is {a}" for t, a in sorted(f["failsafe"].items())) or "-")]
            rows += [("WARNING", w) for w in f["split_brain"].values()]
            return table("CM::Failover Status", rows) + "\n" + show_text.cm_failover_connections(f)
        if words[:2] == ["cm", "device-group"] and len(words) <= 3:
            return self._show_device_groups(words[2] if len(words) == 3 else None)
        if what == "sys failover":
            f = self.cm.failover_status()
            return show_text.sys_failover(f["state"], f.get("state_for", 0.0))
        if what == "sys clock" and self.clock is not None:
            return show_text.sys_clock(self.clock.now())
        if what == "sys ha-status":
            return show_text.sys_ha_status(self._ha_status())
        if what == "net arp":
            return show_text.net_arp(arp_table({i: base_name(p) for p, v in self.store.of_type("net vlan").items()
                                                for i in v.get("interfaces") or ()}))
        if what == "net self":
            active = self.cm.active_groups()
            return show_text.net_self([{
                "name": base_name(p), "address": v["address"], "vlan": base_name(v["vlan"]),
                "traffic_group": base_name(v["traffic-group"]), "floating": v["traffic-group"] != LOCAL_ONLY,
                "active": v["traffic-group"] == LOCAL_ONLY or base_name(v["traffic-group"]) in active}
                for p, v in sorted(self.store.of_type("net self").items())])
        if what == "ltm persistence persist-records" and self.ltm is not None:
            rows = []
            for r in self.ltm.persist_records():
                if not may_read("ltm virtual", r.virtual):
                    continue
                vs = self.store.get("ltm virtual", r.virtual) or {}
                dest = "%s:%s" % split_destination(vs["destination"]) if vs.get("destination") else r.virtual
                rows.append((r.mode, r.value, dest, f"{r.address}:{r.port}"))
            return show_text.ltm_persist_records(rows)
        if words[:2] == ["ltm", "pool"] and len(words) == 4 and words[3] == "members":
            path, view = object_path("ltm pool", words[2], folder), View(folder)
            pool = self.ltm.pool_report().get(path) if may_read("ltm pool", path) else None
            if pool is None:
                raise ShellError.of(NotFound("Pool", path))
            members = {view.port(m): info for m, info in pool["members"].items()}
            return show_text.ltm_pool_members(view.name(path), {**pool, "members": members})
        if what == "cm device":
            rows = []
            for path, d in sorted(self.store.of_type("cm device").items()):
                name = base_name(path)
                rows += [("Device", name), ("  Failover state", self.cm.failover.device_state()),
                         ("  ConfigSync IP", d.get("configsync-ip")),
                         ("  Unicast addresses", " ".join(d.get("unicast-address") or []) or "none")]
            for name, info in sorted(self.cm.peers.items()):
                dev = info.get("device", {})
                rows += [("Device", name), ("  Failover state", info.get("failover", {}).get("state", "?")),
                         ("  ConfigSync IP", dev.get("configsync-ip")),
                         ("  Unicast addresses", " ".join(dev.get("unicast-address") or []) or "none")]
            return table("CM::Device", rows)
        if what == "cm traffic-group":
            dash = lambda v: "-" if v is None else str(v)
            rows = [(r["tg"], r["device"], r["state"], "true" if r["next_active"] else "false",
                     dash(r["load"]), dash(r["next_active_load"])) for r in self.cm.failover_status()["groups"]]
            groups = self.cm.failover_status()["groups"]
            heads = ("Name", "Device", "Status", "Next Active", "Load", "Next Active Load")
            if any(r.get("ha_score") is not None for r in groups):
                heads += ("HA Score",)
                rows = [row + (dash(r.get("ha_score")),) for row, r in zip(rows, groups)]
            return columns("CM::Traffic-Group", heads, rows)
        if what == "sys ha-group":
            blocks = []
            for name, g in self.cm.ha_groups().items():
                rows = [("State", g["status"]), ("Active Bonus", str(g["active-bonus"])), ("Score", str(g["score"]))]
                for pool, p in g["pools"].items():
                    rows += [(f"Pool {pool}", f"weight {p['weight']}  members up {p['up']}/{p['total']}  "
                                              f"score {p['score']}")]
                blocks.append(table(f"Sys::HA Group: {name}", rows))
            return "\n".join(blocks)
        if words[:1] == ["gtm"] and self.gtm is not None:
            return gtm_show.show(self.gtm, words[1:])
        if what == "sys version":
            return show_sys_version()
        if what == "sys mcp-state":
            # this daemon answers, so its configuration loaded and it runs (bigip_ucs waits for these two)
            return table("Sys::mcp-state", [("Running Phase", "running"),
                                            ("Last Configuration Load Status", "full-config-load-succeed"),
                                            ("End Platform ID Received", "true")])
        if words[:2] == ["auth", "login-failures"] and len(words) <= 3:
            return self._login_failures(words[2:])
        if what in ("sys ntp", "sys ntp status"):
            return show_ntp(self.ntp.status() if self.ntp else None)
        if words[:2] == ["ltm", "rule"] and len(words) in (2, 3) and self.ltm is not None:
            return self._show_rules(words[2] if len(words) == 3 else None)
        if words[:1] == ["ltm"] and len(words) in (2, 3) and words[1] in ("virtual", "pool", "node"):
            return self._show_ltm(words[1], words[2] if len(words) == 3 else None, folder)
        raise ShellError(f'Syntax Error: "{what}" unexpected argument (show cm sync-status | failover-status '
                         "| device | device-group [G] | traffic-group, show ltm virtual | pool | node [NAME], "
                         "show ltm pool P members, show ltm persistence persist-records, show net arp | self, show gtm iquery | server | pool "
                         "| wideip | listener on gtm devices, show sys ntp | version | mcp-state | failover | clock "
                         "| ha-status | ha-group)")

    def _ha_status(self) -> list[tuple[str, ...]]:
        """The failsafes this device has, from its configuration, and which of them tripped."""
        of = self.store.of_type
        daemons = {base_name(p): (v.get("heartbeat") == "enabled", v.get("heartbeat-action"))
                   for p, v in of("sys daemon-ha").items() if base_name(p) != "gtmd" or self.gtm is not None}
        vlans = {p: v.get("failsafe-action") for p, v in of("net vlan").items() if v.get("failsafe") == "enabled"}
        gateways = {p: v.get("min-up-members-action") for p, v in of("ltm pool").items()
                    if v.get("min-up-members-checking") == "enabled" and int(v.get("min-up-members", 0)) > 0}
        ntp = self.ntp.status() if self.ntp else None
        clock_ok = None if ntp is None else bool(ntp["synchronized"])
        time_sync = {base_name(p): clock_ok for p, g in of("cm device-group").items()
                     if g.get("type") == "sync-failover" and self.device in {base_name(d) for d in g.get("devices") or ()}}
        return ha_status_rows(daemons, vlans, gateways, self.cm.failover_status()["failsafe"], time_sync)

    def _show_device_groups(self, name: str | None) -> str:
        status = self.cm.sync_status()
        groups = []
        for path, dg in sorted(self.store.of_type("cm device-group").items()):
            if name is not None and base_name(path) != base_name(name):
                continue
            info = status["groups"].get(base_name(path), {})
            members = []
            for dev in dg.get("devices") or []:
                dev = base_name(dev)
                peer = status["peers"].get(dev, {})
                synced_at = (status.get("synced_at") if dev == self.device else peer.get("synced_at") or {}).get(path)
                members.append({"name": dev, "status": info.get("pairs", {}).get(dev, info.get("status", "-")),
                                "since": "-" if synced_at is None else str(max(int(self.store.now() - synced_at), 0)),
                                "cid": (status["cid"] or "-").split(" ")[0] if dev == self.device
                                else ((peer.get("cid") or ["-"])[0])})
            groups.append({"name": base_name(path), "type": dg.get("type"), "members": members})
        if name is not None and not groups:
            raise ShellError.of(NotFound("Device Group", full_path(name)))
        return show_text.cm_device_group(groups)

    def _show_rules(self, name: str | None) -> str:
        """`show ltm rule`: per rule and event, as F5's Ltm::Rule Event statistics."""
        shown = self.ltm.irules.show()
        if name is not None:
            path = full_path(name)
            if self.store.get("ltm rule", path) is None or not may_read("ltm rule", path):
                raise ShellError.of(NotFound("Rule", path))
            shown = {path: shown.get(path, {})}
        shown = {rule: events for rule, events in shown.items() if may_read("ltm rule", rule)}
        out = []
        for rule, events in sorted(shown.items()):
            for event, s in sorted(events.items()):
                out.append(table(f"Ltm::Rule Event: {base_name(rule)}:{event}", [
                    ("Priority", str(s["priority"])), ("Executions", ""), ("  Total", str(s["executions"])),
                    ("  Failures", str(s["failures"])), ("  Aborts", str(s["aborts"]))]))
        return "\n".join(out)

    def _mirroring(self, v: dict) -> list[tuple[str, str]]:
        """The virtual's traffic group's mirroring channel, as `show ltm virtual` prints it."""
        if v.get("mirror") != "enabled":
            return []
        m = self.ltm.mirror.status(f"/Common/{v['traffic_group']}")   # traffic groups live in /Common
        peer = f"{m['peer']}:{m['port']} ({'connected' if m['connected'] else 'not connected'})" if m["peer"] else "none"
        return [("  Mirroring Peer", peer), ("  Mirrored Connections", str(m["mirrored"])),
                ("  Received From Peer", str(m["received"]))]

    def _show_ltm(self, what: str, name: str | None, folder: str = PARTITION) -> str:
        """`show ltm virtual|pool|node [NAME]`: NAME in the current folder (or a full path), else
        every object of the current folder, named as `list` names them there."""
        def stats(s: dict) -> list[tuple[str, str]]:
            return [("  Current Connections", str(s["cur_conns"])), ("  Total Connections", str(s["tot_conns"])),
                    ("  Bytes In", str(s["bytes_in"])), ("  Bytes Out", str(s["bytes_out"]))]

        view, type_ = View(folder), f"ltm {what}"
        want = object_path(type_, name, folder) if name is not None else None
        def shown(path: str) -> bool:
            return may_read(type_, path) and (path == want if want else folder_of(path) == folder)
        blocks = []
        if what == "virtual":
            for vs, v in self.ltm.virtual_health().items():
                if shown(vs):
                    blocks.append(table(f"Ltm::Virtual Server: {view.name(vs)}", [
                        ("Availability", v["availability"]), ("Reason", v["reason"]),
                        ("Destination", v["destination"]), ("Pool", view.name(v["pool"])),
                        ("Traffic Group", v["traffic_group"]),
                        ("Serving", "yes (active)" if v["serving"] else "no (standby or disabled)"),
                        ("Connection Mirroring", v.get("mirror", "disabled"))]
                        + self._mirroring(v)
                        + stats(v["stats"]) + [("  Refused (reset)", str(v["stats"]["refused"]))]))
        elif what == "pool":
            for pool, p in self.ltm.pool_report().items():
                if shown(pool):
                    rows = [("Availability", p["availability"]), ("Reason", p["reason"]),
                            ("Load Balancing", p["mode"]), ("Monitor", p["monitor"])] + stats(p["stats"])
                    for m, info in p["members"].items():
                        rows += [(f"Member {view.name(m)}", f"{info['availability']} ({info['session']}, "
                                                            f"{info['state']}, monitor {info['monitor']})"),
                                 ("  Reason", info["reason"])] + stats(info["stats"])
                    blocks.append(table(f"Ltm::Pool: {view.name(pool)}", rows))
        else:
            report = self.ltm.pool_report()
            for path, node in sorted(self.store.of_type("ltm node").items()):
                if shown(path):
                    members = [(p, m) for p, info in report.items() for m in info["members"]
                               if m.rsplit(":", 1)[0] == path]      # member /P/10.1.20.21:80 of node /P/10.1.20.21
                    blocks.append(table(f"Ltm::Node: {view.name(path)} ({node['address']})", [
                        ("Session", node.get("session")),
                        ("State", self.ltm.fqdn_state(path) if is_template(node) else node.get("state")),   # fqdn-up
                        ("Pool members", ", ".join(f"{view.name(p)}/{view.name(m)}" for p, m in members) or "none")]))
        if name is not None and not blocks:
            label = {"virtual": "Virtual Server", "pool": "Pool", "node": "Node"}[what]
            raise ShellError.of(NotFound(label, want))
        return "\n".join(blocks)

    # -- run ------------------------------------------------------------------------------------
    async def _run(self, words: list[str]) -> str:
        if words[:2] == ["cm", "config-sync"]:
            rest = words[2:]
            force = "force-full-load-push" in rest   # to-group already pushes the whole configuration
            if force:
                rest.remove("force-full-load-push")
            if len(rest) == 2 and (rest[0] == "to-group" or (rest[0] == "from-group" and not force)):
                return await self.cm.config_sync(rest[0], rest[1])
        if words[:2] == ["sys", "failover"]:
            rest = words[2:]
            if rest and rest[0] == "standby":
                tg = None
                if rest[1:2] == ["traffic-group"] and len(rest) == 3:
                    tg = rest[2]
                elif len(rest) != 1:
                    raise ShellError(f'Syntax Error: "{" ".join(rest[1:])}" unexpected argument')
                self.cm.standby(tg)
                return ""
            if rest == ["offline"]:
                self.cm.offline()
                return ""
            if rest == ["online"]:
                self.cm.online()
                return ""
        raise ShellError(f'Syntax Error: "run {" ".join(words)}" unknown command (run cm config-sync '
                         "[force-full-load-push] to-group G | from-group G, run sys failover standby|offline|online)")
