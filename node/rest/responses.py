"""The HTTP side of iControl REST answers: JSON bodies, and the answer for a URI nobody serves."""
from __future__ import annotations

import json

from starlette.responses import Response

from .errors import RestError


def json_response(data, status: int = 200) -> Response:
    return Response(json.dumps(data, separators=(",", ":")), status_code=status, media_type="application/json")


def not_registered(uri: str) -> RestError:
    return RestError(404, f"URI path {uri} not registered.  Please try again.", 1)
