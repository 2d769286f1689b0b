"""HTTPS for iControl REST: Hypercorn's trio worker on the management address, port 443.

The certificate is the device's identity certificate (dtdi) from the trust domain's PKI, the one
4353 uses; when trust changes it (a join re-signs it), new connections get the new one.

We run Hypercorn's per-connection server on our own listeners (rather than its `serve`) so that a
connection whose client has gone (EOF, close_notify) is released at once, not when the
keep-alive timeout ends: Hypercorn's idle timer otherwise holds the closed socket in CLOSE-WAIT for
60 s, and a flood of sessions opened and closed before any request piles up in memory.
"""
from __future__ import annotations

import logging
import ssl
from functools import partial

import trio
from hypercorn.config import Config
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState
from hypercorn.utils import wrap_app

from ..tls import TLS12_CIPHERS

RELOAD_EVERY = 2.0


class _Config(Config):
    """Hypercorn takes certificate files; we hand it a context we can reload in place."""

    def __init__(self, context: ssl.SSLContext):
        super().__init__()
        self._context = context

    @property
    def ssl_enabled(self) -> bool:
        return True

    def create_ssl_context(self) -> ssl.SSLContext:
        return self._context


class _Connection(TCPServer):
    """One HTTPS connection; when the client's side ends, its idle timer ends with it."""

    async def _read_data(self) -> None:
        await super()._read_data()
        await self.idle_task.stop()


class RestServer:
    def __init__(self, app, address: str, port: int, cert_dir, log):
        self.app, self.address, self.port, self.log = app, address, port, log
        self.cert, self.key = cert_dir / "dtdi.crt", cert_dir / "dtdi.key"
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.set_ciphers(TLS12_CIPHERS)
        self.context.set_alpn_protocols(["http/1.1"])
        self._loaded = None
        self._reload()

    def _reload(self) -> None:
        stamp = (self.cert.stat().st_mtime_ns, self.key.stat().st_mtime_ns)
        if stamp != self._loaded:
            self.context.load_cert_chain(self.cert, self.key)
            self._loaded = stamp

    async def _watch(self) -> None:
        while True:
            await trio.sleep(RELOAD_EVERY)
            try:
                self._reload()
            except (OSError, ssl.SSLError) as exc:  # mid-rewrite: try again next round
                self.log.log("warning", "restjavad", f"HTTPS certificate not reloaded: {exc}")

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        config = _Config(self.context)
        config.accesslog = None
        config.errorlog = logging.getLogger("hypercorn.error")
        config.errorlog.setLevel(logging.CRITICAL)
        config.keep_alive_timeout = 60
        config.h11_max_incomplete_size = 64 * 1024
        listeners = [trio.SSLListener(listener, self.context, https_compatible=True)
                     for listener in await trio.open_tcp_listeners(self.port, host=self.address,
                                                                   backlog=config.backlog)]
        self.port = listeners[0].transport_listener.socket.getsockname()[1]   # port 0: the one bound
        connection = partial(_Connection, wrap_app(self.app, config.wsgi_max_body_size, "asgi"), config,
                             WorkerContext(None), ConnectionState({}))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._watch)
            nursery.start_soon(trio.serve_listeners, connection, listeners)
            self.log.log("notice", "restjavad", f"iControl REST listening on https://{self.address}:{self.port}",
                         event="rest-ready")
            task_status.started()
