"""Integrity of the archive: signed manifests, hash chains, and tamper detection for every kind of record."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from warcio.archiveiterator import ArchiveIterator

from agent.evidence.verify import Report, verify_archive
from agent.services import Services, open_services
from agent.settings import load_settings
from storage.models import Manifest
from tests.agent.evidence.conftest import Tsa
from tests.conftest import edit_config, run_cli


def verified(config: Path, **kwargs: object) -> Report:
    services = open_services(load_settings(config))
    try:
        return verify_archive(services, **kwargs)  # type: ignore[arg-type]
    finally:
        services.close()


def sql(config: Path, statement: str) -> None:
    services = open_services(load_settings(config))
    with services.db.engine.begin() as conn:
        conn.execute(text(statement))
    services.close()


def only(report: Report) -> list[str]:
    return [str(p) for p in report.problems]


def test_an_untouched_archive_verifies_and_the_cli_says_so(archive: Path) -> None:
    report = verified(archive)
    assert report.ok, only(report)
    assert report.manifests == 2 and report.blobs >= 10 and report.versions >= 13
    result = run_cli("--config", str(archive), "verify")
    assert result.exit_code == 0 and "the archive verifies" in result.stdout


def test_every_run_has_a_signed_manifest_in_a_chain(archive: Path) -> None:
    services: Services = open_services(load_settings(archive))
    with services.db.session() as s:
        first, second = s.exec(text("SELECT body, sha256, prev_hash FROM manifest ORDER BY seq")).all()
    services.close()
    body = json.loads(second[0])
    assert body["prev"] == first[1] and body["account"] == "library" and body["seq"] == 2
    assert body["run"]["status"] == "ok" and body["run"]["browser_version"]
    assert {a["kind"] for a in body["artifacts"]} >= {"screenshot", "dom", "snapshot", "warc", "visitor_screenshot"}
    assert body["versions"] and body["gone"]["posts"] and body["run"]["rules_version"]
    keys = run_cli("--config", str(archive), "keys", "show").stdout
    assert keys.startswith("fingerprint: SHA256:") and "BEGIN PUBLIC KEY" in keys
    assert body["key"] == keys.splitlines()[0].removeprefix("fingerprint: ")


def flip_byte(path: Path, offset: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def blob_path(config: Path, kind: str) -> tuple[str, Path]:
    services = open_services(load_settings(config))
    with services.db.engine.connect() as conn:
        sha = conn.execute(text(f"SELECT sha256 FROM artifact WHERE kind = '{kind}' LIMIT 1")).scalar_one()
    services.close()
    return sha, services.archive.blobs.path(sha)


@pytest.mark.parametrize("kind", ["screenshot", "dom", "snapshot", "warc", "visitor_screenshot", "avatar"])
def test_a_flipped_byte_in_any_artifact_is_named(archive: Path, kind: str) -> None:
    sha, path = blob_path(archive, kind)
    flip_byte(path, offset=min(100, path.stat().st_size - 1))
    problems = only(verified(archive))
    assert problems and all(sha in p for p in problems)
    assert any(f"content does not match its sha256 (the {kind} of library manifest" in p for p in problems)
    cli = run_cli("--config", str(archive), "verify")
    assert cli.exit_code == 1 and sha in cli.stdout


TAMPERING: dict[str, tuple[str, str]] = {
    "manifest body": ("UPDATE manifest SET body = replace(body, '\"status\":\"ok\"', '\"status\":\"OK\"') WHERE seq = 1",
                      "library manifest #1"),
    "run row": ("UPDATE run SET final_url = 'http://elsewhere.example/' WHERE id = (SELECT min(id) FROM run)",
                "the run row differs from the sealed manifest in: final_url"),
    "artifact row": ("UPDATE artifact SET size = size + 1 WHERE kind = 'dom'",
                     "the artifact rows differ from the sealed manifest"),
    "sealed version": ("UPDATE itemversion SET content = replace(content, 'Story time', 'Story hour') "
                       "WHERE content LIKE '%Story time%'", "was altered in the database"),
    "current post": ("UPDATE post SET text = 'nothing to see here' WHERE id = 3",
                     "its current row differs from its latest sealed version"),
    "deleted run": ("DELETE FROM artifact WHERE run_id = (SELECT min(id) FROM run); "
                    "DELETE FROM capture WHERE run_id = (SELECT min(id) FROM run)",
                    "the artifact rows differ from the sealed manifest"),
    "deleted manifest": ("DELETE FROM manifest WHERE seq = 1", "manifests #1…#1 of the chain are missing"),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_a_changed_database_row_is_caught_and_named(archive: Path, what: str) -> None:
    statements, expected = TAMPERING[what]
    for statement in statements.split("; "):
        sql(archive, statement)
    problems = only(verified(archive))
    assert any(expected in p for p in problems), problems


def test_a_new_signature_does_not_hide_an_altered_manifest(archive: Path) -> None:
    """Re-hashing an altered manifest and storing the new hash still breaks the next link."""
    services = open_services(load_settings(archive))
    with services.db.session() as s:
        first = s.get(Manifest, 1)
        assert first is not None
        first.body = first.body.replace('"status":"ok"', '"status":"failed"')
        import hashlib

        first.sha256 = hashlib.sha256(first.body.encode()).hexdigest()
        first.signature = base64.b64encode(services.signer.sign(first.body.encode())).decode()
        s.add(first)
    services.close()
    problems = only(verified(archive))
    assert any("library manifest #2" in p and "breaks the hash chain" in p for p in problems)


def test_the_warc_holds_the_pages_traffic_and_who_captured_it(archive: Path) -> None:
    _, path = blob_path(archive, "warc")
    records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.http_headers, r.content_stream().read())
               for r in ArchiveIterator(path.open("rb"))]
    kind, _, _, info = records[0]
    assert kind == "warcinfo"
    assert b"software: civicwatch/" in info and b"hostname:" in info and b"http-header-user-agent:" in info
    pages = [(h, body) for k, url, h, body in records if k == "response" and url.endswith("/p/library")]
    assert pages and pages[0][0].get_statuscode() == "200" and b"Story time" in pages[0][1]
    login = [body for k, url, _, body in records if k == "request" and url.endswith("/login")]
    assert login and all(b"library-demo-pass" not in body for body in login)
    cookies = [h.get_header(name) for _, _, h, _ in records if h for name in ("Cookie", "Set-Cookie") if h.get_header(name)]
    assert cookies and set(cookies) == {"[redacted by civicwatch]"}


def test_lawful_disposition_still_verifies(archive: Path) -> None:
    text_ = archive.read_text() + '\n[retention]\ndefault = "1s"\n'
    archive.write_text(text_)
    services = open_services(load_settings(archive))
    from datetime import timedelta

    from agent.retention import run_disposition
    from storage.clock import utcnow

    results = run_disposition(services, utcnow() + timedelta(days=1))
    services.close()
    [result] = [r for r in results if r.account_id == "library"]
    assert result.posts and result.version_ids
    report = verified(archive)
    assert report.ok, only(report)


def test_timestamps_are_pending_while_the_tsa_is_down_and_stamped_later(archive: Path, tsa: Tsa) -> None:
    edit_config(archive, "[browser]", f'[evidence]\ntsa_url = "{tsa.url}"\ntsa_ca_file = "{tsa.ca_file}"\n\n[browser]')
    tsa.down = True
    assert run_cli("--config", str(archive), "check", "library").exit_code == 0
    services = open_services(load_settings(archive))
    with services.db.session() as s:
        assert s.exec(text("SELECT tsa_status FROM manifest WHERE seq = 3")).scalar_one() == "pending"
    services.close()
    stamp: Callable[[], object] = lambda: run_cli("--config", str(archive), "evidence", "stamp")  # noqa: E731
    assert stamp().exit_code == 1  # type: ignore[attr-defined]
    tsa.down = False
    result = stamp()
    assert result.exit_code == 0 and "stamped 1" in result.stdout  # type: ignore[attr-defined]
    report = verified(archive)
    assert report.ok, only(report)
    services = open_services(load_settings(archive))
    with services.db.session() as s:
        token, digest = s.exec(text("SELECT tsa_token, sha256 FROM manifest WHERE seq = 3")).one()
    services.close()
    reply = archive.parent / "token.tsr"
    reply.write_bytes(base64.b64decode(token))
    openssl = subprocess.run(["openssl", "ts", "-verify", "-digest", digest, "-in", str(reply),
                              "-CAfile", str(tsa.ca_file)], capture_output=True, text=True)
    assert openssl.returncode == 0 and "Verification: OK" in openssl.stdout
