"""F5's error catalogue: each class prints F5's line exactly, and REST answers by class."""
from __future__ import annotations

import pytest

from node.errors import (Busy, ConfigError, Exists, InUse, Invalid, NotFound, ShellError, SyncFailed,
                         Unauthorized, catalogued)
from node.rest.errors import answer


def test_each_class_prints_f5s_line():
    assert str(NotFound("Pool", "/Common/web")) == "01020036:3: The requested Pool (/Common/web) was not found."
    assert str(Exists("Pool", "/Common/web", " in partition Common")) == \
        "01020066:3: The requested Pool (/Common/web) already exists in partition Common."
    assert str(Exists("Pool Member", "/Common/a:80")) == "01020066:3: The requested Pool Member (/Common/a:80) already exists."
    assert str(InUse("Pool", "/Common/web", "Virtual Server", "/Common/vs")) == \
        "01070265:3: The Pool (/Common/web) cannot be deleted because it is in use by a Virtual Server (/Common/vs)."
    assert str(Invalid("pool p requires a monitor")) == "01070734:3: Configuration error: pool p requires a monitor"
    assert str(SyncFailed(detail="b2 is offline")) == "01070712:3: Caught configuration exception (0), Cannot sync: b2 is offline"
    assert str(Busy()) == "There is an active asynchronous task executing."


def test_fields_are_named_and_checked():
    err = NotFound(what="Node", name="/Common/n1")
    assert (err.what, err.name) == ("Node", "/Common/n1")
    assert isinstance(err, ConfigError)
    with pytest.raises(TypeError):
        NotFound("Node")


def test_tmsh_keeps_the_catalogue_error_it_reports():
    missing = NotFound("Pool Member", "/Common/10.0.0.1:80")
    shell = ShellError.of(missing)
    assert str(shell) == str(missing) and catalogued(shell) is missing
    assert catalogued(ShellError('Syntax Error: "colour" unknown property')) is None


def test_rest_answers_by_class():
    assert answer(NotFound("Pool", "/Common/web")).code == 404
    assert answer(Exists("Pool", "/Common/web")).code == 409
    assert answer(Invalid("x")).code == 400
    busy = answer(Busy())
    assert (busy.code, busy.api_error) == (503, 32768003)
    denied = answer(Unauthorized("Authentication failed."))
    assert (denied.code, denied.rest_kind) == (401, ":resterrorresponse")
    assert answer(ShellError('Syntax Error: "x" unknown command')).code == 400


def test_a_refused_change_is_404_only_for_the_object_the_uri_names():
    missing = NotFound("Monitor", "/Common/nosuch")
    assert answer(missing, about=("/Common/web", None)).code == 400
    assert answer(NotFound("Pool", "/Common/web"), about=("/Common/web", None)).code == 404
