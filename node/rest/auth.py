"""iControl REST authentication and roles, as a BIG-IP does them. Sans-IO: `now` is passed in.

- Basic auth, or a token from POST /mgmt/shared/authn/login in X-F5-Auth-Token.
- Tokens last 1200 s; PATCH may set up to 36000 s; DELETE logs out. A user other than admin may
  hold 100 live tokens; the 101st login is refused.
- Roles: what each may change is config/roles.py's table. REST refuses (401, restjavad's text) a
  change of a kind the role never makes; the store refuses the rest (01070822, mcpd's) for every
  way in. A user whose partition-access is one partition writes only there and sees only it and
  /Common (config/access.py). Other endpoints (commands, AS3, files) take admin, resource-admin
  or manager. The admin account comes from the topology; other accounts are
  `auth user` objects (synced configuration, passwords kept hashed).
- An `auth user` that fails `auth password-policy max-login-failures` logins in a row (token or
  Basic) is locked until an admin unlocks it (node/logins.py). The topology's admin is exempt: it
  is the lab's way in.
- Tokens: 26 characters from `secrets` (~134 bits), each good only for its own user.
"""
from __future__ import annotations

import base64
import datetime as dt
import hmac
import secrets
import string
from dataclasses import dataclass

from ..config import roles
from ..config.access import ALL, Access
from ..config.schema import check_secret
from ..errors import AccountLocked, Unauthorized
from ..logins import LoginFailures
from .errors import RestError, answer

TOKEN_TIMEOUT = 1200
TOKEN_MAX_TIMEOUT = 36000
TOKENS_PER_USER = 100
ALPHABET = string.ascii_uppercase + string.digits
WRITERS = ("admin", "resource-admin", "manager")   # of the endpoints that are not configuration objects


@dataclass
class Token:
    token: str
    user: str
    start: float
    timeout: int
    address: str
    updated: float = 0.0    # a PATCH of the timeout counts from then

    @property
    def expires(self) -> float:
        return max(self.start, self.updated) + self.timeout

    def to_rest(self) -> dict:
        micros = int(max(self.start, self.updated) * 1_000_000)
        return {"token": self.token, "name": self.token, "userName": self.user, "authProviderName": "tmos",
                "user": {"link": f"https://localhost/mgmt/shared/authz/users/{self.user}"},
                "groupReferences": [], "timeout": self.timeout, "startTime": _iso(self.start),
                "address": self.address, "partition": "[All]", "generation": 1,
                "lastUpdateMicros": micros, "expirationMicros": int(self.expires * 1_000_000),
                "kind": "shared:authz:tokens:authtokenitemstate",
                "selfLink": f"https://localhost/mgmt/shared/authz/tokens/{self.token}"}


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def unauthorized(message: str) -> RestError:
    return answer(Unauthorized(message))


