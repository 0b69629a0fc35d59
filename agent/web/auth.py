"""Portal users and sessions: Argon2id hashes, lockout, rotation at sign-in, idle timeout.

A session cookie holds 32 random bytes; the database holds only their sha256, so a copy of
the database signs nobody in. Each session has its own CSRF token for forms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from agent.errors import CivicwatchError
from storage.models import User, WebSession

ROLES = ("clerk", "supervisor", "admin")
MIN_PASSWORD = 12
_hasher = PasswordHasher()  # Argon2id with the library's recommended parameters


class AuthError(CivicwatchError):
    code = "auth"


def rank(role: str) -> int:
    return ROLES.index(role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, name: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise AuthError(f"a user named {name!r} exists")
    user = User(name=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise AuthError(f"no user named {name!r}")
    user.password_hash, user.failed_logins, user.locked_until = _hasher.hash(password), 0, None
    session.add(user)
    return user


@dataclass(frozen=True)
class Policy:
    max_failures: int
    lockout: timedelta
    idle: timedelta
    lifetime: timedelta


def authenticate(session: Session, name: str, password: str, now: datetime, policy: Policy) -> User:
    """The user, if the password is right and the account is usable; else AuthError (one vague message)."""
    refused = AuthError("wrong user name or password, or the account is locked")
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        _hasher.hash(password)  # the same work as for a real user: no timing hint
        raise refused
    if user.disabled or (user.locked_until is not None and user.locked_until > now):
        raise refused
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= policy.max_failures:
            user.locked_until, user.failed_logins = now + policy.lockout, 0
        session.add(user)
        session.commit()  # the failure must count even though the sign-in is refused
        raise refused from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    session.add(user)
    return user


def start_session(session: Session, user: User, now: datetime) -> tuple[str, WebSession]:
    """A new session (a new token: sessions are never carried across a sign-in)."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, last_seen_at=now)
    session.add(row)
    return token, row


def resume(session: Session, token: str | None, now: datetime, policy: Policy) -> tuple[User, WebSession] | None:
    """The signed-in user of a cookie, or None (no, unknown, idle or expired session)."""
    if not token:
        return None
    row = session.get(WebSession, _token_hash(token))
    if row is None:
        return None
    if now - row.last_seen_at > policy.idle or now - row.created_at > policy.lifetime:
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    row.last_seen_at = now
    session.add(row)
    return user, row


def end(session: Session, token: str | None) -> None:
    if token:
        row = session.get(WebSession, _token_hash(token))
        if row is not None:
            session.delete(row)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")
