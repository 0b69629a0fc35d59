"""The evidence database's tables. Times are UTC. No secret is ever stored here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.clock import UTCDateTime, utcnow


class Run(SQLModel, table=True):
    """One capture run of one account."""

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(index=True, max_length=64)
    platform: str = Field(max_length=40)
    status: str = Field(default="running", index=True, max_length=16)  # running ok failed interrupted
    error: str | None = None
    error_code: str | None = Field(default=None, max_length=40)
    started_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requested_url: str = ""
    final_url: str | None = None
    tool_version: str = ""
    playwright_version: str = ""
    browser_version: str | None = None
    user_agent: str | None = None
    viewport: str | None = Field(default=None, max_length=20)
    host: str = ""
    session_reused: bool = False
    feed_complete: bool = False
    posts_seen: int = 0
    posts_new: int = 0
    snapshot_sha256: str | None = Field(default=None, max_length=64)
    #: the content rules in force for this run's detection
    rules_version: str | None = Field(default=None, max_length=40)


class Capture(SQLModel, table=True):
    """One page view inside a run: the owner's feed, the visitor's view, a settings page."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    view: str = Field(max_length=20)  # owner visitor settings page
    url: str
    final_url: str | None = None
    captured_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Blob(SQLModel, table=True):
    """A content-addressed file in the blob store."""

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    media_type: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Artifact(SQLModel, table=True):
    """One captured artifact of a capture; its bytes are the blob named by sha256."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    capture_id: int = Field(foreign_key="capture.id", index=True)
    kind: str = Field(max_length=30)
    sha256: str = Field(foreign_key="blob.sha256", index=True, max_length=64)
    size: int
    media_type: str = Field(max_length=100)
    url: str | None = None


class _ItemBase(SQLModel):
    """What posts and comments share: identity, content and when they were seen."""

    account_id: str = Field(index=True, max_length=64)
    platform_id: str = Field(max_length=200)
    author: str = ""
    text: str = ""
    links: list[str] = Field(default_factory=list, sa_type=JSON)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    content_hash: str = Field(max_length=64)
    version_count: int = 1
    first_seen_run: str = Field(max_length=40)
    last_seen_run: str = Field(max_length=40)
    first_seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    #: set when a capture that covered this item's place no longer showed it
    gone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    gone_run: str | None = Field(default=None, max_length=40)


class Post(_ItemBase, table=True):
    """A post, keyed by (account, platform post id); its content is the latest version."""

    __table_args__ = (UniqueConstraint("account_id", "platform_id"),)

    id: int | None = Field(default=None, primary_key=True)
    publisher: str | None = None
    visitor: bool = False


class Comment(_ItemBase, table=True):
    """A comment, keyed by (account, platform comment id)."""

    __table_args__ = (UniqueConstraint("account_id", "platform_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_platform_id: str = Field(index=True, max_length=200)


class ItemVersion(SQLModel, table=True):
    """Every distinct content a post or comment has had; nothing is overwritten."""

    __table_args__ = (UniqueConstraint("item_type", "item_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=10)  # post comment
    item_id: int = Field(index=True)
    version: int
    content_hash: str = Field(max_length=64)
    content: dict[str, Any] = Field(sa_type=JSON)
    run_id: str = Field(foreign_key="run.id", max_length=40)
    seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class ProfileVersion(SQLModel, table=True):
    """The account's profile each time it differed from the previous capture."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(index=True, max_length=64)
    run_id: str = Field(foreign_key="run.id", max_length=40)
    name: str = ""
    bio: str = ""
    links: list[str] = Field(default_factory=list, sa_type=JSON)
    avatar_sha256: str | None = Field(default=None, max_length=64)
    content_hash: str = Field(max_length=64)
    seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Finding(SQLModel, table=True):
    """A problem seen on an account; the same problem on every run stays one finding."""

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(unique=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    kind: str = Field(index=True, max_length=40)
    severity: str = Field(max_length=10)
    summary: str
    subject: str = Field(max_length=500)  # post:ID, comment:ID, profile, setting:NAME, account, link:URL
    clause: str
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="open", index=True, max_length=16)  # open acknowledged resolved
    evidence_run_id: str = Field(foreign_key="run.id", max_length=40)  # the capture that proves it
    last_run_id: str = Field(max_length=40)
    first_seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    times_seen: int = 1
    #: consecutive runs that saw it (reset when it clears, is reopened, or is new)
    streak: int = 1
    #: when a run that could see the problem no longer did
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution: str | None = None
    reopened: int = 0


class FindingEvent(SQLModel, table=True):
    """The lifecycle of a finding: opened, acknowledged, resolved, reopened, cleared."""

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    event: str = Field(max_length=20)
    at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    by: str | None = None
    note: str | None = None
    run_id: str | None = Field(default=None, max_length=40)


