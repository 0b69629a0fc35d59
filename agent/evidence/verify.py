"""`civicwatch verify`: re-check every blob, signature, chain link and sealed record.

Flip one byte in a blob, a manifest or a database row and it is caught and named. What
retention deleted lawfully is recognised from the audit log's disposition entries.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from agent.evidence import tsa
from agent.evidence.manifests import artifact_facts, run_facts
from agent.evidence.signing import known_public_keys, valid
from agent.services import Services
from flows.base import Comment as CommentData
from flows.base import Post as PostData
from storage import audit
from storage import manifest as chain
from storage.blobs import BlobStore
from storage.models import AuditEntry, Comment, ItemVersion, Manifest, Post, ProfileVersion, Run


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Report:
    manifests: int = 0
    blobs: int = 0
    versions: int = 0
    items: int = 0
    audit_entries: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))


@dataclass
class _Disposed:
    """What retention deleted, according to the audit log."""

    runs: set[str] = field(default_factory=set)
    posts: set[tuple[str, str]] = field(default_factory=set)
    comments: set[tuple[str, str]] = field(default_factory=set)
    versions: set[tuple[str, str, str, int]] = field(default_factory=set)


def _disposed(session: Session) -> _Disposed:
    out = _Disposed()
    for entry in session.exec(select(AuditEntry).where(AuditEntry.action == "disposition")).all():
        account, d = entry.target, entry.details
        out.runs |= set(d.get("runs", []))
        out.posts |= {(account, p) for p in d.get("posts", [])}
        out.comments |= {(account, c) for c in d.get("comments", [])}
        out.versions |= {(account, v[0], v[1], int(v[2])) for v in d.get("version_ids", [])}
    return out


def content_hash_of(item_type: str, content: dict[str, Any]) -> str | None:
    """Recompute a stored version's hash from its stored content; None if unreadable."""
    try:
        if item_type == "post":
            return PostData.model_validate(content).content_hash()
        return CommentData.model_validate({k: v for k, v in content.items() if k != "post_id"}).content_hash()
    except ValidationError:
        return None


