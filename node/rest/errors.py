"""iControl REST's error answers: the HTTP status of each catalogue error, in this one place.

A RestError is an answer other than success (HTTP code, F5's message, apiError). REST's own
refusals (an unknown URI, a bad body) are raised as RestError; errors from the configuration
below (node/errors.py) become one through `answer`, by class.
"""
from __future__ import annotations

from ..errors import Busy, Exists, F5Error, NotFound, Unauthorized, catalogued

# class -> (HTTP status, apiError); the first class an error is an instance of wins
STATUS: list[tuple[type[F5Error], int, int]] = [
    (Unauthorized, 401, 3),
    (Busy, 503, 32768003),
    (NotFound, 404, 3),
    (Exists, 409, 3),
]


class RestError(Exception):
    """An answer other than success: HTTP code and F5's message. `rest_kind`, if set, gives the
    body restjavad's error shape (as a 401 has)."""

    def __init__(self, code: int, message: str, api_error: int = 3, rest_kind: str | None = None):
        super().__init__(message)
        self.code, self.message, self.api_error, self.rest_kind = code, message, api_error, rest_kind

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "errorStack": [], "apiError": self.api_error}


def answer(exc: Exception, about: tuple | None = None) -> RestError:
    """The REST answer for an error from below. `about` is given when a change was refused: the
    names the URI itself names. A missing object is then 404 only if it is one of them; a missing
    object the body refers to makes the body bad (400)."""
    err = catalogued(exc)
    code, api_error = 400, 3
    for cls, status, api in STATUS:
        if isinstance(err, cls):
            code, api_error = status, api
            break
    if isinstance(err, NotFound) and about is not None and err.name not in about:
        code = 400
    return RestError(code, str(exc), api_error, ":resterrorresponse" if isinstance(err, Unauthorized) else None)


def bad_body(err: F5Error) -> RestError:
    """REST's own refusal of a body, in F5's words (apiError 1, as restjavad's own checks)."""
    return RestError(400, str(err), 1)
