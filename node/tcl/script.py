"""Tcl source, read the way Tcl's parser reads it (sans-IO): commands, words, braces, quotes.

Used for what Tcl itself offers no hook for:
  - F5's load-time check of an iRule (parse errors with the line, unknown events and commands);
  - F5's expression operators (`starts_with`, `contains`, `and`, ...), which real Tcl's `expr`
    does not know: each `A starts_with B` in a condition becomes `[::f5::starts_with A B]`, on the
    same line, so the script then runs on a real Tcl interpreter unchanged otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

SEPARATORS = " \t\r\f\v"


class TclSyntax(Exception):
    """A parse error, as Tcl words it (`missing close-brace`), at a line of the script."""

    def __init__(self, message: str, line: int, snippet: str):
        super().__init__(message)
        self.message, self.line, self.snippet = message, line, snippet


@dataclass(frozen=True)
class Word:
    text: str          # the word as written (braces and quotes kept)
    start: int
    end: int
    kind: str          # brace | quote | bare

    @property
    def value(self) -> str:
        """The word without its braces or quotes (no substitution)."""
        return self.text[1:-1] if self.kind in ("brace", "quote") else self.text


@dataclass(frozen=True)
class Cmd:
    words: tuple[Word, ...]
    line: int          # 1-based line of the command's first word


class _Scanner:
    def __init__(self, src: str):
        self.src = src

    def line_of(self, pos: int) -> int:
        return self.src.count("\n", 0, pos) + 1

    def fail(self, message: str, pos: int, start: int):
        raise TclSyntax(message, self.line_of(start), self.src[start:start + 40].split("\n")[0])

    def script(self, pos: int, close: str | None) -> tuple[list[Cmd], int]:
        """Commands from pos up to the end, or up to `close` (a `]`); returns them and the end."""
        cmds, src = [], self.src
        while True:
            while pos < len(src) and (src[pos] in SEPARATORS + "\n;" or src.startswith("\\\n", pos)):
                pos += 2 if src[pos] == "\\" else 1
            if pos >= len(src):
                if close:
                    self.fail("missing close-bracket", pos, max(0, pos - 1))
                return cmds, pos
            if close and src[pos] == close:
                return cmds, pos + 1
            if src[pos] == "#":
                while pos < len(src) and src[pos] != "\n":
                    pos += 2 if src[pos] == "\\" else 1
                continue
            words, first = [], pos
            while pos < len(src) and src[pos] not in "\n;" and not (close and src[pos] == close):
                if src[pos] in SEPARATORS or src.startswith("\\\n", pos):
                    pos += 2 if src[pos] == "\\" else 1
                    continue
                word, pos = self.word(pos, close)
                words.append(word)
            if words:
                cmds.append(Cmd(tuple(words), self.line_of(first)))

    def word(self, pos: int, close: str | None) -> tuple[Word, int]:
        src, start = self.src, pos
        if src.startswith("{*}", pos) and pos + 3 < len(src) and src[pos + 3] not in SEPARATORS + "\n;":
            pos += 3
        if src[pos] == "{":
            pos = self.braces(pos)
            kind = "brace"
            if pos < len(src) and src[pos] not in SEPARATORS + "\n;" and not (close and src[pos] == close):
                self.fail("extra characters after close-brace", pos, start)
        elif src[pos] == '"':
            pos += 1
            while True:
                if pos >= len(src):
                    self.fail('missing "', pos, start)
                c = src[pos]
                if c == "\\":
                    pos += 2
                elif c == "[":
                    _, pos = self.script(pos + 1, "]")
                elif c == '"':
                    pos += 1
                    break
                else:
                    pos += 1
            kind = "quote"
            if pos < len(src) and src[pos] not in SEPARATORS + "\n;" and not (close and src[pos] == close):
                self.fail("extra characters after close-quote", pos, start)
        else:
            while pos < len(src) and src[pos] not in SEPARATORS + "\n;" and not (close and src[pos] == close):
                c = src[pos]
                if c == "\\":
                    pos += 2
                elif c == "[":
                    _, pos = self.script(pos + 1, "]")
                elif c == "$" and src.startswith("${", pos):
                    end = src.find("}", pos)
                    if end < 0:
                        self.fail("missing close-brace for variable name", pos, start)
                    pos = end + 1
                else:
                    pos += 1
            kind = "bare"
        return Word(src[start:pos], start, pos, kind), pos

    def braces(self, pos: int) -> int:
        """From an opening brace to just after its match."""
        src, start, depth = self.src, pos, 0
        while pos < len(src):
            c = src[pos]
            if c == "\\":
                pos += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
        self.fail("missing close-brace", pos, start)


def parse(src: str) -> list[Cmd]:
    """The script's commands, or TclSyntax."""
    return _Scanner(src).script(0, None)[0]


