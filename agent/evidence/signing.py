"""The installation's Ed25519 signing key: generated on first start, kept in data_dir/keys.

The private key never enters the database. Public keys of earlier keys are kept beside it
(``signing-<fingerprint>.pub``) so manifests signed before a rotation still verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.errors import StorageError
from agent.keys import key_dir, write_private

PRIVATE = "signing.key"


def fingerprint(public: Ed25519PublicKey) -> str:
    """``SHA256:ab12…``: the sha256 of the raw public key, as `civicwatch keys show` prints it."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def load_signer(data_dir: Path) -> Signer:
    """The signing key, generated (once, atomically) if there is none yet."""
    directory = key_dir(data_dir)
    path = directory / PRIVATE
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(path, pem)
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read the signing key {path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise StorageError(f"{path} is not an Ed25519 key")
    signer = Signer(private)
    pub = directory / f"signing-{signer.fingerprint.removeprefix('SHA256:')[:16]}.pub"
    if not pub.exists():
        pub.write_bytes(public_pem(signer.public))
    return signer


def known_public_keys(data_dir: Path) -> dict[str, Ed25519PublicKey]:
    """Every public key this installation has signed with, by fingerprint."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in key_dir(data_dir).glob("signing-*.pub"):
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            keys[fingerprint(key)] = key
    return keys


def valid(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True
