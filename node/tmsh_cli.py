"""`tmsh` inside a BIG-IP node: sends lines to the node daemon and prints the answers.

    tmsh show cm sync-status        one command
    tmsh -c "cd /P; list ltm pool"  several, in order
    tmsh                            the interactive shell, as on a BIG-IP:
                                    root@(bigip1)(cfg-sync In Sync)(Active)(/Common)(tmos)#

Interactively: module contexts (`ltm`, then `list pool`; `..` up, `/` to the top, `exit` up or
out, `quit` out), `cd /P`, Tab completion and `?` help from the schema (node/config/grammar.py),
history, and `load sys config merge from-terminal` reading until Ctrl-D. The line editor is
prompt_toolkit; without a terminal, lines are read plainly from standard input.

`biglab exec LAB NODE -- tmsh ...` (or `biglab shell LAB NODE`) runs it with BIGLAB_CTL pointing
at the node's control socket, as root; with `--user U` (BIGLAB_USER) it runs as that `auth user`,
held to its role and partition-access as it would be logged in on a BIG-IP.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

from .config import grammar
from .config.tmsh import TmshSyntaxError, tokenize
from .control_client import call

FROM_TERMINAL = "Enter configuration. Press CTRL-D to submit or CTRL-C to cancel."


@dataclass
class Session:
    """Where the user is: the folder (`cd`) and the module context (`ltm`, `ltm monitor`)."""
    ctl: str
    user: str | None = None      # an `auth user` the commands run as; None: root
    folder: str = "/Common"
    context: list = field(default_factory=list)
    rc: int = 0
    done: bool = False

    def prompt(self) -> str:
        return self.call("prompt", kind="tmsh", folder=self.folder, modules=self.context)["result"]

    def call(self, cmd: str, **args) -> dict:
        return call(self.ctl, cmd, **args, **({"user": self.user} if self.user else {}))

    def run(self, line: str, read_text=None) -> None:
        """One line as typed: a move between contexts, `cd`, or a command for the daemon."""
        try:
            words = [str(w) for w in tokenize(line)]
        except TmshSyntaxError as exc:
            return self._error(str(exc))
        if not words:
            return
        if words == ["quit"] or words == ["q"] or (words == ["exit"] and not self.context):
            self.done = True
        elif words == ["exit"] or words == [".."]:
            self.context = self.context[:-1]
        elif words == ["/"]:
            self.context = []
        elif words[0] == "cd":
            answer = self.call("cd", folder=self.folder, to=" ".join(words[1:]) or "/Common")
            if answer["ok"]:
                self.folder = answer["result"]
            else:
                self._error(answer["error"])
        elif words[0] in ("help", "?"):
            print(help_text(self.context, ""))
        elif grammar.is_module(self.context + words) or (words[0].startswith("/") and
                                                         grammar.is_module([words[0][1:], *words[1:]])):
            self.context = self.context + words if not words[0].startswith("/") else [words[0][1:], *words[1:]]
        else:
            full = grammar.full_line(self.context, words)
            text = None
            if full[:5] == ["load", "sys", "config", "merge", "from-terminal"] and read_text is not None:
                text = read_text()
                if text is None:
                    return
            self.send(" ".join(_quote(w) for w in full), text)

    def send(self, line: str, text: str | None = None) -> None:
        answer = self.call("tmsh", line=line, folder=self.folder, **({"text": text} if text is not None else {}))
        if answer["ok"]:
            if answer["result"]:
                print(answer["result"])
        else:
            self._error(answer["error"])

    def _error(self, message: str) -> None:
        print(message, file=sys.stderr)
        self.rc = 1


def _quote(word: str) -> str:
    return word if word in ("{", "}") or (word and not any(c.isspace() or c in '{}"' for c in word)) \
        else json.dumps(word)


def help_text(context: list, text: str) -> str:
    """What `?` prints: the words that may come next, grouped as tmsh groups them."""
    options = grammar.next_words(context, text)
    if not options:
        return "  <cr>  (end of command)" if text.strip() else ""
    groups: dict[str, list[str]] = {}
    for word, what in sorted(options.items()):
        heading = {"module": "Modules", "component": "Components", "object type": "Components",
                   "command": "Components", "option": "Options", "flag": "Properties"}.get(
            what, "Properties" if what.startswith("property") else "Commands" if word in grammar.VERBS else "Values")
        groups.setdefault(heading, []).append(word if heading != "Properties" else f"{word:<32} {what}")
    out = []
    for heading in ("Commands", "Modules", "Components", "Properties", "Options", "Values"):
        if heading in groups:
            out.append(f"{heading}:")
            out += [f"  {w}" for w in groups[heading]]
    return "\n".join(out)


def interactive(session: Session) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.application import run_in_terminal
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.key_binding import KeyBindings

    class Words(Completer):
        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            partial = "" if not text or text[-1].isspace() else text.split()[-1]
            options = list(grammar.next_words(session.context, text))
            type_ = grammar.name_position(session.context, text)
            if type_:
                answer = session.call("names", type=type_, folder=session.folder)
                options += answer["result"] if answer["ok"] else []
            for word in sorted(set(options)):
                if word.startswith(partial) and not word.startswith("<"):
                    yield Completion(word, start_position=-len(partial))

    keys = KeyBindings()

    @keys.add("?")
    def _(event):   # tmsh's `?`: what may come next, the line kept as it is
        text = event.app.current_buffer.document.text_before_cursor
        run_in_terminal(lambda: print(help_text(session.context, text)))

    prompt = PromptSession(completer=Words(), key_bindings=keys, complete_while_typing=False)

    def read_text():
        print(FROM_TERMINAL)
        lines = []
        try:
            while True:
                lines.append(prompt.prompt("", completer=None, key_bindings=None))
        except EOFError:
            return "\n".join(lines)
        except KeyboardInterrupt:
            return None

    while not session.done:
        try:
            line = prompt.prompt(session.prompt())
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        session.run(line, read_text)
    return session.rc


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = os.environ.get("BIGLAB_CTL")
    if not path:
        print("tmsh: BIGLAB_CTL is not set (run it with: biglab exec LAB NODE -- tmsh ...)", file=sys.stderr)
        return 2
    session = Session(path, os.environ.get("BIGLAB_USER") or None)
    try:
        if argv[:1] == ["-c"] and len(argv) == 2:   # tmsh -c "cd /P; list ltm pool": the daemon runs the script
            session.send(argv[1])
            return session.rc
        if argv:
            session.run(" ".join(_quote(a) for a in argv), lambda: sys.stdin.read())
            return session.rc
        if sys.stdin.isatty():
            return interactive(session)
        for line in sys.stdin:    # piped: one command a line, no prompt
            session.run(line, lambda: sys.stdin.read())
            if session.done:
                break
        return session.rc
    except (ConnectionRefusedError, FileNotFoundError):
        print("tmsh: the node daemon is not running", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
