"""JSON documents checked against JSON schemas (jsonschema, draft 2020-12), each error as
`JSON-pointer: text` in ajv's words, as F5's declarative extensions (AS3, DO) answer."""
from __future__ import annotations

import ipaddress

_validators: dict = {}


def f5ip(value) -> bool:
    """An address as F5's extensions take it: IPv4 or IPv6, optional %route-domain and /prefix."""
    if not isinstance(value, str):
        return True
    try:
        ipaddress.ip_address(value.split("/")[0].split("%")[0])
    except ValueError:
        return False
    return True


def _validator(name: str, schema: dict):
    if name not in _validators:
        import jsonschema   # only when a declaration arrives: a node starts without it
        checker = jsonschema.FormatChecker()
        checker.checks("f5ip")(f5ip)
        _validators[name] = jsonschema.Draft202012Validator(schema, format_checker=checker)
    return _validators[name]


def ajv_text(error) -> str:
    """jsonschema's error in ajv's words."""
    kind, value = error.validator, error.validator_value
    if kind == "required":
        missing = next((r for r in value if r not in error.instance), value[0])
        return f"should have required property '{missing}'"
    return {
        "additionalProperties": "should NOT have additional properties",
        "type": f"should be {value}",
        "enum": "should be equal to one of the allowed values",
        "minimum": f"should be >= {value}", "maximum": f"should be <= {value}",
        "minItems": f"should NOT have fewer than {value} items",
        "maxItems": f"should NOT have more than {value} items",
        "pattern": f'should match pattern "{value}"', "format": f'should match format "{value}"',
        "anyOf": "should match some schema in anyOf", "const": "should be equal to constant",
    }.get(kind, error.message)


def check(name: str, schema: dict, value, pointer: str) -> list[str]:
    """The errors of `value` against `schema` (cached under `name`), most specific first."""
    errors = sorted(_validator(name, schema).iter_errors(value),
                    key=lambda e: (-len(e.absolute_path), str(e.absolute_path)))
    return [f"{pointer}{''.join('/' + str(p) for p in e.absolute_path)}: {ajv_text(e)}" for e in errors]
