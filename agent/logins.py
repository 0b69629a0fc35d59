"""Guarding accounts against lockout: a cap on login attempts, and a pause after a refusal.

A locked account is worse than a missed capture. civicwatch signs in only when the saved
session is no longer valid; it submits credentials at most ``login_attempts_per_hour``
times per account, and after the site *refused* a password it does not submit that same
password again for ``login_pause_after_refusal`` (a new password in the config, or
``check --force-login``, lifts the pause).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from agent.errors import Blocked, CivicwatchError, LoginFailed
from flows.base import Credentials
from storage.db import Database
from storage.models import LoginAttempt


class LoginPaused(LoginFailed):
    """civicwatch did not try to sign in, to protect the account from lockout."""

    code = "login_failed"


def credentials_key(secret: bytes, creds: Credentials) -> str:
    """A keyed hash of username and password: comparable, not reversible; pure."""
    message = f"{creds.username}\0{creds.password.get_secret_value()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def outcome_of(exc: CivicwatchError | None) -> str:
    """How a login attempt ended, in LoginAttempt's words; pure."""
    if exc is None:
        return "ok"
    if isinstance(exc, Blocked):
        return "blocked"
    if isinstance(exc, LoginFailed) and exc.message.startswith(("the site refused", "the one-time code")):
        return "refused"
    return "error"


@dataclass
class LoginGuard:
    db: Database
    secret: bytes
    per_hour: int
    pause_after_refusal: timedelta

    def check(self, account_id: str, creds: Credentials, now: datetime) -> None:
        """Raise LoginPaused when signing in now could endanger the account."""
        key = credentials_key(self.secret, creds)
        with self.db.session() as s:
            recent = s.exec(
                select(LoginAttempt)
                .where(LoginAttempt.account_id == account_id, col(LoginAttempt.at) >= now - self.pause_after_refusal)
                .order_by(col(LoginAttempt.at).desc())
            ).all()
        last_hour = [a for a in recent if a.at >= now - timedelta(hours=1)]
        if len(last_hour) >= self.per_hour:
            retry = min(a.at for a in last_hour) + timedelta(hours=1)
            raise LoginPaused(
                f"not signing in: {len(last_hour)} login attempts in the last hour (limit {self.per_hour}); "
                f"next attempt allowed after {retry:%Y-%m-%d %H:%M} UTC, to avoid locking the account"
            )
        refused = next((a for a in recent if a.outcome in ("refused", "blocked")), None)
        if refused is not None and refused.credentials == key:
            until = refused.at + self.pause_after_refusal
            reason = "refused this password" if refused.outcome == "refused" else "demanded a CAPTCHA/checkpoint"
            raise LoginPaused(
                f"not signing in: the site {reason} at {refused.at:%Y-%m-%d %H:%M} UTC; civicwatch will not "
                f"retry the same credentials before {until:%Y-%m-%d %H:%M} UTC (update the password, or run "
                "`civicwatch check ACCOUNT --force-login` after fixing it)"
            )

    def record(self, account_id: str, creds: Credentials, outcome: str, run_id: str, now: datetime) -> None:
        with self.db.session() as s:
            s.add(LoginAttempt(account_id=account_id, at=now, outcome=outcome,
                               credentials=credentials_key(self.secret, creds), run_id=run_id))
