"""After the browser: store a capture, detect against its history, record findings.

Blobs are made durable first; then one transaction writes the capture's rows, the
posts and comments (marking gone ones), the profile, the findings and the run's final
state. A crash between the two leaves blobs without rows (harmless), never rows
without blobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from agent.alerts.alerter import Alerter, consecutive_failures
from agent.detect.pipeline import AccountPolicy, Detection, History, detect, detect_failure
from agent.detect.config import OPERATIONAL_KINDS, PolicySettings
from agent.detect.content.rules import ContentRules
from agent.detect.links import broken_links, link_subject
from agent.detect.model import EVENT_KINDS
from agent.links import LinkOutcome, record_outcome
from agent.evidence.manifests import seal
from agent.errors import CivicwatchError
from agent.records import observations, profile_input
from agent.redact import redact
from agent.services import Services
from agent.settings import Account
from flows.base import Artifact, CaptureResult, LoginOutcome, VisitorCapture
from storage import findings
from storage import links as link_store
from storage.archive import ArtifactInput, CaptureInput, ProfileInput
from storage.clock import utcnow
from storage.models import Finding, Run

_VIEW_OF_KIND = {"visitor_screenshot": "visitor", "visitor_dom": "visitor", "settings": "settings"}
AUTO_RESOLVER = "civicwatch"


@dataclass
class Captured:
    """What the browser produced for one run, before anything is stored."""

    result: CaptureResult
    login: LoginOutcome
    visitor: VisitorCapture | None
    visitor_error: str | None
    #: the capture's network traffic as a WARC file
    warc: Artifact | None = None
    #: the published links and how their checks went
    links: LinkOutcome | None = None


@dataclass
class RunReport:
    """The outcome of one run, as `check --json` prints it."""

    run_id: str
    account: str
    status: str
    error: str | None = None
    error_code: str | None = None
    captures: list[dict[str, Any]] = field(default_factory=list)
    posts_seen: int = 0
    posts_new: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, int] = field(default_factory=lambda: {"checked": 0, "broken": 0, "skipped": 0})
    #: what the capture could not do whole (a feed that stopped growing, a page left out, a
    #: screenshot cut short); the run still succeeded
    warnings: list[str] = field(default_factory=list)
    #: wall seconds per phase of the run (agent.timings.PHASES), set once the run is stored
    phases: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "account": self.account,
            "status": self.status,
            "error": self.error,
            "error_code": self.error_code,
            "captures": self.captures,
            "posts_seen": self.posts_seen,
            "posts_new": self.posts_new,
            "findings": self.findings,
            "links": self.links,
            "warnings": self.warnings,
            "phases": self.phases,
        }


def account_policy(account: Account, policy: PolicySettings) -> AccountPolicy:
    """The detection view of an account's settings; pure."""
    return AccountPolicy(
        account_id=account.id,
        name=account.name,
        authorized_authors=tuple(account.authorized_authors),
        public_posting=account.public_posting,
        public_comments=account.public_comments,
        policy=policy,
        pages=account.platform == "website",
    )


def finding_json(recorded: findings.Recorded) -> dict[str, Any]:
    f = recorded.finding
    return {"id": f.id, "kind": f.kind, "severity": f.severity, "subject": f.subject,
            "summary": f.summary, "status": f.status, "change": recorded.change}


