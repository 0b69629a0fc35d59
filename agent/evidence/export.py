"""Evidence packages: everything a records request or a subpoena needs, verifiable by anyone.

A package is a zip of the selected runs' artifacts (byte for byte), their signed manifests
and the chain segment linking them, the public key, every version of the posts and comments
(edited and deleted ones too) as JSON and CSV, the findings, a custody record, a README for
the recipient, a standalone verification script, and SHA256SUMS over all of it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import socket
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from agent import __version__
from agent.errors import CivicwatchError
from agent.evidence.signing import known_public_keys, public_pem
from agent.services import Services
from storage import audit
from storage.clock import utcnow
from storage.models import Artifact, Comment, Finding, ItemVersion, Manifest, Post, Run

VERIFY_SCRIPT = Path(__file__).with_name("verify_package.py")
README = Path(__file__).with_name("package_readme.txt")
_EXTENSIONS = {"image/png": "png", "application/json": "json", "application/warc": "warc.gz",
               "text/html; charset=utf-8": "html", "image/svg+xml": "svg"}


class ExportError(CivicwatchError):
    code = "export"


@dataclass(frozen=True)
class ExportRequest:
    account_id: str
    out: Path
    by: str
    reason: str
    case: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    finding_id: int | None = None
    wacz: bool = False


@dataclass
class ExportResult:
    path: Path
    sha256: str
    runs: int
    files: int
    problems: list[str] = field(default_factory=list)


class _Zip:
    """Writes files into the zip, remembering their sha256 for SHA256SUMS."""

    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.sums: dict[str, str] = {}

    def add(self, name: str, data: bytes) -> None:
        if name in self.sums:
            return
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, data)
        self.sums[name] = hashlib.sha256(data).hexdigest()

    def close(self) -> None:
        self.add("SHA256SUMS", "".join(f"{digest}  {name}\n" for name, digest in sorted(self.sums.items())).encode())
        self.zip.close()


def _runs(s: Session, req: ExportRequest) -> tuple[list[Run], list[Finding]]:
    if req.finding_id is not None:
        finding = s.get(Finding, req.finding_id)
        if finding is None or finding.account_id != req.account_id:
            raise ExportError(f"finding {req.finding_id} is not a finding of {req.account_id}")
        ids = {finding.evidence_run_id, finding.last_run_id}
        runs = list(s.exec(select(Run).where(col(Run.id).in_(ids)).order_by(col(Run.started_at))).all())
        return runs, [finding]
    stmt = select(Run).where(Run.account_id == req.account_id, col(Run.status) != "running")
    if req.since:
        stmt = stmt.where(col(Run.started_at) >= req.since)
    if req.until:
        stmt = stmt.where(col(Run.started_at) < req.until)
    runs = list(s.exec(stmt.order_by(col(Run.started_at))).all())
    run_ids = [r.id for r in runs]
    findings = list(s.exec(select(Finding).where(Finding.account_id == req.account_id,
                                                 col(Finding.evidence_run_id).in_(run_ids))).all())
    return runs, findings


def _records(s: Session, account_id: str, run_ids: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every version of every post and comment that appears in the selected runs."""
    out: dict[str, list[dict[str, Any]]] = {"post": [], "comment": []}
    for item_type, model in (("post", Post), ("comment", Comment)):
        items = {i.id: i for i in s.exec(select(model).where(model.account_id == account_id)).all()}
        versions = s.exec(select(ItemVersion).where(ItemVersion.item_type == item_type,
                                                    col(ItemVersion.item_id).in_(list(items)))
                          .order_by(col(ItemVersion.item_id), col(ItemVersion.version))).all()
        touched = {v.item_id for v in versions if v.run_id in run_ids}
        touched |= {i.id for i in items.values() if i.last_seen_run in run_ids or i.gone_run in run_ids}
        for v in versions:
            item = items[v.item_id]
            if v.item_id not in touched:
                continue
            latest = v.version == item.version_count
            status = "deleted" if item.gone_at and latest else ("current" if latest else "superseded")
            out[item_type].append({
                "id": item.platform_id, "version": v.version, "versions": item.version_count, "status": status,
                "author": v.content.get("author"), "publisher": v.content.get("publisher"),
                "posted_at": v.content.get("time"), "text": v.content.get("text"),
                "links": v.content.get("links", []), "visitor": v.content.get("visitor"),
                "post_id": v.content.get("post_id"), "content_hash": v.content_hash,
                "captured_in_run": v.run_id, "seen_at": v.seen_at.isoformat(),
                "first_seen_at": item.first_seen_at.isoformat(), "last_seen_at": item.last_seen_at.isoformat(),
                "deleted_at": item.gone_at.isoformat() if item.gone_at else None,
            })
    return out["post"], out["comment"]


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).encode("utf-8")