def commands_in(src: str) -> list[tuple[Cmd, int]]:
    """Every command of a script with its line, descending into the braced bodies of control
    commands and into [command substitutions] (for the load-time check of command names)."""
    found: list[tuple[Cmd, int]] = []
    _walk(src, 0, found)
    return found


def _walk(src: str, line0: int, found: list) -> None:
    for cmd in parse(src):
        line = line0 + cmd.line
        found.append((cmd, line))
        conds = conditions(cmd)
        for w in cmd.words:
            _substitutions(Word(w.value, w.start, w.end, "bare") if w in conds else w,
                           line0 + _line_at(src, w.start), found)
        for body in bodies(cmd):
            _walk(body.value, line0 + _line_at(src, body.start) - 1, found)


def _line_at(src: str, pos: int) -> int:
    return src.count("\n", 0, pos) + 1


def _substitutions(w: Word, line: int, found: list) -> None:
    if w.kind == "brace":
        return
    text, pos = w.text, 0
    while True:
        i = text.find("[", pos)
        if i < 0 or (i > 0 and text[i - 1] == "\\"):
            return
        inner, end = _Scanner(text).script(i + 1, "]")
        for c in inner:
            found.append((c, line + text.count("\n", 0, c.words[0].start)))
            for cw in c.words:
                _substitutions(cw, line, found)
        pos = end


BODY_AT = {"while": (2,), "for": (1, 3, 4), "foreach": (-1,), "catch": (1,), "proc": (3,), "when": (-1,),
           "after": (), "eval": ()}


def bodies(cmd: Cmd) -> list[Word]:
    """The braced words of a command that are scripts: `if` branches, loop bodies, `switch` arms."""
    words, name = cmd.words, cmd.words[0].text
    out = []
    if name == "if":
        i = 1
        while i < len(words):
            i += 1                                    # the condition
            if i < len(words) and words[i].text == "then":
                i += 1
            if i < len(words):
                out.append(words[i])
            i += 1
            if i < len(words) and words[i].text == "elseif":
                i += 1
            elif i < len(words) and words[i].text == "else":
                if i + 1 < len(words):
                    out.append(words[i + 1])
                break
    elif name == "switch" and len(words) > 1:
        last = words[-1]
        if last.kind == "brace":                      # switch ?opts? value { pattern body ... }
            arms = [w for c in parse(last.value) for w in c.words]
            out += [_shift(w, last.start + 1) for w in arms[1::2] if w.text != "-"]
        else:                                         # switch value pattern body pattern body
            out += [w for w in words[2:][1::2] if w.text != "-"]
    elif name in BODY_AT:
        out += [words[i] for i in BODY_AT[name] if -len(words) <= i < len(words) and i != 0]
    return [w for w in out if w.kind == "brace"]


def _shift(w: Word, offset: int) -> Word:
    return Word(w.text, w.start + offset, w.end + offset, w.kind)


# -- F5's expression operators ----------------------------------------------------------------
OPERATORS = ("starts_with", "ends_with", "contains", "equals", "matches_glob", "matches_regex")
ALIASES = {"and": "&&", "or": "||", "not": "!"}


def conditions(cmd: Cmd) -> list[Word]:
    """The words of a command that are expressions."""
    words, name = cmd.words, cmd.words[0].text
    if name == "if":
        out, i = [], 1
        while i < len(words):
            out.append(words[i])
            i += 1
            if i < len(words) and words[i].text == "then":
                i += 1
            i += 1
            if i < len(words) and words[i].text == "elseif":
                i += 1
            else:
                break
        return out
    if name == "while" and len(words) > 1:
        return [words[1]]
    if name == "for" and len(words) > 2:
        return [words[2]]
    if name == "expr":
        return list(words[1:])
    return []