class Auth:
    def __init__(self, admin: dict, users, now, logins: LoginFailures | None = None):
        self.admin = admin          # {"username", "password"} from the topology
        self.users = users          # () -> {name: {"password": hash, "role": role}}
        self.now = now
        self.logins = logins or LoginFailures(lambda: 0)
        self.tokens: dict[str, Token] = {}
        self._verified: dict[tuple[str, str, str], bool] = {}   # hashing is slow; basic auth is per request

    def role(self, user: str) -> str | None:
        if user == self.admin.get("username"):
            return "admin"
        u = self.users().get(user)
        return u.get("role", "guest") if u else None

    def access(self, user: str) -> Access | None:
        """The partition and role a user's changes are held to; None for an admin of every partition."""
        if user == self.admin.get("username"):
            return None
        u = self.users().get(user) or {}
        where, role = u.get("partition-access") or ALL, u.get("role", "guest")
        return None if where == ALL and role == "admin" else Access(user, where, role)

    def verify(self, user: str, password: str) -> bool:
        """A login attempt: the password checked, counted against an `auth user`'s lockout."""
        counted = user != self.admin.get("username") and user in self.users()
        if counted:
            try:
                self.logins.check(user)
            except AccountLocked as exc:
                raise answer(exc) from None
        ok = self.check_password(user, password)
        if counted:
            self.logins.record(user, ok)
        return ok

    def check_password(self, user: str, password: str) -> bool:
        if user == self.admin.get("username"):
            return hmac.compare_digest(password.encode(), str(self.admin.get("password", "")).encode())
        u = self.users().get(user)
        if not u or u.get("role") == "no-access":
            return False
        key = (user, password, u.get("password", ""))
        if key not in self._verified:
            if len(self._verified) > 256:
                self._verified.clear()
            self._verified[key] = check_secret(password, u.get("password", ""))
        return self._verified[key]

    # -- who is asking --------------------------------------------------------------------------
    def authenticate(self, headers: dict, uri: str) -> str:
        """The user a request comes from, or RestError 401 with F5's text."""
        token = headers.get("x-f5-auth-token")
        if token:
            t = self.tokens.get(token)
            if t is None:
                raise unauthorized("X-F5-Auth-Token does not exist.")
            if self.now() >= t.expires:
                del self.tokens[token]
                raise unauthorized("X-F5-Auth-Token has expired.")
            if self.role(t.user) is None:
                raise unauthorized("Authorization failed: the token's user no longer exists.")
            return t.user
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(basic[6:], validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise unauthorized(f"Authorization failed: malformed Basic authorization header. Uri:{uri}") \
                    from None
            if self.verify(user, password):
                return user
            raise unauthorized("Authentication failed.")
        raise unauthorized(f"Authorization failed: no user authentication header or token detected. Uri:{uri}")

    def authorize(self, user: str, method: str, uri: str, for_type: str | None = None) -> None:
        """A request to an endpoint that is not a configuration object (a command, AS3, a file);
        `for_type`: one that exists to make objects of that type (a certificate's upload), which
        a role that creates them may use too."""
        role = self.role(user)
        if method == "GET" or role in WRITERS or (for_type and roles.may_touch(role or "", for_type, "create")):
            return
        raise self.refusal(user, method, uri)

    def authorize_change(self, user: str, method: str, uri: str, op) -> None:
        """A change to a configuration object: refused here if the role never makes its kind
        (roles.py); the store then holds it to the role and partition in full."""
        role = self.role(user) or "no-access"
        if not (roles.may_touch(role, op.type, op.action) or roles.own_password(user, op)):
            raise self.refusal(user, method, uri)

    @staticmethod
    def refusal(user: str, method: str, uri: str) -> RestError:
        return unauthorized(f"Authorization failed: user={user} resource={uri} verb={method}")

    # -- tokens ---------------------------------------------------------------------------------
    def login(self, body, address: str) -> Token:
        if not isinstance(body, dict) or not isinstance(body.get("username"), str) \
                or not isinstance(body.get("password"), str):
            raise RestError(400, "username and password are required", 1)
        if body.get("loginProviderName", "tmos") not in ("tmos", "local"):
            raise unauthorized(f"Login provider {body['loginProviderName']} is not available in the lab")
        user = body["username"]
        if not self.verify(user, body["password"]):
            raise unauthorized("Authentication failed.")
        self.expire()
        if user != self.admin.get("username") and \
                sum(1 for t in self.tokens.values() if t.user == user) >= TOKENS_PER_USER:
            raise RestError(400, f"user {user} has reached the maximum number of active login tokens "
                                 f"({TOKENS_PER_USER}); delete one or wait for one to expire", 1)
        t = Token("".join(secrets.choice(ALPHABET) for _ in range(26)), user, self.now(), TOKEN_TIMEOUT, address)
        self.tokens[t.token] = t
        return t

    def expire(self) -> None:
        now = self.now()
        for k in [k for k, t in self.tokens.items() if now >= t.expires]:
            del self.tokens[k]

    def token(self, user: str, token: str) -> Token:
        self.expire()
        t = self.tokens.get(token)
        if t is None or (t.user != user and self.role(user) != "admin"):
            raise RestError(404, f"Token {token} was not found.", 1)
        return t

    def set_timeout(self, user: str, token: str, body) -> Token:
        t = self.token(user, token)
        timeout = body.get("timeout") if isinstance(body, dict) else None
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
            raise RestError(400, "timeout must be a whole number of seconds", 1)
        if timeout > TOKEN_MAX_TIMEOUT:
            raise RestError(406, f"The timeout {timeout} is above the maximum of {TOKEN_MAX_TIMEOUT} seconds.", 1)
        t.timeout, t.updated = timeout, self.now()
        return t

    def logout(self, user: str, token: str) -> Token:
        t = self.token(user, token)
        del self.tokens[token]
        return t
