"""iControl REST transactions: /mgmt/tm/transaction. Writes sent with X-F5-REST-Coordination-Id
are queued, then committed as one commit (all or nothing) by PATCH {"state": "VALIDATING"}."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from starlette.responses import Response

from ..config.store import ConfigStore
from ..errors import ConfigError
from . import resources as res
from .auth import Auth
from .errors import RestError
from .resources import link
from .responses import json_response, not_registered

TRANSACTION_TIMEOUT = 30


@dataclass
class Transaction:
    id: int
    touched: float
    user: str = ""           # who opened it: only they (or an admin) see and use it
    state: str = "STARTED"
    commands: list = field(default_factory=list)   # (method, uri, body, Op)
    failure: str = ""

    def to_rest(self) -> dict:
        return {"transId": self.id, "state": self.state, "timeoutSeconds": TRANSACTION_TIMEOUT,
                "asyncExecution": False, "validateOnly": False, "executionTimeout": 300, "executionTime": 0,
                "failureReason": self.failure, "kind": "tm:transactionstate",
                "selfLink": link(f"/mgmt/tm/transaction/{self.id}")}

    def command_to_rest(self, order: int) -> dict:
        method, uri, body, _ = self.commands[order - 1]
        return {"transId": self.id, "evalOrder": order, "commandId": order, "method": method,
                "uri": f"https://localhost{uri}", "body": body, "kind": "tm:transaction:commandsstate",
                "selfLink": link(f"/mgmt/tm/transaction/{self.id}/commands/{order}")}


class Transactions:
    """The open transactions. A transaction not touched for TRANSACTION_TIMEOUT s is dropped."""

    def __init__(self, store: ConfigStore, auth: Auth, commit: Callable,
                 monotonic: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time):
        self.store, self.auth, self.commit = store, auth, commit
        self.monotonic, self.wall = monotonic, wall
        self.open: dict[int, Transaction] = {}

    def _mine(self, t: Transaction, user: str) -> bool:
        return t.user == user or self.auth.role(user) == "admin"

    def _get(self, ident: str, user: str) -> Transaction:
        self._expire()
        t = self.open.get(int(ident)) if ident.isdigit() else None
        if t is None or not self._mine(t, user):
            raise RestError(404, f"Transaction {ident} was not found.", 1)
        return t

    def _expire(self) -> None:
        now = self.monotonic()
        for k, t in list(self.open.items()):
            if t.state == "STARTED" and now - t.touched > TRANSACTION_TIMEOUT:
                del self.open[k]

    def handle(self, rest: list[str], method: str, user: str, body, uri: str) -> Response:
        """/mgmt/tm/transaction[/ID[/commands]]"""
        if not rest:
            return self._collection(method, user)
        t = self._get(rest[0], user)
        if rest[1:] == ["commands"] and method == "GET":
            return json_response({"kind": "tm:transaction:commandscollectionstate",
                                  "selfLink": link(f"/mgmt/tm/transaction/{t.id}/commands"),
                                  "items": [t.command_to_rest(i) for i in range(1, len(t.commands) + 1)]})
        if len(rest) != 1:
            raise not_registered(uri)
        if method == "GET":
            return json_response(t.to_rest())
        if method == "DELETE":
            del self.open[t.id]
            return Response(status_code=200)
        return self._commit(t, method, body)

    def _collection(self, method: str, user: str) -> Response:
        self._expire()
        if method == "POST":
            ident = int(self.wall() * 1000)
            while ident in self.open:
                ident += 1
            t = self.open[ident] = Transaction(ident, self.monotonic(), user)
            return json_response(t.to_rest())
        if method == "GET":
            return json_response({"kind": "tm:transactioncollectionstate", "selfLink": link("/mgmt/tm/transaction"),
                                  "items": [t.to_rest() for t in self.open.values() if self._mine(t, user)]})
        raise RestError(405, f"{method} is not allowed on /mgmt/tm/transaction", 1)

    def _commit(self, t: Transaction, method: str, body) -> Response:
        if method != "PATCH" or not isinstance(body, dict) or body.get("state") != "VALIDATING":
            raise RestError(400, 'commit a transaction with PATCH {"state": "VALIDATING"}', 1)
        if t.state != "STARTED":
            raise RestError(400, f"transaction {t.id} is {t.state}, not STARTED", 1)
        if not t.commands:
            raise RestError(404, "there is no command to commit in the transaction.", 1)
        ops = [c[3] for c in t.commands]
        if body.get("validateOnly") is True:
            try:
                self.store.validate(ops)
            except ConfigError as exc:
                raise RestError(400, f"transaction failed:{exc}") from None
            return json_response({**t.to_rest(), "validateOnly": True})
        try:
            self.commit(ops)
        except RestError as exc:
            if exc.code == 503:
                raise
            t.state, t.failure = "FAILED", exc.message
            raise RestError(exc.code if exc.code != 409 else 400, f"transaction failed:{exc.message}") from None
        t.state = "COMPLETED"
        out = t.to_rest()
        del self.open[t.id]
        return json_response(out)

    def queue(self, trans: str, method: str, uri: str, tm: list[str], body, user: str) -> Response:
        """A write sent with X-F5-REST-Coordination-Id: checked and queued, not applied."""
        t = self._get(trans, user)
        if t.state != "STARTED":
            raise RestError(400, f"transaction {t.id} is {t.state}, not STARTED", 1)
        r = res.route(tm)
        if r is None:
            raise RestError(400, f"{uri} cannot be part of a transaction in the lab (configuration objects only)", 1)
        op = res.op_for(method, r, body)
        self.auth.authorize_change(user, method, uri, op)
        t.commands.append((method, uri, body, op))
        t.touched = self.monotonic()
        return json_response(t.command_to_rest(len(t.commands)))
