"""The timeline as a picture (`biglab events LAB --plot F.svg`, scenario reports, the web view):
who held each traffic group over time, each device's sync status, fault windows shaded, and the
other state changes as ticks on their device's row. Drawn with matplotlib.

`segments(entries)` reads the merged timeline (observe/events.py) into intervals (sans-IO, tested
on its own); `figure(entries)` draws them.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

SYNC_COLOURS = {"In Sync": "#2e8b57", "Changes Pending": "#e0b000", "Awaiting Initial Sync": "#e0b000",
                "Disconnected": "#c0392b", "Not All Devices Synced": "#e0b000", "Sync Failure": "#c0392b"}
DEVICE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


@dataclass(frozen=True)
class Segment:
    row: str          # "traffic-group-1", "bigip1 sync"
    start: float
    end: float
    label: str        # the holder, or the status


@dataclass(frozen=True)
class Window:
    node: str
    start: float
    end: float
    text: str


def segments(entries: list[dict], end: float | None = None) -> tuple[list[Segment], list[Window]]:
    """Traffic-group holders and sync statuses as intervals, and fault windows (a fault until the
    next repair of its node), from timeline entries oldest first."""
    if not entries:
        return [], []
    end = end if end is not None else entries[-1]["ts"]
    open_: dict[str, tuple[float, str]] = {}   # row -> (since, label)
    out: list[Segment] = []
    faults: dict[str, list[tuple[float, str]]] = {}
    windows: list[Window] = []

    def change(row: str, ts: float, label: str | None) -> None:
        was = open_.pop(row, None)
        if was and was[1] == label:
            open_[row] = was
            return
        if was and ts > was[0]:
            out.append(Segment(row, was[0], ts, was[1]))
        if label is not None:
            open_[row] = (ts, label)

    for e in entries:
        kind, device = e.get("event"), e.get("device", "?")
        if kind == "failover" and e.get("tg"):
            if e.get("state") == "active":
                change(e["tg"], e["ts"], device)
            elif open_.get(e["tg"], (0, None))[1] == device:
                change(e["tg"], e["ts"], None)
        elif kind == "sync-status" and e.get("status"):
            change(f"{device} sync", e["ts"], e["status"])
        elif kind == "fault":
            faults.setdefault(e.get("node", "?"), []).append((e["ts"], e.get("msg", "")))
            if e.get("msg", "").split()[:1] in (["kill"], ["stop"]):   # a dead device holds nothing
                for row in [r for r, (_, label) in open_.items() if label == e.get("node") and " sync" not in r]:
                    change(row, e["ts"], None)
        elif kind == "repair" and faults.get(e.get("node", "?")):
            for start, text in faults.pop(e.get("node", "?")):
                windows.append(Window(e.get("node", "?"), start, e["ts"], text))
    for row, (since, label) in open_.items():
        out.append(Segment(row, since, max(end, since), label))
    windows += [Window(node, start, max(end, start), text) for node, fs in faults.items() for start, text in fs]
    return out, sorted(windows, key=lambda w: w.start)


def figure(entries: list[dict], title: str = ""):
    """A matplotlib Figure of the timeline (not attached to pyplot: safe in threads, no display)."""
    from matplotlib.figure import Figure
    segs, windows = segments(entries)
    t0 = entries[0]["ts"] if entries else 0.0
    groups = sorted({s.row for s in segs if not s.row.endswith(" sync")})
    devices = sorted({e.get("device") for e in entries if e.get("device") and e.get("device") != "chaos"})
    synced = {s.row for s in segs}
    rows = groups + [f"{d} sync" for d in devices if f"{d} sync" in synced] + devices
    colour = {d: DEVICE_COLOURS[i % len(DEVICE_COLOURS)] for i, d in enumerate(devices)}
    fig = Figure(figsize=(12, 1.2 + 0.45 * len(rows)))
    ax = fig.add_subplot()
    y = {row: len(rows) - 1 - i for i, row in enumerate(rows)}
    span = max((entries[-1]["ts"] - t0) if entries else 1.0, 1.0)
    for s in segs:
        if s.row not in y:
            continue
        fill = colour.get(s.label) if s.row in groups else SYNC_COLOURS.get(s.label, "#999999")
        ax.broken_barh([(s.start - t0, max(s.end - s.start, 0.01))], (y[s.row] - 0.35, 0.7),
                       facecolors=fill, edgecolor="none")
        if s.end - s.start >= span / 25:   # a label that fits its bar
            ax.text(s.start - t0, y[s.row], f" {s.label}", va="center", fontsize=7, color="white", clip_on=True)
    for w in windows:
        ax.axvspan(w.start - t0, w.end - t0, color="#c0392b", alpha=0.12)
        ax.text(w.start - t0, len(rows) - 0.45, f" {w.text}", fontsize=7, color="#c0392b", va="bottom")
    ticks = [e for e in entries if e.get("device") in y and e.get("event") not in ("sync-status",)]
    ax.scatter([e["ts"] - t0 for e in ticks], [y[e["device"]] for e in ticks], marker="|", s=80,
               c=[colour.get(e["device"], "#333333") for e in ticks])
    ax.set_yticks(list(y.values()), list(y.keys()), fontsize=8)
    ax.set_ylim(-0.8, len(rows) + 0.2)
    start = dt.datetime.fromtimestamp(t0, dt.timezone.utc).strftime("%H:%M:%S UTC") if entries else ""
    ax.set_xlabel(f"seconds since {start}")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or "timeline", fontsize=10)
    fig.tight_layout()
    return fig


def render(entries: list[dict], fmt: str = "svg", title: str = "") -> bytes:
    import matplotlib
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):   # text stays text: searchable, smaller
        figure(entries, title).savefig(buf, format=fmt)
    return buf.getvalue()


def plot(entries: list[dict], path: str, title: str = "") -> None:
    """Write the picture to `path`; the format is its suffix (svg, png, pdf)."""
    fmt = path.rsplit(".", 1)[-1].lower() if "." in path else "svg"
    with open(path, "wb") as f:
        f.write(render(entries, fmt, title))
