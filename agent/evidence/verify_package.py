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
import zlib
from pathlib import Path
from typing import Any

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
    """Verify with `cryptography` if available, else with the pure implementation above.

    A key that is not a readable Ed25519 public key verifies nothing (False).
    """
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        try:
            text = public_pem.decode("ascii")
            der = base64.b64decode("".join(line for line in text.splitlines() if "-----" not in line))
        except ValueError:
            return False
        return ed25519_verify_pure(der[-32:], message, signature)
    try:
        key = load_pem_public_key(public_pem)
    except ValueError:
        return False
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


# --- the package ------------------------------------------------------------------------

class Package:
    """The files of a package, zipped or unzipped. Damaged or unsafe names are kept in ``damaged``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() else None
        self.damaged: dict[str, str] = {}

    def names(self) -> list[str]:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        return [p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()]

    def read(self, name: str) -> bytes | None:
        """The file's bytes; None when it is missing, or damaged (then it is in ``damaged``)."""
        if name in self.damaged:
            return None
        parts = name.split("/")
        if not name or name.startswith("/") or "\\" in name or ".." in parts or "" in parts:
            self.damaged[name] = "not a file name inside the package"
            return None
        try:
            if self.zip is not None:
                return self.zip.read(name)
            path = self.path / name
            return path.read_bytes() if path.is_file() else None
        except KeyError:
            return None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            self.damaged[name] = f"cannot be read ({exc})"
            return None


def _loads(data: bytes) -> Any:
    """The bytes parsed as JSON; None when they are not JSON."""
    try:
        return json.loads(data)
    except ValueError:
        return None


def verify(path: Path) -> list[str]:
    """Every problem found in the package (empty when it verifies)."""
    try:
        pkg = Package(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"{path.name}: not a readable zip file ({exc}): not an evidence package, or damaged"]
    problems: list[str] = []
    _check_sums(pkg, problems)
    _check_chain(pkg, problems)
    problems += [f"{name}: {why}" for name, why in pkg.damaged.items()]
    return problems


def _check_sums(pkg: Package, problems: list[str]) -> None:
    """Every file matches SHA256SUMS, and nothing was added."""
    sums = pkg.read("SHA256SUMS")
    if sums is None:
        problems.append("SHA256SUMS is missing")
        return
    listed = {}
    for line in sums.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
        data = pkg.read(name)
        if data is None:
            if name not in pkg.damaged:
                problems.append(f"{name}: listed in SHA256SUMS but missing")
        elif hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{name}: does not match its sha256 in SHA256SUMS (altered)")
    for name in pkg.names():
        if name != "SHA256SUMS" and name not in listed:
            problems.append(f"{name}: not listed in SHA256SUMS (added)")


def _check_chain(pkg: Package, problems: list[str]) -> None:
    """Every manifest is the one the chain lists, follows the previous one, is signed, and lists what is here."""
    raw = pkg.read("chain.json")
    chain = None if raw is None else _loads(raw)
    if raw is not None and chain is None:
        problems.append("chain.json: not valid JSON (altered or damaged)")
    if not isinstance(chain, dict) or not chain.get("manifests"):
        if "chain.json" not in pkg.damaged:
            problems.append("chain.json is missing or lists no manifest: nothing in the package is signed")
        return
    keys = {k.get("fingerprint"): pkg.read(str(k.get("file"))) for k in chain.get("public_keys", [])
            if isinstance(k, dict)}
    previous = chain.get("starts_after")
    for number, link in enumerate(chain["manifests"], 1):
        fields = ("seq", "run_id", "file", "signature", "sha256")
        if not isinstance(link, dict) or any(not isinstance(link.get(f), (str, int)) for f in fields):
            problems.append(f"chain.json: manifest entry {number} is incomplete (altered or damaged)")
            continue
        label = f"manifest #{link['seq']} (run {link['run_id']})"
        body = pkg.read(str(link["file"]))
        signature = pkg.read(str(link["signature"]))
        if body is None or signature is None:
            problems.append(f"{label}: its file or signature is missing")
            continue
        if hashlib.sha256(body).hexdigest() != link["sha256"]:
            problems.append(f"{label}: does not match the sha256 the chain lists (altered)")
        manifest = _loads(body)
        if not isinstance(manifest, dict):
            problems.append(f"{label}: not valid JSON (altered or damaged)")
            continue
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
        files = link.get("artifacts") if isinstance(link.get("artifacts"), dict) else {}
        for artifact in manifest.get("artifacts", []):
            if not isinstance(artifact, dict):
                problems.append(f"{label}: an artifact entry is not readable (altered or damaged)")
                continue
            kind, digest = artifact.get("kind", "artifact"), str(artifact.get("sha256", ""))
            name = files.get(digest)
            data = pkg.read(str(name)) if name else None
            if data is None:
                if name not in pkg.damaged:
                    problems.append(f"{label}: its {kind} ({digest[:12]}…) is not in the package")
            elif hashlib.sha256(data).hexdigest() != digest:
                problems.append(f"{label}: its {kind} does not match the manifest (altered)")


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
