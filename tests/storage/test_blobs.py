"""The content-addressed blob store: atomic, deduplicated, tamper-evident."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agent.errors import IntegrityError, StorageError
from storage.blobs import BlobStore


def test_put_names_the_file_by_its_sha256_and_stores_bytes_verbatim(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = b"\x89PNG evidence bytes"
    stored = store.put(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.created
    path = store.path(stored.sha256)
    assert path.read_bytes() == data
    assert path.parent.parent.name == stored.sha256[:2]
    assert path.stat().st_mode & 0o777 == 0o640


def test_identical_bytes_are_stored_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    first, second = store.put(b"same"), store.put(b"same")
    assert first.sha256 == second.sha256 and not second.created
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_an_altered_blob_is_detected_and_named(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"original").sha256
    path = store.path(sha)
    path.write_bytes(b"origina1")
    assert store.check(sha) == "content does not match its sha256"
    with pytest.raises(IntegrityError, match=sha):
        store.get(sha)


def test_a_missing_blob_is_reported(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"x").sha256
    store.remove(sha)
    assert store.check(sha) == "missing"
    with pytest.raises(IntegrityError, match="missing"):
        store.get(sha)


def test_no_temp_file_remains_after_a_write_and_orphans_are_removed(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    store.put(b"abc")
    assert list(store.tmp.iterdir()) == []
    (store.tmp / ".tmp-deadbeef-000000").write_bytes(b"half written")
    assert store.remove_temp_files() == 1 and list(store.tmp.iterdir()) == []


def test_a_name_that_is_not_a_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a sha256"):
        BlobStore(tmp_path).path("../../etc/passwd")
