"""`biglab web`: the lab in a browser (Starlette on anyio, served by Hypercorn's trio worker, as the
nodes' iControl REST is).

Pages (each a Jinja2 template; their live parts are fragments re-fetched when the lab's feed
says something changed, over server-sent events):
  /lab/L/            Topology: the Graphviz picture and every node's state
  /lab/L/node/N      Node: HA, sync, traffic groups, virtuals and members, GTM, the recent log
  /lab/L/gtm         GTM: each wide IP as each client network is answered now, and why
  /lab/L/timeline    Timeline: the matplotlib picture and the events, filtered by node and kind
  /lab/L/faults      Faults: inject and repair from the fault registry; run a shipped scenario
Bound to 127.0.0.1 unless --listen; then every request needs the lab's admin credentials.
"""
from __future__ import annotations

import base64
import secrets
import shlex
from pathlib import Path

import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from .. import faults as fault_registry
from ..model import state
from ..model.errors import LabError
from ..model.faultspec import ChaosError
from ..observe import plot
from ..observe.events import render as render_event, timeline
from ..runtime.control import ControlError
from ..runtime.lab import Lab
from ..scenario.env import run_file
from ..scenario.runner import ScenarioError, load as load_scenario
from . import gtm
from .feed import Feed
from .view import STATE_COLOURS, SYNC_COLOURS, dot

HERE = Path(__file__).parent
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
KEEPALIVE = 15.0


