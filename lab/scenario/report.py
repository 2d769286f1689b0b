"""`biglab scenario run F --report F.html`: the run as one page: each step with its result and
time, how long the lab took to settle after each fault, and the timeline picture of the run
(observe/plot.py: who held each traffic group, fault windows, sync) inline as SVG."""
from __future__ import annotations

import datetime as dt

from jinja2 import Environment, select_autoescape

from ..observe import plot

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scenario {{ r.scenario }}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:16px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 12px 3px 0;text-align:left}
.PASS{color:#2e8b57;font-weight:bold}.FAIL{color:#c0392b;font-weight:bold}svg{max-width:100%;height:auto}</style></head>
<body>
<h2>scenario {{ r.scenario }}: <span class="{{ 'PASS' if r.passed else 'FAIL' }}">{{ 'PASS' if r.passed else 'FAIL' }}</span></h2>
<p>lab {{ lab }}, {{ when }}</p>
<table id="steps"><tr><th></th><th>step</th><th>time</th><th>detail</th></tr>
{% for s in r.steps %}<tr><td class="{{ 'PASS' if s.ok else 'FAIL' }}">{{ 'PASS' if s.ok else 'FAIL' }}</td><td>{{ s.step }}</td>
<td>{% if s.step.startswith('expect') %}{{ '%.2f' % s.elapsed_s }} s{% if s.since %} after {{ s.since }}{% endif %}{% endif %}</td><td>{{ s.detail }}</td></tr>
{% endfor %}</table>
{% if r.timings %}<h3>Settled after each fault or repair</h3><table id="timings">
{% for t in r.timings %}<tr><td>{{ t.after }}</td><td>{{ t.settled_s }} s</td></tr>{% endfor %}</table>{% endif %}
{% if r.cleanup %}<p>repaired afterwards: {{ r.cleanup | join('; ') }}</p>{% endif %}
<h3>Timeline</h3>
{{ svg | safe }}
</body></html>
"""


def html(report: dict, lab: str, entries: list[dict]) -> str:
    svg = plot.render(entries, "svg", title=f"scenario {report['scenario']}").decode()
    svg = svg[svg.index("<svg"):]   # inline: without the XML prolog
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(PAGE).render(r=report, lab=lab, svg=svg, when=when)
