"""RFC 3161 trusted timestamps over manifest hashes, from the city's chosen Time Stamping Authority.

A timestamp proves the manifest existed at that time, independently of this server's
clock. When the TSA cannot be reached the manifest stays ``pending`` and is stamped later
(the daemon retries; so does ``civicwatch evidence stamp``). Anyone can check a token with
``openssl ts -verify -digest <manifest sha256> -in <token>.tsr -CAfile <tsa-ca>.pem``.
"""

from __future__ import annotations

import base64
import logging
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from asn1crypto import algos, cms, tsp
from sqlmodel import col, select

from agent.errors import CivicwatchError
from agent.services import Services
from storage.models import Manifest

log = logging.getLogger(__name__)
QUERY_TYPE = "application/timestamp-query"


class TimestampError(CivicwatchError):
    code = "timestamp"


def request(digest_hex: str, nonce: int) -> bytes:
    """A DER TimeStampReq for a sha256 digest, asking for the TSA's certificate; pure."""
    imprint = tsp.MessageImprint({"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                                  "hashed_message": bytes.fromhex(digest_hex)})
    return tsp.TimeStampReq({"version": "v1", "message_imprint": imprint, "nonce": nonce,
                             "cert_req": True}).dump()


@dataclass(frozen=True)
class Token:
    der: bytes  # the whole TimeStampResp, as received
    time: datetime
    digest_hex: str


def parse(der: bytes, nonce: int | None = None) -> Token:
    """Read a TimeStampResp; raise TimestampError when it was refused or is malformed."""
    try:
        response = tsp.TimeStampResp.load(der)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = response["status"]["status_string"].native
            raise TimestampError(f"the TSA refused the request: {status} {text or ''}".strip())
        signed = response["time_stamp_token"]["content"]
        if not isinstance(signed, cms.SignedData):
            raise TimestampError("the TSA's answer holds no signed token")
        info = signed["encap_content_info"]["content"].parsed
        if nonce is not None and info["nonce"].native != nonce:
            raise TimestampError("the TSA's answer is for another request (nonce mismatch)")
        return Token(der, info["gen_time"].native, info["message_imprint"]["hashed_message"].native.hex())
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"the TSA's answer is not a valid RFC 3161 response: {exc}") from exc


def stamp(url: str, digest_hex: str, timeout: float) -> Token:
    """Ask the TSA to stamp a digest."""
    nonce = secrets.randbits(62)
    try:
        response = httpx.post(url, content=request(digest_hex, nonce), headers={"Content-Type": QUERY_TYPE},
                              timeout=timeout)
    except httpx.HTTPError as exc:
        raise TimestampError(f"the TSA at {url} cannot be reached: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise TimestampError(f"the TSA at {url} answered HTTP {response.status_code}")
    token = parse(response.content, nonce)
    if token.digest_hex != digest_hex:
        raise TimestampError("the TSA stamped a different digest")
    return token


def stamp_pending(services: Services, limit: int = 200) -> tuple[int, int]:
    """Stamp manifests still waiting for a timestamp; returns (stamped, still pending)."""
    settings = services.settings.evidence
    if settings.tsa_url is None:
        return 0, 0
    with services.db.session() as s:
        pending = list(s.exec(select(Manifest).where(Manifest.tsa_status == "pending")
                              .order_by(col(Manifest.id)).limit(limit)).all())
    stamped = 0
    for manifest in pending:
        try:
            token = stamp(settings.tsa_url, manifest.sha256, settings.tsa_timeout.total_seconds())
        except TimestampError as exc:
            log.warning("timestamp still pending for %s manifest #%d: %s", manifest.account_id, manifest.seq, exc)
            break  # the TSA is down: try the rest later
        with services.db.session() as s:
            row = s.get(Manifest, manifest.id)
            assert row is not None
            row.tsa_status, row.tsa_token, row.tsa_at = "stamped", base64.b64encode(token.der).decode(), token.time
            s.add(row)
        stamped += 1
    return stamped, len(pending) - stamped


def openssl_verify(token_der: bytes, digest_hex: str, ca_file: Path) -> str | None:
    """Check the token's signature with `openssl ts -verify`; None if valid, else why not."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return "openssl is not installed; the token's signature was not checked"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "token.tsr"
        path.write_bytes(token_der)
        result = subprocess.run([openssl, "ts", "-verify", "-digest", digest_hex, "-in", str(path),
                                 "-CAfile", str(ca_file)], capture_output=True, text=True, timeout=30, check=False)
    return None if result.returncode == 0 else (result.stderr.strip().splitlines() or ["verification failed"])[0]

