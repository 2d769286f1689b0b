"""Failed logins per account, and the lockout of F5's `auth password-policy max-login-failures`
(pam_tally2 on a BIG-IP). Sans-IO: the limit is read through a callable, so a change of the
policy applies at the next login.

An account is locked once it has failed `max-login-failures` times in a row (0: never); a locked
account is refused even with the right password until an administrator unlocks it (`tmsh
reset-stats auth login-failures NAME`); a successful login clears the count. The count is this
device's own, as the tally is on a BIG-IP.
"""
from __future__ import annotations

from typing import Callable

from .errors import AccountLocked


class LoginFailures:
    def __init__(self, limit: Callable[[], int]):
        self.limit = limit
        self.counts: dict[str, int] = {}

    def locked(self, user: str) -> bool:
        limit = self.limit()
        return limit > 0 and self.counts.get(user, 0) >= limit

    def check(self, user: str) -> None:
        """AccountLocked if `user` may not log in whatever the password."""
        if self.locked(user):
            raise AccountLocked(self.counts[user])

    def record(self, user: str, ok: bool) -> None:
        if ok:
            self.counts.pop(user, None)
        else:
            self.counts[user] = self.counts.get(user, 0) + 1

    def reset(self, user: str | None = None) -> list[str]:
        """Unlock `user` (every account if None); the accounts whose count was cleared."""
        names = [user] if user is not None else list(self.counts)
        return [n for n in names if self.counts.pop(n, None) is not None]
