"""F5's external monitor: bigd runs the monitor's script (a sys file external-monitor) as
`SCRIPT NODE_IP PORT [args]` (an IPv4 node written ::ffff:a.b.c.d), with the monitor's
user-defined variables, NODE_IP, NODE_PORT and MON_TMPL_NAME in its environment; the member is up
when the script prints anything on stdout, down when it prints nothing or is still running at the
timeout (it is then killed, with its process group). The script runs for real, in this device's
network namespace (the daemon's), as a process of its own group.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import shlex
import signal
import subprocess
from pathlib import Path

import trio

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def node_ip(address: str) -> str:
    """bigd's first argument: an IPv4 address as its IPv4-mapped IPv6 form."""
    ip = ipaddress.ip_address(address.split("%")[0])   # a route domain's: the script runs in route domain 0
    return f"::ffff:{ip}" if ip.version == 4 else str(ip)


def command(script: Path, address: str, port: int, args: str | None) -> list[str]:
    return [str(script), node_ip(address), str(port), *shlex.split(args if args not in (None, "none") else "")]


def environment(settings: dict, address: str, port: int, monitor: str) -> dict[str, str]:
    return {"PATH": PATH, **(settings.get("user-defined") or {}), "NODE_IP": node_ip(address),
            "NODE_PORT": str(port), "MON_TMPL_NAME": monitor}


def script_file(directory: Path, text: str) -> Path:
    """The script on disk (named by its text's hash, so a changed script is a new file), executable."""
    path = directory / f"external_monitor_{hashlib.sha1(text.encode()).hexdigest()[:16]}"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o700)
        tmp.replace(path)
    return path


async def probe_external(directory: Path, settings: dict, address: str, port: int, timeout: float) -> str | None:
    """Run the script once: None when it printed something (up), else why it is down."""
    text = settings.get("script")
    if not text:
        return f"no script {settings.get('run') or 'none'} (sys file external-monitor)"
    argv = command(script_file(directory, text), address, port, settings.get("args"))
    try:
        proc = await trio.lowlevel.open_process(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL, start_new_session=True,
                                                env=environment(settings, address, port, settings.get("name", "")))
    except OSError as exc:
        return f"the script did not start: {exc.strerror or exc}"
    out = b""
    try:
        with trio.move_on_after(timeout) as scope:
            async with proc.stdout:
                while chunk := await proc.stdout.receive_some(4096):
                    out += chunk
            await proc.wait()
    finally:
        if proc.returncode is None:   # still running at the timeout (or cancelled): its whole group goes
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            with trio.CancelScope(shield=True):
                await proc.wait()
    if scope.cancelled_caught:
        return f"the script ran past the timeout ({timeout:g} s)"
    return None if out else "the script printed nothing"
