"""iControl REST JSON bodies to operations (node/rest/resources.py) and into a real store: the body
is an Op or a declared error (RestError, a catalogue error), and a change the store refuses
(ConfigError) changes nothing; nothing else. The first byte picks the object type and method."""
import copy
import json

import atheris

from common import main, text

with atheris.instrument_imports(include=["node"]):
    from node.config.schema import SINGLETONS, TYPES, ConfigError
    from node.config.store import ConfigStore
    from node.errors import F5Error
    from node.rest import resources as res
    from node.rest.errors import RestError

OBJECT_TYPES = sorted(t for t in TYPES if t not in SINGLETONS)
SEEDS = [bytes([OBJECT_TYPES.index(type_), method]) + json.dumps(body).encode() for type_, method, body in (
    ("ltm pool", 0, {"name": "web", "monitor": "/Common/http", "members": [{"name": "10.1.20.21:80"}]}),
    ("ltm virtual", 0, {"name": "vs", "destination": "/Common/10.1.10.100:80", "profiles": [{"name": "http"}]}),
    ("ltm node", 2, {"address": "10.1.20.21", "description": "x"}),
    ("gtm wideip a", 0, {"name": "www.example.com", "pools": [{"name": "p1", "order": 0}]}),
)]


def one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    type_ = OBJECT_TYPES[data[0] % len(OBJECT_TYPES)]
    method = ("POST", "PUT", "PATCH")[data[1] % 3]
    try:
        body = json.loads(text(data[2:]))
    except ValueError:
        return   # not JSON: the REST server answers 400 before any route
    segments = type_.split()
    if method != "POST":
        segments = segments + ["~Common~x"]
    store = ConfigStore(None, "bigip1")
    try:
        op = res.op_for(method, res.route(segments), body)
    except (RestError, F5Error):
        return
    before = (copy.deepcopy(store.objects), store.cid)
    try:
        store.commit([op])
    except (ConfigError, F5Error):
        assert (store.objects, store.cid) == before, "a refused change changed nothing"


if __name__ == "__main__":
    main(one_input, SEEDS)