class Notification(SQLModel, table=True):
    """One message for one channel, in the durable outbox. No secret is stored here."""

    id: int | None = Field(default=None, primary_key=True)
    #: what this message is for, e.g. finding:12:open:0:route:it:ch:ab12…; one row per key
    key: str = Field(unique=True, max_length=300)
    purpose: str = Field(max_length=20)  # finding escalation recovery digest test
    finding_id: int | None = Field(default=None, foreign_key="finding.id", index=True)
    route: str = Field(max_length=64)
    #: hash of the resolved channel URL (the URL itself may hold a password)
    channel: str = Field(max_length=16, index=True)
    channel_label: str = Field(max_length=200)
    subject: str
    body: str
    attachment_sha256: str | None = Field(default=None, max_length=64)
    attachment_box: list[int] | None = Field(default=None, sa_type=JSON)
    status: str = Field(default="pending", index=True, max_length=10)  # pending sending sent failed dropped
    attempts: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None


class DeliveryAttempt(SQLModel, table=True):
    """Every try to deliver a notification: when, over which channel, and how it went."""

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    channel_label: str = Field(max_length=200)
    result: str = Field(max_length=10)  # sent failed
    error: str | None = None
    duration_ms: int = 0


class LoginAttempt(SQLModel, table=True):
    """Each time civicwatch submitted credentials to a site (to cap attempts, avoid lockouts)."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(index=True, max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    outcome: str = Field(max_length=16)  # ok refused blocked error
    #: keyed hash of the credentials used (never the credentials): a new password lifts a pause
    credentials: str = Field(max_length=32)
    run_id: str | None = Field(default=None, max_length=40)


class ScheduledRun(SQLModel, table=True):
    """The daemon's plan: when each account runs next (read by `civicwatch status`)."""

    account_id: str = Field(primary_key=True, max_length=64)
    schedule: str = Field(max_length=100)
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Heartbeat(SQLModel, table=True):
    """The running daemon's sign of life."""

    id: int = Field(default=1, primary_key=True)
    pid: int
    host: str = Field(max_length=200)
    version: str = Field(max_length=40)
    started_at: datetime = Field(sa_type=UTCDateTime)
    beat_at: datetime = Field(sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """The append-only, hash-chained audit log: who viewed, searched, exported, deleted what."""

    __table_args__ = (UniqueConstraint("prev_hash"),)

    seq: int = Field(primary_key=True)  # 1, 2, 3…; never reused
    at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40, index=True)
    target: str = Field(default="", max_length=500)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: the previous entry's hash (64 zeros for the first); unique, so the chain cannot fork
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class LegalHold(SQLModel, table=True):
    """A legal hold: nothing of the account is disposed of while it is active."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(index=True, max_length=64)
    case: str = Field(max_length=200)
    reason: str = ""
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    released_by: str | None = Field(default=None, max_length=200)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Manifest(SQLModel, table=True):
    """A run's signed manifest, a link in its account's hash chain. Never deleted."""

    __table_args__ = (UniqueConstraint("account_id", "seq"), UniqueConstraint("prev_hash"))

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(index=True, max_length=64)
    seq: int
    run_id: str = Field(unique=True, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    #: the canonical JSON that was hashed and signed, byte for byte
    body: str
    sha256: str = Field(unique=True, max_length=64)
    prev_hash: str = Field(max_length=64)
    signature: str = Field(max_length=200)  # base64 Ed25519 signature of body
    key_fingerprint: str = Field(max_length=80)
    tsa_status: str = Field(default="none", max_length=10)  # none pending stamped
    tsa_token: str | None = None  # base64 DER RFC 3161 TimeStampResp
    tsa_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: the run's records were disposed of under retention (see the audit entry)
    disposed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disposed_audit: int | None = None


class User(SQLModel, table=True):
    """A person who signs in to the portal. Only an Argon2id hash of the password is stored."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    role: str = Field(max_length=20)  # clerk supervisor admin
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its sha256 is stored."""

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class LinkCheck(SQLModel, table=True):
    """The latest fresh check of one URL (any account): the link-check cache."""

    url_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the URL
    url: str
    status: str = Field(max_length=10)  # ok broken skipped
    error_class: str | None = Field(default=None, max_length=30)
    message: str = ""
    http_status: int | None = None
    final_url: str | None = None
    redirects: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    elapsed_ms: int = 0
    method: str = Field(default="", max_length=8)
    checked_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountLink(SQLModel, table=True):
    """A link one account publishes, where it appears, and how its checks went run by run."""

    __table_args__ = (UniqueConstraint("account_id", "url_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(index=True, max_length=64)
    url_hash: str = Field(max_length=64)
    url: str
    #: subjects it appears in: post:ID, comment:ID, profile, page:URL
    sources: list[str] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(max_length=10)
    error_class: str | None = Field(default=None, max_length=30)
    message: str = ""
    http_status: int | None = None
    #: failed checks in a row, one per run (a link is reported broken at [links] failures_before_broken)
    consecutive_failures: int = 0
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_run_id: str = Field(max_length=40)
    last_checked_at: datetime = Field(sa_type=UTCDateTime)
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
