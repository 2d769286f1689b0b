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
