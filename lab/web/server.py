"""Serving the web view: Hypercorn's trio worker, as a node serves iControl REST."""
from __future__ import annotations

import ipaddress
import logging

import trio
from hypercorn.config import Config
from hypercorn.trio import serve as hypercorn_serve
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..model.errors import LabError
from ..runtime.lab import Lab
from .app import HERE, Web


def make(lab: str | None, listen: str | None) -> Web:
    """The app; with `listen` (an address other than the loopback) it asks for the lab's admin
    credentials, so it needs the lab named."""
    credentials = None
    if listen and not ipaddress.ip_address(listen).is_loopback:
        if not lab:
            raise LabError("--listen serves one lab behind its admin credentials: name the lab")
        handle = Lab.open(lab)
        admin = next((n.admin for n in handle.plan.nodes if n.admin), None)
        if not admin:
            raise LabError(f"lab {lab} has no admin credentials to ask for")
        credentials = {"username": admin["username"], "password": admin["password"]}
    elif lab:
        Lab.open(lab)   # a clear error now for a lab that is not up
    web = Web(lab, credentials)
    web.app.router.routes.append(Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"))
    return web


async def serve(web: Web, address: str, port: int, ready=lambda url: None) -> None:
    config = Config()
    config.bind = [f"[{address}]:{port}" if ":" in address else f"{address}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.errorlog.setLevel(logging.CRITICAL)
    async with trio.open_nursery() as nursery:
        await nursery.start(web.run)
        await nursery.start(hypercorn_serve, web, config)
        ready(f"http://{address}:{port}/")


def run(lab: str | None, port: int, listen: str | None, ready=lambda url: None) -> None:
    web = make(lab, listen)
    try:
        trio.run(serve, web, listen or "127.0.0.1", port, ready)
    except* OSError as group:   # the port is taken, the address is not this host's
        raise LabError(f"cannot serve on {listen or '127.0.0.1'}:{port}: {_first(group)}") from None


def _first(group) -> str:
    while isinstance(group, BaseExceptionGroup):
        group = group.exceptions[0]
    return group.strerror or str(group)