class Recorder:
    """Turns captures and failures into stored evidence and findings."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.archive = services.archive
        self.settings = services.settings
        self.rules = ContentRules(services.settings.rules)
        self.alerter = Alerter(services.settings, services.archive.blobs)

    # -- success -----------------------------------------------------------------------

    def success(self, run: Run, account: Account, captured: Captured) -> RunReport:
        """Store a completed capture and its findings."""
        snapshot = captured.result.snapshot.model_copy(
            update={
                "visitor": captured.visitor.view if captured.visitor else None,
                "session_reused": captured.login is LoginOutcome.REUSED,
                "warnings": captured.result.snapshot.warnings
                + (captured.visitor.warnings if captured.visitor else ())
                + ((f"visitor view failed: {captured.visitor_error}",) if captured.visitor_error else ()),
            }
        )
        artifacts = list(captured.result.artifacts)
        artifacts += captured.visitor.artifacts if captured.visitor else []
        artifacts += [captured.warc] if captured.warc else []
        artifacts.append(Artifact("snapshot", "application/json", snapshot.to_json_bytes(), snapshot.final_url))
        captures = self._store_blobs(artifacts)
        policy = account_policy(account, self.settings.policy)
        detection = detect(snapshot, self.history(account.id), policy, self.rules)
        posts, comments = observations(snapshot)
        now = utcnow()
        archive = self.archive
        with archive.db.session() as session:
            archive.record_captures(session, run.id, captures)
            post_changes = archive.record_items(
                session, run.id, account.id, "post", posts, detection.gone_posts, now
            )
            archive.record_items(session, run.id, account.id, "comment", comments, detection.gone_comments, now)
            if detection.structure_ok:  # an unreadable page says nothing about the profile
                archive.record_profile(session, run.id, account.id, profile_input(snapshot), now)
            finished = archive.complete_run(
                session, run.id, status="ok", final_url=snapshot.final_url,
                browser_version=snapshot.browser_version, user_agent=snapshot.user_agent,
                viewport=f"{snapshot.viewport[0]}x{snapshot.viewport[1]}",
                session_reused=snapshot.session_reused, feed_complete=snapshot.feed_complete,
                posts_seen=len(posts), posts_new=len(post_changes.new),
                snapshot_sha256=artifacts[-1].sha256, rules_version=self.rules.version,
            )
            if captured.links is not None:
                self._link_findings(session, run.id, policy, captured.links, detection)
            recorded = self._record_findings(session, run.id, account.id, detection)
            self.seal(session, finished, now)
        return RunReport(
            run_id=run.id, account=account.id, status="ok",
            captures=[_capture_json(c) for c in captures],
            posts_seen=len(posts), posts_new=len(post_changes.new),
            findings=[finding_json(r) for r in recorded],
            links=captured.links.counts() if captured.links else {"checked": 0, "broken": 0, "skipped": 0},
            warnings=list(snapshot.warnings),
        )

    def _link_findings(
        self, session: Session, run_id: str, policy: AccountPolicy, outcome: LinkOutcome, detection: Detection
    ) -> None:
        """Record the run's link results; broken_link findings for links failing long enough."""
        outcome.states = record_outcome(session, policy.account_id, run_id, outcome)
        threshold = self.settings.links.failures_before_broken
        detection.drafts += broken_links(outcome.states, policy, threshold)
        detection.judged |= {link_subject(u) for u, r in outcome.results.items() if r.status != "skipped"}
        if detection.structure_ok:
            # A link whose posts were all seen (or seen gone) without it is no longer published.
            judged = detection.judged | {"profile"}
            gone = link_store.mark_unpublished(session, policy.account_id, outcome.results,
                                               lambda row: not all(s in judged for s in row.sources), run_id)
            detection.judged |= {link_subject(row.url) for row in gone}

    def seal(self, session: Session, run: Run, now: datetime) -> None:
        """Sign the run's manifest into its account's chain, in the run's own transaction."""
        settings = self.settings
        seal(session, run, self.services.signer, settings.agent.operator, settings.evidence.tsa_url is not None, now)

    def interrupted(self, run_id: str, reason: str) -> None:
        """Record a run that could not finish, and seal what it established."""
        now = utcnow()
        with self.archive.db.session() as session:
            run = self.archive.complete_run(session, run_id, status="interrupted", error=reason)
            self.seal(session, run, now)

    def history(self, account_id: str) -> History:
        """What earlier runs recorded for the account."""
        last = self.archive.last_profile(account_id)
        profile = None
        if last is not None:
            profile = ProfileInput(last.name, last.bio, tuple(last.links), last.avatar_sha256, last.content_hash)
        return History(
            posts=self.archive.known_items(account_id, "post"),
            comments=self.archive.known_items(account_id, "comment"),
            profile=profile,
        )

    def _record_findings(
        self, session: Session, run_id: str, account_id: str, detection: Detection
    ) -> list[findings.Recorded]:
        """Findings, cleared conditions, automatic recovery, and their alerts: one transaction."""
        now = utcnow()
        recorded = findings.record(session, account_id, run_id, detection.drafts, now)

        def judged(row: Finding) -> bool:
            return row.kind not in EVENT_KINDS and row.subject in detection.judged

        seen = [d.fingerprint for d in detection.drafts]
        recovered = []
        for row in findings.clear_unseen(session, account_id, run_id, seen, judged, now):
            if row.kind in OPERATIONAL_KINDS and row.status != "resolved":
                recovered.append(
                    findings.resolve(session, row.id or 0, AUTO_RESOLVER, f"passed again in run {run_id}", now)
                )
        self.alerter.on_findings(session, recorded, consecutive_failures=0, now=now)
        self.alerter.on_recovered(session, recovered, run_id, now)
        return recorded

    def _store_blobs(self, artifacts: list[Artifact]) -> list[CaptureInput]:
        """Write every artifact durably, grouped into captures by view (and by page for websites)."""
        views: dict[tuple[str, str | None], list[ArtifactInput]] = {}
        urls: dict[tuple[str, str | None], str | None] = {}
        for art in artifacts:
            stored = self.archive.put_blob(art.data, art.media_type)
            view = art.view or _VIEW_OF_KIND.get(art.kind, "owner")
            key = (view, art.url if art.view == "page" else None)
            views.setdefault(key, []).append(
                ArtifactInput(art.kind, art.media_type, stored.sha256, stored.size, art.url)
            )
            if art.kind in ("screenshot", "visitor_screenshot", "settings"):
                urls[key] = art.url
        return [CaptureInput(key[0], urls.get(key) or "", urls.get(key), arts) for key, arts in views.items()]

    # -- failure -----------------------------------------------------------------------

    def failure(self, run: Run, account: Account, exc: CivicwatchError) -> RunReport:
        """Record a failed run and its login_failed / capture_failed finding."""
        message = redact(exc.message)
        draft = detect_failure(account_policy(account, self.settings.policy), exc.code, message)
        now = utcnow()
        with self.archive.db.session() as session:
            recorded = findings.record(session, account.id, run.id, [draft], now)
            finished = self.archive.complete_run(session, run.id, status="failed", error=message,
                                                 error_code=exc.code)
            self.seal(session, finished, now)
            failures = consecutive_failures(session, account.id)
            self.alerter.on_findings(session, recorded, consecutive_failures=failures, now=now)
        return RunReport(
            run_id=run.id, account=account.id, status="failed", error=message, error_code=exc.code,
            findings=[finding_json(r) for r in recorded],
        )


def _capture_json(capture: CaptureInput) -> dict[str, Any]:
    return {
        "view": capture.view,
        "url": capture.final_url or capture.url,
        "artifacts": [{"kind": a.kind, "sha256": a.sha256, "bytes": a.size} for a in capture.artifacts],
    }