class Web:
    def __init__(self, only: str | None = None, credentials: dict | None = None):
        self.only = only                   # the one lab this server shows, if named
        self.credentials = credentials     # {"username", "password"} required (--listen), or None
        self.feeds: dict[str, Feed] = {}
        self.svgs: dict[str, tuple[int, bytes]] = {}
        self.nursery: trio.Nursery | None = None
        self.running: dict[str, str] = {}  # lab -> the scenario running from its Faults page
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals.update(state_colours=STATE_COLOURS, sync_colours=SYNC_COLOURS)
        self.templates.env.filters["event"] = render_event
        routes = [Route("/", self.index),
                  Route("/lab/{lab}/", self.topology), Route("/lab/{lab}/topology.svg", self.topology_svg),
                  Route("/lab/{lab}/node/{node}", self.node), Route("/lab/{lab}/gtm", self.gtm),
                  Route("/lab/{lab}/timeline", self.timeline), Route("/lab/{lab}/timeline.svg", self.timeline_svg),
                  Route("/lab/{lab}/faults", self.faults),
                  Route("/lab/{lab}/fault", self.inject, methods=["POST"]),
                  Route("/lab/{lab}/scenario", self.scenario, methods=["POST"]),
                  Route("/lab/{lab}/fragment/{name}", self.fragment),
                  Route("/lab/{lab}/fragment/{name}/{node}", self.fragment),
                  Route("/lab/{lab}/events", self.events)]
        self.app = Starlette(routes=routes, exception_handlers={404: self.not_found, LabError: self.lab_error})

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.credentials and not self._authorized(scope):
            await Response("the lab's admin credentials are needed", 401,
                           {"WWW-Authenticate": 'Basic realm="biglab"'})(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope) -> bool:
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode(errors="replace")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.credentials["username"]) and \
            secrets.compare_digest(password, self.credentials["password"])

    # -- feeds ------------------------------------------------------------------------------------
    async def feed(self, lab: str) -> Feed:
        """The lab's feed, started on first use; LabError (a clear page) for a lab that is not up."""
        if self.only and lab != self.only:
            raise LabError(f"this server shows lab {self.only!r}, not {lab!r}")
        feed = self.feeds.get(lab)
        if feed is None:
            feed = Feed(await trio.to_thread.run_sync(Lab.open, lab))
            self.feeds[lab] = feed
            await self.nursery.start(feed.run)
        while feed.view is None:
            await feed.changed()
        return feed

    def page(self, request: Request, template: str, code: int = 200, **context) -> HTMLResponse:
        return self.templates.TemplateResponse(request, template, {"only": self.only, **context},
                                               status_code=code)

    # -- errors as pages ----------------------------------------------------------------------------
    async def not_found(self, request: Request, exc) -> HTMLResponse:
        return self.page(request, "error.html", 404, title="Not found",
                         message=getattr(exc, "detail", None) or f"nothing at {request.url.path}")

    async def lab_error(self, request: Request, exc: LabError) -> HTMLResponse:
        return self.page(request, "error.html", 404, title="Not found", message=str(exc))

    # -- pages --------------------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        if self.only:
            return RedirectResponse(f"/lab/{self.only}/")
        return self.page(request, "labs.html", labs=state.labs())

    async def topology(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        return self.page(request, "topology.html", lab=feed.lab.name, view=feed.view, active="topology")

    async def topology_svg(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        return Response(await self._svg(feed), media_type="image/svg+xml")

    async def _svg(self, feed: Feed) -> bytes:
        seq, svg = self.svgs.get(feed.lab.name, (-1, b""))
        if seq != feed.seq:
            seq, view = feed.seq, feed.view
            svg = await trio.to_thread.run_sync(lambda: dot(view).pipe(format="svg"))
            self.svgs[feed.lab.name] = (seq, svg)
        return svg

    async def node(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        name = request.path_params["node"]
        feed.lab.node(name)   # LabError naming the lab's nodes
        return self.page(request, "node.html", lab=feed.lab.name, node=name, view=feed.view, active="node")

    async def gtm(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        return self.page(request, "gtm.html", lab=feed.lab.name, view=feed.view, active="gtm")

    async def timeline(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        return self.page(request, "timeline.html", lab=feed.lab.name, view=feed.view, active="timeline",
                         query=request.url.query, node=request.query_params.get("node", ""),
                         kind=request.query_params.get("kind", ""))

    def _events(self, lab: str, request: Request) -> list[dict]:
        node, kind = request.query_params.get("node"), request.query_params.get("kind")
        entries = timeline(lab)
        return [e for e in entries if (not node or e.get("device") in (node, "chaos") and
                                       (e.get("device") != "chaos" or e.get("node") == node))
                and (not kind or e.get("event") == kind)]

    async def timeline_svg(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        entries = await trio.to_thread.run_sync(self._events, feed.lab.name, request)
        svg = await trio.to_thread.run_sync(lambda: plot.render(entries, "svg", title=f"lab {feed.lab.name}"))
        return Response(svg, media_type="image/svg+xml")

    async def faults(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        return self.page(request, "faults.html", lab=feed.lab.name, view=feed.view, active="faults",
                         usage=[u for f in fault_registry.REGISTRY for u in f.usage], verbs=fault_registry.verbs(),
                         scenarios=self._scenarios(feed.lab))

    def _scenarios(self, lab: Lab) -> list[str]:
        """The shipped scenarios written for this lab's topology."""
        mine = Path(lab.plan.source).name
        out = []
        for path in sorted(SCENARIOS.glob("*.yml")):
            try:
                s = load_scenario(path)
            except ScenarioError:
                continue
            if s.topology and Path(s.topology).name == mine:
                out.append(path.name)
        return out

    # -- actions ------------------------------------------------------------------------------------
    async def inject(self, request: Request) -> Response:
        """One chaos verb with its arguments, as `biglab chaos LAB VERB ARGS` takes them: the
        registry's message, or its error (400)."""
        feed = await self.feed(request.path_params["lab"])
        form = await request.form()
        verb = str(form.get("verb", ""))
        try:
            words = shlex.split(str(form.get("args", "")))
            message = await trio.to_thread.run_sync(fault_registry.run, feed.lab, verb, words)
        except ValueError as exc:   # shlex: an unclosed quote
            return JSONResponse({"ok": False, "error": f"chaos {verb}: {exc}"}, 400)
        except (ChaosError, LabError, ControlError) as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, 400)
        await feed.refresh()
        return JSONResponse({"ok": True, "message": message})

    async def scenario(self, request: Request) -> Response:
        """Run a shipped scenario in this lab; its lines reach every page as it goes."""
        feed = await self.feed(request.path_params["lab"])
        name = str((await request.form()).get("file", ""))
        if name not in self._scenarios(feed.lab):
            return JSONResponse({"ok": False, "error": f"no scenario {name!r} for this lab's topology "
                                 f"(scenarios: {', '.join(self._scenarios(feed.lab)) or 'none'})"}, 400)
        if feed.lab.name in self.running:
            return JSONResponse({"ok": False, "error": f"scenario {self.running[feed.lab.name]} is running"}, 409)
        self.running[feed.lab.name] = name
        feed.messages.clear()
        self.nursery.start_soon(self._run_scenario, feed, name)
        return JSONResponse({"ok": True, "message": f"scenario {name} started"}, 202)

    async def _run_scenario(self, feed: Feed, name: str) -> None:
        try:
            report = await trio.to_thread.run_sync(
                lambda: run_file(SCENARIOS / name, lab=feed.lab.name, say=feed.say))
            feed.say(report["text"])
        except (ScenarioError, LabError, ChaosError, ControlError) as exc:
            feed.say(f"scenario {name}: {exc}")
        finally:
            self.running.pop(feed.lab.name, None)

    # -- live parts ---------------------------------------------------------------------------------
    async def fragment(self, request: Request) -> Response:
        feed = await self.feed(request.path_params["lab"])
        name, node = request.path_params["name"], request.path_params.get("node")
        context = {"lab": feed.lab.name, "view": feed.view, "seq": feed.seq}
        if name == "nodes":
            return self.page(request, "_nodes.html", **context)
        if name == "node" and node:
            feed.lab.node(node)
            status = feed.statuses.get(node)
            wideips = await trio.to_thread.run_sync(gtm.wideips, feed.lab, node) \
                if getattr(status, "gtm", None) is not None else []
            return self.page(request, "_node.html", node=node, status=status, wideips=wideips,
                             log=await trio.to_thread.run_sync(feed.recent_log, node), **context)
        if name == "gtm":
            answers = await trio.to_thread.run_sync(gtm.answers, feed.lab, feed.statuses)
            return self.page(request, "_gtm.html", gtm=answers, **context)
        if name == "events":
            return self.page(request, "_events.html", entries=self._events(feed.lab.name, request)[-200:], **context)
        if name == "faults":
            return self.page(request, "_faults.html", running=self.running.get(feed.lab.name),
                             messages=feed.messages, **context)
        return await self.not_found(request, None)

    async def events(self, request: Request) -> Response:
        """Server-sent events: `change` with the view's sequence number when the lab changed."""
        feed = await self.feed(request.path_params["lab"])

        async def stream():
            seq, said = feed.seq, len(feed.messages)
            yield f"retry: 1000\nevent: change\ndata: {seq}\n\n"
            while True:
                with trio.move_on_after(KEEPALIVE) as waited:
                    await feed.changed()
                if waited.cancelled_caught:
                    yield ": keepalive\n\n"
                    continue
                if feed.seq != seq or len(feed.messages) != said:
                    seq, said = feed.seq, len(feed.messages)
                    yield f"event: change\ndata: {seq}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            task_status.started()
            await trio.sleep_forever()