def rewrite(src: str) -> str:
    """The script with F5's operators in every condition turned into Tcl (same lines)."""
    edits: list[tuple[int, int, str]] = []
    _rewrite_into(src, 0, edits)
    for start, end, text in sorted(edits, reverse=True):
        src = src[:start] + text + src[end:]
    return src


def _rewrite_into(src: str, offset: int, edits: list) -> None:
    for cmd in parse(src):
        for w in conditions(cmd):
            new = expression(w.value)
            if new != w.value:
                inner = (w.start + 1, w.end - 1) if w.kind in ("brace", "quote") else (w.start, w.end)
                edits.append((offset + inner[0], offset + inner[1], new))
        for body in bodies(cmd):
            _rewrite_into(body.value, offset + body.start + 1, edits)


def expression(expr: str) -> str:
    """`[HTTP::uri] starts_with "/api" and not ($x contains "a")` ->
    `[::f5::starts_with [HTTP::uri] "/api"] && ! ([::f5::contains $x "a"])`."""
    toks = _operand_tokens(expr)
    if not any(t in OPERATORS or t in ALIASES for t, _ in toks):
        return expr
    out: list[str] = []
    i = 0
    while i < len(toks):
        text, kind = toks[i]
        if kind == "word" and text in ALIASES:
            out.append(ALIASES[text])
        elif kind == "word" and text in OPERATORS and out and i + 1 < len(toks):
            while out and out[-1].isspace():
                out.pop()
            left = out.pop()
            j = i + 1
            while j < len(toks) and toks[j][1] == "space":
                j += 1
            right = toks[j][0] if toks[j][1] != "group" else "[expr {" + expression(toks[j][0][1:-1]) + "}]"
            out.append(f"[::f5::{text} {left} {right}]")
            i = j
        elif kind == "group":
            out.append("(" + expression(text[1:-1]) + ")")
        else:
            out.append(text)
        i += 1
    while out and out[-1].isspace():
        out.pop()
    return "".join(out)


def _operand_tokens(expr: str) -> list[tuple[str, str]]:
    """An expression split into operands (kept whole: [cmd], $var, "str", {str}, (group)),
    bare words, operator characters and spaces."""
    toks, pos, sc = [], 0, _Scanner(expr)
    while pos < len(expr):
        c, start = expr[pos], pos
        if c in SEPARATORS + "\n":
            while pos < len(expr) and expr[pos] in SEPARATORS + "\n":
                pos += 1
            toks.append((expr[start:pos], "space"))
            continue
        if c == "(":
            depth = 0
            while pos < len(expr):
                ch = expr[pos]
                if ch in "[{\"":
                    pos = sc.word(pos, ")")[1] if ch != "[" else sc.script(pos + 1, "]")[1]
                    continue
                depth += ch == "("
                depth -= ch == ")"
                pos += 1
                if depth == 0:
                    break
            toks.append((expr[start:pos], "group"))
            continue
        if c == "[":
            pos = sc.script(pos + 1, "]")[1]
        elif c == "{":
            pos = sc.braces(pos)
        elif c == '"':
            pos += 1
            while pos < len(expr) and expr[pos] != '"':
                pos = sc.script(pos + 1, "]")[1] if expr[pos] == "[" else pos + (2 if expr[pos] == "\\" else 1)
            pos += 1
        elif c == "$":
            pos += 1
            if expr.startswith("{", pos):
                pos = expr.index("}", pos) + 1
            else:
                while pos < len(expr) and (expr[pos].isalnum() or expr[pos] in "_:"):
                    pos += 1
                if expr.startswith("(", pos):
                    pos = expr.index(")", pos) + 1
        elif c.isalnum() or c in "_.":
            while pos < len(expr) and (expr[pos].isalnum() or expr[pos] in "_."):
                pos += 1
            toks.append((expr[start:pos], "word"))
            continue
        else:
            pos += 1
            toks.append((c, "op"))
            continue
        toks.append((expr[start:pos], "operand"))
    return toks