class Verifier:
    def __init__(self, services: Services, report: Report) -> None:
        self.services = services
        self.blobs: BlobStore = services.archive.blobs
        self.keys = known_public_keys(services.settings.agent.data_dir)
        self.report = report
        self.checked_blobs: dict[str, str | None] = {}

    def chain(self, s: Session, account: str, since: datetime | None, disposed: _Disposed) -> None:
        expected_prev, expected_seq = chain.genesis(account), 1
        for m in chain.chain(s, account):
            deep = since is None or m.created_at >= since
            self.manifest(s, m, expected_prev, expected_seq, disposed, deep)
            expected_prev, expected_seq = m.sha256, m.seq + 1

    def manifest(self, s: Session, m: Manifest, expected_prev: str, expected_seq: int, disposed: _Disposed,
                 deep: bool = True) -> None:
        """One link: its hash, its place in the chain, its signature, and (deep) what it sealed."""
        self.report.manifests += 1
        where = f"{m.account_id} manifest #{m.seq} (run {m.run_id})"
        data = m.body.encode("utf-8")
        if hashlib.sha256(data).hexdigest() != m.sha256:
            self.report.add(where, "its content does not match its recorded hash (the manifest was altered)")
        if m.seq != expected_seq:
            self.report.add(where, f"manifests #{expected_seq}…#{m.seq - 1} of the chain are missing")
        try:
            body: dict[str, Any] = json.loads(data)
        except ValueError:
            self.report.add(where, "is not readable JSON")
            body = {}
        if m.prev_hash != expected_prev or body.get("prev") != m.prev_hash:
            self.report.add(where, "breaks the hash chain: it does not follow the previous manifest")
        key = self.keys.get(m.key_fingerprint)
        if key is None:
            self.report.add(where, f"is signed with an unknown key {m.key_fingerprint}")
        elif not valid(key, base64.b64decode(m.signature), data):
            self.report.add(where, "its signature is not valid")
        if m.tsa_status == "stamped":
            self.timestamp(m, where)
        if body and deep:
            self.sealed_records(s, m, body, where, disposed)

    def timestamp(self, m: Manifest, where: str) -> None:
        try:
            token = tsa.parse(base64.b64decode(m.tsa_token or ""))
        except tsa.TimestampError as exc:
            self.report.add(where, f"its timestamp token is unreadable: {exc.message}")
            return
        if token.digest_hex != m.sha256:
            self.report.add(where, "its timestamp token is for a different manifest hash")
        ca = self.services.settings.evidence.tsa_ca_file
        if ca is not None:
            problem = tsa.openssl_verify(token.der, m.sha256, ca)
            if problem:
                self.report.add(where, f"its timestamp signature does not verify: {problem}")

    def sealed_records(self, s: Session, m: Manifest, body: dict[str, Any], where: str, disposed: _Disposed) -> None:
        run = s.get(Run, m.run_id)
        if run is None:
            if m.run_id not in disposed.runs:
                self.report.add(where, "its run row is missing (deleted other than by retention)")
            return
        facts = run_facts(run)
        changed = sorted(k for k, v in body.get("run", {}).items() if facts.get(k) != v)
        if changed:
            self.report.add(where, f"the run row differs from the sealed manifest in: {', '.join(changed)}")
        if artifact_facts(s, m.run_id) != body.get("artifacts", []):
            self.report.add(where, "the artifact rows differ from the sealed manifest")
        for art in body.get("artifacts", []):
            self.blob(art["sha256"], f"{where} {art['kind']}")
        for v in body.get("versions", []):
            self.version(s, m.account_id, v, where, disposed)
        profile = body.get("profile")
        if profile:
            row = s.exec(select(ProfileVersion).where(ProfileVersion.run_id == m.run_id)).first()
            if row is None or row.content_hash != profile["content_hash"]:
                self.report.add(where, "the profile version it recorded is missing or altered")

    def blob(self, sha256: str, where: str) -> None:
        if sha256 not in self.checked_blobs:
            self.report.blobs += 1
            self.checked_blobs[sha256] = self.blobs.check(sha256)
        problem = self.checked_blobs[sha256]
        if problem is not None:
            self.report.add(f"blob {sha256}", f"{problem} (the {where.split(' ')[-1]} of {where.rsplit(' ', 1)[0]})")

    def version(self, s: Session, account: str, v: dict[str, Any], where: str, disposed: _Disposed) -> None:
        self.report.versions += 1
        model = Post if v["type"] == "post" else Comment
        row = s.exec(select(ItemVersion).join(model, col(ItemVersion.item_id) == col(model.id))
                     .where(model.account_id == account, model.platform_id == v["id"],
                            ItemVersion.item_type == v["type"], ItemVersion.version == v["version"])).first()
        label = f"{v['type']} {v['id']} version {v['version']}"
        if row is None:
            gone = disposed.posts if v["type"] == "post" else disposed.comments
            if (account, v["id"]) not in gone and (account, v["type"], v["id"], v["version"]) not in disposed.versions:
                self.report.add(where, f"{label} is missing from the database")
            return
        if row.content_hash != v["content_hash"] or content_hash_of(v["type"], row.content) != v["content_hash"]:
            self.report.add(where, f"{label} was altered in the database")

    def current_items(self, s: Session, account: str | None) -> None:
        """Each post's and comment's current row must equal its latest sealed version."""
        for item_type, model in (("post", Post), ("comment", Comment)):
            stmt = select(model)
            if account:
                stmt = stmt.where(model.account_id == account)
            for item in s.exec(stmt).all():
                self.report.items += 1
                latest = s.exec(select(ItemVersion).where(ItemVersion.item_type == item_type,
                                                          ItemVersion.item_id == item.id)
                                .order_by(col(ItemVersion.version).desc()).limit(1)).first()
                if latest is None:
                    self.report.add(f"{item.account_id} {item_type} {item.platform_id}", "has no recorded version")
                elif (latest.content_hash != item.content_hash or latest.content.get("text") != item.text
                      or latest.content.get("author") != item.author):
                    self.report.add(f"{item.account_id} {item_type} {item.platform_id}",
                                    "its current row differs from its latest sealed version (altered)")

    def unsealed_runs(self, s: Session, account: str | None) -> None:
        sealed = set(s.exec(select(Manifest.run_id)).all())
        stmt = select(Run).where(col(Run.status) != "running")
        if account:
            stmt = stmt.where(Run.account_id == account)
        for run in s.exec(stmt).all():
            if run.id not in sealed:
                self.report.add(f"{run.account_id} run {run.id}", "has no sealed manifest (added outside civicwatch?)")


def verify_run(services: Services, run_id: str) -> Report:
    """Verify one capture: its manifest, its link to the previous one, and what it sealed."""
    report = Report()
    verifier = Verifier(services, report)
    with services.db.session() as s:
        m = s.exec(select(Manifest).where(Manifest.run_id == run_id)).first()
        if m is None:
            report.add(f"run {run_id}", "has no sealed manifest")
            return report
        previous = s.exec(select(Manifest).where(Manifest.account_id == m.account_id,
                                                 Manifest.seq == m.seq - 1)).first()
        expected = previous.sha256 if previous else chain.genesis(m.account_id)
        verifier.manifest(s, m, expected, m.seq, _disposed(s))
    return report


def verify_archive(services: Services, account: str | None = None, since: datetime | None = None) -> Report:
    """Verify the archive (or one account's part of it, or what was sealed since a time)."""
    report = Report()
    verifier = Verifier(services, report)
    with services.db.session() as s:
        disposed = _disposed(s)
        accounts = [account] if account else sorted(set(chain.accounts(s)) | set(s.exec(select(Run.account_id)).all()))
        for name in accounts:
            verifier.chain(s, name, since, disposed)
        verifier.unsealed_runs(s, account)
        verifier.current_items(s, account)
        report.audit_entries = len(s.exec(select(AuditEntry.seq)).all())
        for problem in audit.verify(s):
            report.add(f"audit log entry {problem.seq}", problem.problem)
    return report
