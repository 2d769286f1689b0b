"""iControl REST query options: $select, $filter, $top/$skip (with nextLink), expandSubcollections."""
from __future__ import annotations

import re
from dataclasses import dataclass
from .errors import RestError
from .resources import VERSION

FILTER_TERM = re.compile(r"^\s*([A-Za-z][A-Za-z0-9.]*)\s+eq\s+'?([^']*?)'?\s*$")


@dataclass
class Query:
    select: list[str] | None = None
    filter: list[tuple[str, str]] | None = None
    top: int | None = None
    skip: int = 0
    expand: bool = False

    @classmethod
    def parse(cls, params) -> "Query":
        q = cls()
        if params.get("$select"):
            q.select = [s.strip() for s in params["$select"].split(",") if s.strip()]
        if params.get("$filter"):
            q.filter = []
            for term in re.split(r"\s+and\s+", params["$filter"]):
                m = FILTER_TERM.match(term)
                if not m:
                    raise RestError(400, f"Query parameter $filter: unsupported expression {term!r} "
                                         "(the lab takes PROPERTY eq VALUE [and ...])", 1)
                q.filter.append((m.group(1), m.group(2)))
        for name in ("$top", "$skip"):
            if params.get(name) is not None:
                value = params[name]
                if not value.isdigit():
                    raise RestError(400, f"Query parameter {name} must be a whole number, not {value!r}", 1)
                setattr(q, name[1:], int(value))
        q.expand = params.get("expandSubcollections", "").lower() == "true"
        return q

    def apply(self, data: dict, route=None) -> dict:
        collection = route is not None and (route.path is None or (route.sub and route.member is None))
        if collection and "items" in data:
            items = data["items"]
            if self.filter:
                items = [i for i in items if all(str(i.get(k)) == v for k, v in self.filter)]
            total = len(items)
            if self.top is not None or self.skip:
                top = self.top if self.top is not None else total
                page = items[self.skip:self.skip + top]
                base = data["selfLink"].split("?")[0]
                data = {**data, "currentItemCount": len(page), "itemsPerPage": top,
                        "pageIndex": (self.skip // top + 1) if top else 1, "startIndex": self.skip + 1,
                        "totalItems": total, "totalPages": -(-total // top) if top else 1}
                if self.skip + top < total:
                    data["nextLink"] = _page(base, top, self.skip + top)
                if self.skip > 0:
                    data["previousLink"] = _page(base, top, max(0, self.skip - top))
                items = page
            data = {**data, "items": [self._select(i) for i in items]}
            return data
        return self._select(data)

    def _select(self, item: dict) -> dict:
        if not self.select:
            return item
        return {k: item[k] for k in self.select if k in item}


def _page(base: str, top: int, skip: int) -> str:
    return f"{base}?$top={top}&$skip={skip}&ver={VERSION}"
