"""tmsh lines and ZoneRunner records, property-based: only the declared errors (TmshSyntaxError,
ZoneError), and a parsed tmsh command printed and parsed again is the same command."""
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from node.config.schema import TERM_KINDS, TYPES
from node.config.tmsh import LIST_VERBS, Command, Quoted, TmshSyntaxError, _word, parse, tokenize
from node.config.zones import Zone, ZoneError, load

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.filter_too_much])

# -- tmsh ---------------------------------------------------------------------------------------
FIELDS = sorted({f.name for t in TYPES.values() for f in t.fields} | {"members", "address", "session", "ratio"})
WORD = st.sampled_from(["web", "p1", "10.1.20.21:80", "10.1.20.21", "/Common/p", "enabled", "disabled", "none",
                        "ldns:", "server:", "not", "subnet", "10.0.0.0/8", "region", "pool", "datacenter", "a",
                        "all-properties", "one-line", "0", "65536", "-1", "user-disabled", "round-robin",
                        "tcp", "http", "yes", "{", "}", '"', "\\", "tmsh"] + FIELDS + list(LIST_VERBS)
                       + [" ".join(k.split()[:2]) for k in TYPES]) | st.text(min_size=1, max_size=6)
SOUP = st.lists(WORD | st.sampled_from(["create", "modify", "delete", "list", "show", "run"]), max_size=20)


def text_word(draw) -> str:
    """A value as a user types it: a plain word or a quoted text with spaces, braces, quotes."""
    return draw(st.sampled_from(["web", "p1", "10.1.20.21:80", "10.1.1.5", "enabled", "user-disabled", "1"])
                | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=10))


@st.composite
def command_lines(draw) -> str:
    """create/modify lines built from the schema: each field with a value of its kind (not always a
    valid one: values are checked at commit, the parser only reads the shape)."""
    type_ = draw(st.sampled_from(sorted(TYPES)))
    t = TYPES[type_]
    if type_ == "gtm topology":
        term = st.tuples(st.sampled_from(["", "not "]), st.sampled_from(TERM_KINDS),
                         st.sampled_from(["10.1.0.0/16", "R1", "/Common/P2", "nyc", "US"]))
        src, dst = draw(term), draw(term)
        name = f"ldns: {src[0]}{src[1]} {src[2]} server: {dst[0]}{dst[1]} {dst[2]}"
    elif type_ == "gtm global-settings":
        name = ""
    else:
        name = _word(draw(st.sampled_from(["web", "p1", "/Common/x", "a b", "10.1.1.5"])))
    words = []
    for f in draw(st.lists(st.sampled_from(t.fields), max_size=5, unique_by=lambda f: f.name)):
        if f.name == "last-resort-pool":
            continue   # `last-resort-pool a P3`: F5's own type word makes a pool named "a" ambiguous
        if t.flag_field == f.name and draw(st.booleans()):
            words.append(draw(st.sampled_from(t.flags)))
        elif f.kind in ("members", "items"):
            items = draw(st.lists(st.tuples(st.sampled_from(["10.1.20.21:80", "s1:vs", "web1", "/Common/p"]),
                                            st.lists(st.tuples(st.sampled_from(["ratio", "order", "session",
                                                                                "description"]),
                                                               st.builds(_word, st.text(max_size=6))),
                                                     max_size=2)), max_size=3, unique_by=lambda i: i[0]))
            body = " ".join(f"{n} {{ {' '.join(f'{k} {v}' for k, v in props)} }}" if props else n
                            for n, props in items)
            words.append(f"{f.name} {draw(st.sampled_from(LIST_VERBS))} {{ {body} }}" if items
                         else f"{f.name} none")
        elif f.kind == "terms":
            terms = draw(st.lists(st.sampled_from(["subnet 10.1.0.0/16", "not subnet 10.1.2.0/24", "region R",
                                                   "country US", "not pool P"]), max_size=3))
            words.append(f"{f.name} {draw(st.sampled_from(LIST_VERBS))} {{ {' '.join(terms)} }}")
        elif f.kind == "list":
            words.append(f"{f.name} {draw(st.sampled_from(LIST_VERBS))} "
                         f"{{ {' '.join(_word(text_word(draw)) for _ in range(draw(st.integers(0, 3))))} }}")
        else:
            words.append(f"{f.name} {_word(text_word(draw))}")
    return f"{draw(st.sampled_from(['create', 'modify']))} {type_} {name} {' '.join(words)}"


def line_of(cmd: Command) -> str:
    """A parsed create/modify command written back as one tmsh line."""
    t = TYPES[cmd.type]
    name = {"gtm topology": cmd.name, "gtm global-settings": ""}.get(cmd.type, _word(cmd.name))
    out = [cmd.verb, cmd.type, name]
    for name, (verb, value) in cmd.values.items():
        verb = "replace-all-with" if verb == "set" else verb
        kind = t.field(name).kind if t.field(name) else None
        if name == t.flag_field and value in t.flags:
            out.append(value)
        elif kind == "switch":   # a bare word (`ip-forward`, `vlans-enabled`)
            out.append(name)
        elif isinstance(value, dict):
            items = " ".join(f"{_word(n)} {{ {' '.join(f'{_word(k)} {_word(v)}' for k, v in props.items())} }}"
                             for n, props in value.items())
            out.append(f"{name} {verb} {{ {items} }}")
        elif kind == "terms":
            out.append(f"{name} {verb} {{ {' '.join(value)} }}")
        elif isinstance(value, list):
            out.append(f"{name} {verb} {{ {' '.join(_word(v) for v in value)} }}")
        else:
            out.append(f"{name} {_word(value)}")
    return " ".join(out)


