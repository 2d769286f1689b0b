"""F5's error catalogue: one class an error, each with F5's message id and text format.

Modelled on dnspython's exceptions: a class declares `id` (F5's message id and severity, as in
`01020036:3`) and `fmt` (the text after it, with {fields}); the fields are given by position or
by name, and str(err) is the line a BIG-IP prints:

    >>> str(NotFound("Pool", "/Common/web"))
    '01020036:3: The requested Pool (/Common/web) was not found.'

Callers decide by class, never by reading the text: REST maps the class to an HTTP status in one
place (node/rest/errors.py). To add an F5 error, declare a class here with F5's id and exact text.

`ConfigError` is the base of every refused change (nothing was changed); `ConfigError(text)` is a
refusal F5 has no message id for.
"""
from __future__ import annotations

import string

CATALOGUE: dict[str, type[F5Error]] = {}   # message id -> its one class


class F5Error(Exception):
    """An error with F5's message. Without an `id`, the text is the whole message."""
    id: str | None = None
    fmt = "{message}"
    fields: tuple[str, ...] = ("message",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.fields = tuple(f for _, f, _, _ in string.Formatter().parse(cls.fmt) if f)
        if cls.id is not None and "id" in cls.__dict__:
            assert cls.id not in CATALOGUE, f"two classes for {cls.id}"
            CATALOGUE[cls.id] = cls

    def __init__(self, *args, **kwargs):
        if len(args) > len(self.fields):
            raise TypeError(f"{type(self).__name__} takes {', '.join(self.fields)}")
        values = dict(zip(self.fields, args))
        values.update(kwargs)
        if set(values) != set(self.fields):
            raise TypeError(f"{type(self).__name__} takes {', '.join(self.fields)}, not {', '.join(values)}")
        self.values = values
        for k, v in values.items():
            setattr(self, k, v)
        text = self.fmt.format(**values)
        super().__init__(f"{self.id}: {text}" if self.id else text)


# -- refused changes (mcpd's validation) ------------------------------------------------------------
class ConfigError(F5Error):
    """A change refused, with F5's message where F5 has one. Nothing was changed."""


class Invalid(ConfigError):
    id = "01070734:3"
    fmt = "Configuration error: {detail}"


class NotFound(ConfigError):
    id = "01020036:3"
    fmt = "The requested {what} ({name}) was not found."


class Exists(ConfigError):
    """`where` is " in partition Common" for an object, "" for an item of a list."""
    id = "01020066:3"
    fmt = "The requested {what} ({name}) already exists{where}."

    def __init__(self, what: str, name: str, where: str = ""):
        super().__init__(what, name, where)


class InUse(ConfigError):
    id = "01070265:3"
    fmt = "The {what} ({name}) cannot be deleted because it is in use by a {user_what} ({user})."


class RuleError(ConfigError):
    """An iRule that does not load: `detail` is `/Common/r:3: error: [parse error: ...][text]`."""
    id = "01070151:3"
    fmt = "Rule [{rule}] error: {detail}"


class RuleNeedsHttp(ConfigError):
    id = "01071912:3"
    fmt = ("{event} event in rule ({rule}) requires an associated HTTP or FASTHTTP profile on the "
           "virtual-server ({virtual}).")


class IncompatibleProfiles(ConfigError):
    """Two profiles one virtual cannot have together (two transport profiles: fastL4 and tcp)."""
    id = "01070097:3"
    fmt = "Virtual server {virtual} lists incompatible profiles."


class SslPairMissing(ConfigError):
    """A client-ssl profile without both a certificate and its key."""
    id = "010717e3:3"
    fmt = "Client SSL profile must have RSA certificate/key pair."


class SslKeyMismatch(ConfigError):
    """A profile's key is not its certificate's."""
    id = "01070313:3"
    fmt = ("Error reading key PEM file {key} for profile {profile}: error:0B080074:x509 certificate "
           "routines:X509_check_private_key:key values mismatch")


class FolderNotEmpty(ConfigError):
    """`item` is the first thing still inside, as "pool /P/web" or "folder /P/app"."""
    id = "010713f9:3"
    fmt = "The folder {folder} cannot be deleted because it contains configuration item ({item})."


class StrictUpdates(ConfigError):
    """A hand edit of an object an iApp application service owns, with its strict updates on. The
    wording matches F5's (training material quotes it: the service "must be updated via the application
    management interface"); the id is the one the lab has used and is not found in F5's public texts."""
    id = "01070621:3"
    fmt = "The application service ({service}) must be updated using an application management interface."


class IappFailed(ConfigError):
    """An application service's template refused its values or its implementation failed; `detail`
    is the Tcl error (the run is one commit: nothing was made)."""
    fmt = "script did not successfully complete: ({detail})"


class SyncFailed(ConfigError):
    id = "01070712:3"
    fmt = "Caught configuration exception (0), Cannot sync: {detail}"


class WriteAccessDenied(ConfigError):
    """A user's write to a partition its partition-access does not give it (mcpd's text)."""
    id = "01070824:3"
    fmt = ('Write Access Denied: user ({user}) does not have update access to partition ({partition}), '
           'check your current "update/write" partition settings')


class RoleAccessDenied(ConfigError):
    """A change the user's role does not allow (mcpd's 01070822; the lab names the object after
    F5's opening words, see docs/design.md). `verb` is create, modify or delete."""
    id = "01070822:3"
    fmt = "Access Denied: user ({user}) does not have {verb} access to {what} ({path})"


class LoadFailed(ConfigError):
    """`load sys config` refused: what tmsh prints, the error and then its closing line (nothing
    was loaded). `doing` is Loading or Validating."""
    fmt = "{doing} configuration...\n  {source}\n{detail}\nUnexpected Error: {doing} configuration process failed."


class CMError(ConfigError):
    """A cm or failover command (`run sys failover standby`) refused; nothing changed. No id:
    the text is the whole message."""


# -- tmsh and iControl REST ---------------------------------------------------------------------------
class ShellError(F5Error):
    """A tmsh line refused, as tmsh prints it. `error` is the catalogue error it reports, if any."""

    def __init__(self, message: str, error: F5Error | None = None):
        super().__init__(message)
        self.error = error

    @classmethod
    def of(cls, exc: Exception) -> ShellError:
        """tmsh's report of an error raised below it (the store, CM): the same text."""
        return cls(str(exc), catalogued(exc))


class Busy(F5Error):
    """A write while an asynchronous task (config sync, util bash) runs."""
    fmt = "There is an active asynchronous task executing."


class Unauthorized(F5Error):
    """Authentication or authorization refused (restjavad's texts, which carry no id)."""


class AccountLocked(Unauthorized):
    """A login to an account locked by `auth password-policy max-login-failures`, even with the
    right password (pam_tally2's text, which a BIG-IP's PAM stack prints)."""
    fmt = "Authentication failed: Account locked due to {failures} failed logins"


def catalogued(exc: Exception) -> F5Error | None:
    """`exc` as a catalogue error: the error a ShellError reports, or itself if it is one."""
    if isinstance(exc, ShellError):
        return exc.error
    return exc if isinstance(exc, F5Error) else None


# -- the node's own control socket (not an F5 message) ------------------------------------------
class CommandError(F5Error):
    """A control-socket command refused its arguments; the message goes back to the caller."""
