"""tmsh's `show` tables: a rule, a title, a rule, then aligned name/value rows."""
from __future__ import annotations

RULE = "-" * 64


def table(title: str, rows: list[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    lines = [RULE, title, RULE]
    for k, v in rows:
        for i, part in enumerate(str(v).split("\n")):
            lines.append(f"{k if i == 0 else '':<{width}}  {part}")
    return "\n".join(lines)


def columns(title: str, heads: tuple[str, ...], rows: list[tuple]) -> str:
    """A table with a header line and a column per field, as `show cm traffic-group` prints."""
    widths = [max([len(h)] + [len(str(r[i])) for r in rows]) for i, h in enumerate(heads)]
    line = lambda cells: "  ".join(f"{str(c):<{w}}" for c, w in zip(cells, widths)).rstrip()
    rule = "-" * max(len(RULE), sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([rule, title, line(heads), rule] + [line(r) for r in rows])
