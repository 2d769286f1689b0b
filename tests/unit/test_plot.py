"""The timeline picture's data: traffic-group holders, sync statuses and fault windows as
intervals; and the picture itself is an SVG that names them."""
from lab.observe.plot import Segment, Window, render, segments


def ev(ts, device, event, **fields):
    return {"ts": ts, "device": device, "event": event, "msg": fields.pop("msg", event), **fields}


ENTRIES = [
    ev(0.0, "bigip1", "failover", tg="traffic-group-1", state="active"),
    ev(0.1, "bigip1", "sync-status", status="In Sync"),
    ev(10.0, "chaos", "fault", node="bigip1", msg="kill bigip1"),
    ev(10.2, "bigip2", "sync-status", status="Disconnected"),
    ev(13.0, "bigip2", "failover", tg="traffic-group-1", state="active"),
    ev(20.0, "chaos", "repair", node="bigip1", msg="start bigip1"),
    ev(21.0, "bigip2", "sync-status", status="In Sync"),
    ev(22.0, "bigip2", "channel-up"),
]


def test_a_killed_device_holds_nothing_until_the_other_goes_active_and_the_fault_window_ends_at_its_repair():
    segs, windows = segments(ENTRIES)
    held = [(s.label, s.start, s.end) for s in segs if s.row == "traffic-group-1"]
    assert held == [("bigip1", 0.0, 10.0), ("bigip2", 13.0, 22.0)]   # nobody between the kill and the takeover
    assert Segment("bigip2 sync", 10.2, 21.0, "Disconnected") in segs
    assert windows == [Window("bigip1", 10.0, 20.0, "kill bigip1")]


def test_a_group_given_up_without_a_successor_is_held_by_nobody():
    segs, _ = segments([ev(0.0, "b1", "failover", tg="tg", state="active"),
                        ev(5.0, "b1", "failover", tg="tg", state="standby"), ev(9.0, "b2", "ready")])
    assert [(s.label, s.start, s.end) for s in segs if s.row == "tg"] == [("b1", 0.0, 5.0)]


def test_a_fault_never_repaired_lasts_to_the_end():
    _, windows = segments(ENTRIES[:5])
    assert windows == [Window("bigip1", 10.0, 13.0, "kill bigip1")]


def test_the_picture_is_svg_with_the_rows():
    svg = render(ENTRIES, "svg", title="lab t").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "traffic-group-1" in svg and "bigip2 sync" in svg and "kill bigip1" in svg


def test_the_scenario_report_is_one_page_with_steps_and_the_picture():
    from lab.scenario.report import html
    report = {"scenario": "kill <active>", "passed": False, "cleanup": ["start bigip1"],
              "timings": [{"after": "fault kill bigip1", "step": 2, "settled_s": 3.0}],
              "steps": [{"step": "fault kill bigip1", "ok": True, "elapsed_s": 0.1, "detail": "", "since": ""},
                        {"step": "expect failover", "ok": False, "elapsed_s": 5.0, "detail": "standby", "since": "x"}]}
    page = html(report, "t", ENTRIES)
    assert "scenario kill &lt;active&gt;" in page and page.count('class="FAIL"') == 2   # the title and the step
    assert "<svg" in page and "<?xml" not in page and "start bigip1" in page