def plain(cmd: Command):
    """A command with its tokens as plain texts (a Quoted token equals its text)."""
    return (cmd.verb, cmd.type, cmd.name, cmd.values, [str(w) for w in cmd.words])


def parse_or_error(line: str):
    try:
        return parse(line)
    except TmshSyntaxError as exc:
        assert str(exc), "a syntax error says what is wrong"
        return None


@FAST
@given(st.text(max_size=80))
def test_any_text_is_a_command_or_a_tmsh_syntax_error(line):
    cmd = parse_or_error(line)
    assert cmd is None or isinstance(cmd, Command)


@FAST
@given(SOUP)
def test_any_soup_of_tmsh_words_is_a_command_or_a_tmsh_syntax_error(words):
    parse_or_error(" ".join(words))


@FAST
@given(command_lines())
def test_a_parsed_command_printed_and_parsed_again_is_the_same(line):
    cmd = parse_or_error(line)
    assume(cmd is not None)
    again = parse(line_of(cmd))
    assert plain(again) == plain(cmd)


@FAST
@given(st.lists(st.text(max_size=8), max_size=6))
def test_a_quoted_word_is_one_token_whatever_it_holds(words):
    tokens = tokenize(" ".join(_word(w) for w in words))
    assert [str(t) for t in tokens] == words
    assert all(isinstance(t, Quoted) for t, w in zip(tokens, words) if w in ("{", "}", ""))


# -- zone records -------------------------------------------------------------------------------
OWNER = st.sampled_from(["@", "www", "ns1", "mail", "*.w", "a.b", "example.com.", "other.org.", "x..y.",
                         "..", "-", "\\0", "a" * 64, "*"])
RTYPE = st.sampled_from(["SOA", "NS", "A", "AAAA", "CNAME", "MX", "SRV", "TXT", "PTR", "DNAME", "HINFO",
                         "NAPTR", "CAA", "TYPE65534", "IN", "CH"])
RDATA = st.sampled_from(["ns1 hostmaster 1 3600 600 86400 60", "ns1", "10.1.1.1", "::1", "10 mail",
                         "0 5 5060 sip", "\"hello\"", "mail", "new.example.org.", "\"a\" \"b\"", "", "1.2.3",
                         "300", "(", ")", ";", "$ORIGIN x.", "100 10 \"u\" \"sip\" \"\" ."])
RECORD = (st.tuples(OWNER, st.sampled_from(["", "300", "IN", "300 IN", "CH", "-5", "4294967296"]), RTYPE, RDATA)
          .map(lambda r: " ".join(p for p in r if p)))
APEX = ["@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60", "@ IN NS ns1", "ns1 IN A 10.30.0.53"]


def load_or_error(name, records):
    try:
        zone = load(name, records)
    except ZoneError as exc:
        assert str(exc)
        return None
    assert isinstance(zone, Zone) and zone.soa
    return zone


@FAST
@given(st.sampled_from(["example.com", "example.com.", "", ".", "a..b", "x" * 70, "*.example.com"]),
       st.lists(RECORD, max_size=6), st.booleans())
def test_any_records_load_as_a_zone_or_a_zone_error(name, records, with_apex):
    load_or_error(name, (APEX if with_apex else []) + records)


@FAST
@given(st.lists(st.text(max_size=40), max_size=5))
def test_any_text_records_load_as_a_zone_or_a_zone_error(records):
    load_or_error("example.com", APEX + records)


@FAST
@given(st.lists(RECORD, max_size=6), st.randoms(use_true_random=False))
def test_the_order_of_records_does_not_change_the_zone(records, rnd):
    shuffled = list(records)
    rnd.shuffle(shuffled)
    a, b = load_or_error("example.com", APEX + records), load_or_error("example.com", APEX + shuffled)
    if a is None or b is None:
        assert a is None and b is None
        return
    assert {n: {t: set(r) for t, r in node.items()} for n, node in a.nodes.items()} == \
           {n: {t: set(r) for t, r in node.items()} for n, node in b.nodes.items()}


def test_a_malformed_absolute_owner_name_is_a_zone_error():
    """Found by the properties above: an empty label in an absolute owner raised dnspython's
    EmptyLabel from the out-of-zone check, before the record was parsed."""
    with pytest.raises(ZoneError, match="x..y."):
        load("example.com", APEX + ["x..y. IN A 10.1.1.1"])


def test_a_comment_that_ends_like_an_absolute_name_is_no_owner():
    """Found by fuzzing: the out-of-zone check read a comment's first word as a name (IDNA error)."""
    assert load("example.com", APEX + [";caf\ufffd.", "www IN A 10.1.1.1"]).warnings == []
