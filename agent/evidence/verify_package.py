#!/usr/bin/env python3
"""Verify a civicwatch evidence package, offline, without civicwatch.

    python3 verify_package.py [PACKAGE.zip | UNZIPPED_DIRECTORY]

Checks that every file matches SHA256SUMS; that every manifest's sha256 is the one the
chain lists and that each manifest names the previous one; that every manifest's Ed25519
signature verifies with the package's public key; and that every artifact a manifest lists
is in the package with exactly that sha256. Needs only Python 3.9+ (it uses the
`cryptography` package when installed, else a built-in RFC 8032 implementation).
Exit status: 0 when everything verifies, 1 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from pathlib import Path

# --- Ed25519 verification (RFC 8032, section 5.1.7), used only without `cryptography` ---

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_I = pow(2, (_P - 1) // 4, _P)


def _recover_x(y: int, sign: int) -> int | None:
    xx = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    x = pow(xx, (_P + 3) // 8, _P)
    if (x * x - xx) % _P:
        x = x * _I % _P
    if (x * x - xx) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return None if x == 0 and sign else x


def _point(data: bytes) -> tuple[int, int, int, int] | None:
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign) if y < _P else None
    return None if x is None else (x, y, 1, x * y % _P)


def _add(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa, bb = (y1 - x1) * (y2 - x2) % _P, (y1 + x1) * (y2 + x2) % _P
    cc, dd = 2 * t1 * t2 * _D % _P, 2 * z1 * z2 % _P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _mul(k: int, point: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    result = (0, 1, 1, 0)
    while k:
        if k & 1:
            result = _add(result, point)
        point, k = _add(point, point), k >> 1
    return result


def _equal(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0) or 0, _GY, 1, (_recover_x(_GY, 0) or 0) * _GY % _P)


def ed25519_verify_pure(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _point(public), _point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


def ed25519_verify(public_pem: bytes, message: bytes, signature: bytes) -> bool:
    """Verify with `cryptography` if available, else with the pure implementation above."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        der = base64.b64decode("".join(line for line in public_pem.decode().splitlines() if "-----" not in line))
        return ed25519_verify_pure(der[-32:], message, signature)
    key = load_pem_public_key(public_pem)
    try:
        key.verify(signature, message)  # type: ignore[union-attr, call-arg]
    except InvalidSignature:
        return False
    return True


# --- the package ------------------------------------------------------------------------

class Package:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() else None

    def names(self) -> list[str]:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        return [str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file()]

    def read(self, name: str) -> bytes | None:
        try:
            return self.zip.read(name) if self.zip is not None else (self.path / name).read_bytes()
        except (KeyError, FileNotFoundError):
            return None


def verify(path: Path) -> list[str]:
    """Every problem found in the package (empty when it verifies)."""
    pkg = Package(path)
    problems: list[str] = []
    sums = pkg.read("SHA256SUMS")
    if sums is None:
        return ["SHA256SUMS is missing"]
    listed = {}
    for line in sums.decode().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
        data = pkg.read(name)
        if data is None:
            problems.append(f"{name}: listed in SHA256SUMS but missing")
        elif hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{name}: does not match its sha256 in SHA256SUMS (altered)")
    for name in pkg.names():
        if name != "SHA256SUMS" and name not in listed:
            problems.append(f"{name}: not listed in SHA256SUMS (added)")
    chain = json.loads(pkg.read("chain.json") or b"{}")
    keys = {k["fingerprint"]: pkg.read(k["file"]) for k in chain.get("public_keys", [])}
    previous = chain.get("starts_after")
    for link in chain.get("manifests", []):
        label = f"manifest #{link['seq']} (run {link['run_id']})"
        body = pkg.read(link["file"])
        signature = pkg.read(link["signature"])
        if body is None or signature is None:
            problems.append(f"{label}: its file or signature is missing")
            continue
        if hashlib.sha256(body).hexdigest() != link["sha256"]:
            problems.append(f"{label}: does not match the sha256 the chain lists (altered)")
        manifest = json.loads(body)
        if previous is not None and manifest.get("prev") != previous:
            problems.append(f"{label}: does not follow the previous manifest (chain broken)")
        previous = link["sha256"]
        key = keys.get(manifest.get("key"))
        if key is None:
            problems.append(f"{label}: signed with a key that is not in the package")
        elif not ed25519_verify(key, body, signature):
            problems.append(f"{label}: its signature does not verify")
        if link.get("disposed") or not link.get("artifacts_included", True):
            continue  # disposed of under retention, or outside the exported range
        for artifact in manifest.get("artifacts", []):
            name = link["artifacts"].get(artifact["sha256"])
            data = pkg.read(name) if name else None
            if data is None:
                problems.append(f"{label}: its {artifact['kind']} ({artifact['sha256'][:12]}…) is not in the package")
            elif hashlib.sha256(data).hexdigest() != artifact["sha256"]:
                problems.append(f"{label}: its {artifact['kind']} does not match the manifest (altered)")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    problems = verify(Path(argv[1]))
    for problem in problems:
        print(f"PROBLEM  {problem}")
    print("the package verifies: every file, hash, chain link and signature is intact" if not problems
          else f"{len(problems)} problem(s): do not rely on this package")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