def export(services: Services, req: ExportRequest) -> ExportResult:
    """Write the package, record the custody in the audit log, return its sha256."""
    if not req.reason.strip():
        raise ExportError("an export needs a reason (a records request number, a case, …)")
    if req.out.exists():
        raise ExportError(f"{req.out} exists; choose a new file name")
    blobs = services.archive.blobs
    keys = known_public_keys(services.settings.agent.data_dir)
    with services.db.session() as s:
        runs, findings = _runs(s, req)
        if not runs:
            raise ExportError(f"no captures of {req.account_id} in that range")
        run_ids = {r.id for r in runs}
        manifests = list(s.exec(select(Manifest).where(col(Manifest.run_id).in_(run_ids)).order_by(col(Manifest.seq))).all())
        chain = list(s.exec(select(Manifest).where(Manifest.account_id == req.account_id,
                                                   col(Manifest.seq) >= manifests[0].seq,
                                                   col(Manifest.seq) <= manifests[-1].seq)
                            .order_by(col(Manifest.seq))).all()) if manifests else []
        artifacts = list(s.exec(select(Artifact).where(col(Artifact.run_id).in_(run_ids))).all())
        posts, comments = _records(s, req.account_id, run_ids)
    req.out.parent.mkdir(parents=True, exist_ok=True)
    pkg = _Zip(req.out)
    try:
        links = []
        for m in chain:
            stem = f"manifests/{m.seq:06d}-{m.run_id}"
            pkg.add(f"{stem}.json", m.body.encode("utf-8"))
            pkg.add(f"{stem}.sig", base64.b64decode(m.signature))
            if m.tsa_token:
                pkg.add(f"{stem}.tsr", base64.b64decode(m.tsa_token))
            in_range = m.run_id in run_ids
            files: dict[str, str] = {}
            for art in (a for a in artifacts if a.run_id == m.run_id) if in_range else ():
                name = f"artifacts/{m.run_id}/{art.kind}-{art.sha256[:12]}.{_EXTENSIONS.get(art.media_type, 'bin')}"
                pkg.add(name, blobs.get(art.sha256))
                files[art.sha256] = name
            links.append({"seq": m.seq, "run_id": m.run_id, "sha256": m.sha256, "file": f"{stem}.json",
                          "signature": f"{stem}.sig", "timestamp": f"{stem}.tsr" if m.tsa_token else None,
                          "disposed": m.disposed_at is not None, "artifacts_included": in_range,
                          "artifacts": files})
        for fingerprint, key in keys.items():
            pkg.add(f"public_keys/{fingerprint.removeprefix('SHA256:')[:16]}.pem", public_pem(key))
        pkg.add("chain.json", _json({
            "account": req.account_id,
            "starts_after": chain[0].prev_hash if chain else None,
            "manifests": links,
            "public_keys": [{"fingerprint": fp, "file": f"public_keys/{fp.removeprefix('SHA256:')[:16]}.pem"}
                            for fp in keys],
        }))
        pkg.add("records/posts.json", _json(posts))
        pkg.add("records/posts.csv", _csv(posts))
        pkg.add("records/comments.json", _json(comments))
        pkg.add("records/comments.csv", _csv(comments))
        pkg.add("records/findings.json", _json([f.model_dump(mode="json") for f in findings]))
        pkg.add("records/runs.csv", _csv([{k: v for k, v in r.model_dump(mode="json").items()} for r in runs]))
        if req.wacz:
            pkg.add("archive.wacz", _wacz(blobs, [a for a in artifacts if a.kind == "warc"], req.account_id))
        now = utcnow()
        pkg.add("custody.json", _json({
            "exported_by": req.by, "exported_at": now.isoformat(), "reason": req.reason, "case": req.case,
            "account": req.account_id, "since": req.since, "until": req.until, "finding": req.finding_id,
            "runs": sorted(run_ids), "manifests": len(chain), "software": f"civicwatch {__version__}",
            "host": socket.gethostname(), "operator": services.settings.agent.operator,
        }))
        pkg.add("README.txt", README.read_bytes())
        pkg.add("verify_package.py", VERIFY_SCRIPT.read_bytes())
    finally:
        pkg.close()
    digest = hashlib.sha256(req.out.read_bytes()).hexdigest()
    audit.append(services.db, req.by, "export", req.account_id, {
        "reason": req.reason, "case": req.case, "file": req.out.name, "sha256": digest, "runs": len(runs),
        "finding": req.finding_id, "since": req.since, "until": req.until,
    })
    return ExportResult(req.out, digest, len(runs), len(pkg.sums))


def _wacz(blobs: Any, warcs: list[Artifact], account_id: str) -> bytes:
    """The runs' WARC files packaged as one WACZ (needs the optional `wacz` package)."""
    try:
        from wacz.main import main as wacz_main
    except ImportError as exc:
        raise ExportError("WACZ export needs the optional package: pip install 'civicwatch[wacz]'") from exc
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for art in warcs:
            path = Path(tmp) / f"{art.run_id}.warc.gz"
            path.write_bytes(blobs.get(art.sha256))
            inputs.append(str(path))
        if not inputs:
            raise ExportError("no WARC records in the selected captures (was [evidence] warc off?)")
        out = Path(tmp) / "archive.wacz"
        code = wacz_main(["create", "-o", str(out), "--title", f"civicwatch {account_id}", "-d", *inputs])
        if code not in (0, None) or not out.exists():
            raise ExportError(f"the wacz tool failed (exit {code})")
        return out.read_bytes()

