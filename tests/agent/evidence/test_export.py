"""Evidence packages: complete, verifiable offline by civicwatch and by a script that needs nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agent.services import open_services
from agent.settings import load_settings
from storage.models import AuditEntry
from tests.conftest import CliResult, run_cli


def export(config: Path, out: Path, *extra: str) -> CliResult:
    return run_cli("--config", str(config), "evidence", "export", "--account", "library", "--out", str(out),
                   "--by", "Dana Lee, City Clerk", "--reason", "Public records request PRR-2026-114",
                   "--case", "PRR-2026-114", *extra)


@pytest.fixture
def package(archive: Path, tmp_path: Path) -> Path:
    out = tmp_path / "exports" / "library.zip"
    result = export(archive, out)
    assert result.exit_code == 0, result.stderr
    return out


def standalone(target: Path, script: Path) -> subprocess.CompletedProcess[str]:
    # -I -S: no site-packages at all, so not even `cryptography`: the script's own Ed25519 is used.
    return subprocess.run([sys.executable, "-I", "-S", str(script), str(target)], capture_output=True, text=True,
                          timeout=120)


def unzip(package: Path, into: Path) -> Path:
    with zipfile.ZipFile(package) as z:
        z.extractall(into)
    return into


def test_a_package_verifies_with_civicwatch_and_with_its_own_script(package: Path, archive: Path, tmp_path: Path) -> None:
    ok = run_cli("evidence", "verify", str(package))
    assert ok.exit_code == 0 and "the package verifies" in ok.stdout
    folder = unzip(package, tmp_path / "unzipped")
    result = standalone(package, folder / "verify_package.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert standalone(folder, folder / "verify_package.py").returncode == 0
    sums = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr


def test_the_package_holds_every_version_the_manifests_and_the_custody(package: Path, tmp_path: Path) -> None:
    folder = unzip(package, tmp_path / "p")
    names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert {"README.txt", "SHA256SUMS", "chain.json", "custody.json", "verify_package.py", "records/posts.csv",
            "records/posts.json", "records/comments.json", "records/findings.json", "records/runs.csv"} <= names
    assert sum(n.startswith("manifests/") and n.endswith(".sig") for n in names) == 2
    assert any(n.endswith(".warc.gz") for n in names) and any("screenshot" in n for n in names)
    posts = json.loads((folder / "records/posts.json").read_text())
    edited = [p for p in posts if p["versions"] == 2]
    assert [p["status"] for p in edited] == ["superseded", "current"]
    assert edited[1]["text"] == "Story time moves to Wednesdays."
    assert [p["status"] for p in posts if p["deleted_at"]] == ["deleted"]
    custody = json.loads((folder / "custody.json").read_text())
    assert custody["exported_by"] == "Dana Lee, City Clerk" and custody["case"] == "PRR-2026-114"


def test_the_export_is_in_the_audit_log_with_its_hash_and_reason(package: Path, archive: Path) -> None:
    services = open_services(load_settings(archive))
    with services.db.session() as s:
        [entry] = [e for e in s.exec(__import__("sqlmodel").select(AuditEntry)).all() if e.action == "export"]
    services.close()
    assert entry.actor == "Dana Lee, City Clerk" and entry.details["reason"].startswith("Public records request")
    assert entry.details["sha256"] == hashlib.sha256(package.read_bytes()).hexdigest()


def test_openssl_verifies_a_manifest_signature_as_the_readme_says(package: Path, tmp_path: Path) -> None:
    folder = unzip(package, tmp_path / "p")
    manifest = sorted((folder / "manifests").glob("*.json"))[0]
    key = next((folder / "public_keys").glob("*.pem"))
    result = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(key), "-rawin",
                             "-in", str(manifest), "-sigfile", str(manifest.with_suffix(".sig"))],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout


def rewrite_sums(folder: Path) -> None:
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(folder)}\n")
    (folder / "SHA256SUMS").write_text("".join(lines))


def test_a_tampered_screenshot_is_caught_even_if_the_checksums_are_rewritten(package: Path, tmp_path: Path) -> None:
    folder = unzip(package, tmp_path / "p")
    shot = next(folder.rglob("screenshot-*.png"))
    data = bytearray(shot.read_bytes())
    data[200] ^= 0xFF
    shot.write_bytes(bytes(data))
    plain = standalone(folder, folder / "verify_package.py")
    assert plain.returncode == 1 and "does not match its sha256 in SHA256SUMS" in plain.stdout
    rewrite_sums(folder)
    forged = standalone(folder, folder / "verify_package.py")
    assert forged.returncode == 1 and "its screenshot does not match the manifest" in forged.stdout


def test_a_rewritten_manifest_fails_its_signature(package: Path, tmp_path: Path) -> None:
    folder = unzip(package, tmp_path / "p")
    manifest = sorted((folder / "manifests").glob("*.json"))[-1]
    manifest.write_text(manifest.read_text().replace('"status":"ok"', '"status":"failed"'))
    rewrite_sums(folder)
    chain = json.loads((folder / "chain.json").read_text())
    chain["manifests"][-1]["sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    (folder / "chain.json").write_text(json.dumps(chain))
    rewrite_sums(folder)
    result = standalone(folder, folder / "verify_package.py")
    assert result.returncode == 1 and "its signature does not verify" in result.stdout


def test_a_file_that_is_not_a_zip_or_is_cut_short_is_refused_not_crashed_on(package: Path, tmp_path: Path) -> None:
    script = unzip(package, tmp_path / "p") / "verify_package.py"
    (tmp_path / "notes.zip").write_text("meeting notes")
    (tmp_path / "cut.zip").write_bytes(package.read_bytes()[: package.stat().st_size // 2])
    for name in ("notes.zip", "cut.zip"):
        result = standalone(tmp_path / name, script)
        assert result.returncode == 1 and not result.stderr, result.stderr
        assert f"PROBLEM  {name}: not a readable zip file" in result.stdout
        assert "not an evidence package, or damaged" in result.stdout
        via_cli = run_cli("evidence", "verify", str(tmp_path / name))
        assert via_cli.exit_code == 1 and via_cli.exception is None and "not a readable zip file" in via_cli.stdout


def test_a_damaged_file_inside_the_zip_is_named(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as z:
        shot = next(i for i in z.infolist() if i.filename.endswith(".png"))
    data = bytearray(package.read_bytes())
    data[shot.header_offset + 30 + len(shot.filename) + len(shot.extra) + shot.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    result = standalone(damaged, unzip(package, tmp_path / "p") / "verify_package.py")
    assert result.returncode == 1 and not result.stderr, result.stderr
    assert f"PROBLEM  {shot.filename}: cannot be read (Bad CRC-32" in result.stdout


def test_a_package_stripped_of_its_signed_chain_does_not_verify(package: Path, tmp_path: Path) -> None:
    folder = unzip(package, tmp_path / "p")
    (folder / "chain.json").unlink()
    rewrite_sums(folder)
    result = standalone(folder, folder / "verify_package.py")
    assert result.returncode == 1
    assert "chain.json is missing or lists no manifest: nothing in the package is signed" in result.stdout
    (folder / "chain.json").write_text("{not json")
    rewrite_sums(folder)
    result = standalone(folder, folder / "verify_package.py")
    assert result.returncode == 1 and not result.stderr, result.stderr
    assert "PROBLEM  chain.json: not valid JSON (altered or damaged)" in result.stdout


def test_names_pointing_outside_the_package_are_not_read(package: Path, tmp_path: Path) -> None:
    folder = unzip(package, tmp_path / "p")
    (tmp_path / "outside.txt").write_text("not part of the package")
    with (folder / "SHA256SUMS").open("a") as sums:
        sums.write(f"{'0' * 64}  ../outside.txt\n{'0' * 64}  /dev/zero\n")
    result = standalone(folder, folder / "verify_package.py")
    assert result.returncode == 1
    assert "PROBLEM  ../outside.txt: not a file name inside the package" in result.stdout
    assert "PROBLEM  /dev/zero: not a file name inside the package" in result.stdout


def test_a_package_for_one_finding(archive: Path, tmp_path: Path) -> None:
    listed = run_cli("--config", str(archive), "findings", "list", "--json", "--kind", "post_deleted")
    finding = json.loads(listed.stdout.splitlines()[0])
    out = tmp_path / "finding.zip"
    result = export(archive, out, "--finding", str(finding["id"]))
    assert result.exit_code == 0, result.stderr
    with zipfile.ZipFile(out) as z:
        findings = json.loads(z.read("records/findings.json"))
    assert [f["id"] for f in findings] == [finding["id"]]
    assert run_cli("evidence", "verify", str(out)).exit_code == 0


def test_a_wacz_can_be_included_and_is_valid(archive: Path, tmp_path: Path) -> None:
    pytest.importorskip("wacz")
    out = tmp_path / "with-wacz.zip"
    assert export(archive, out, "--wacz").exit_code == 0
    wacz_file = unzip(out, tmp_path / "w") / "archive.wacz"
    from wacz.main import main as wacz_main

    assert wacz_main(["validate", "-f", str(wacz_file)]) == 0
    with zipfile.ZipFile(wacz_file) as z:
        assert "datapackage.json" in z.namelist() and any(n.startswith("archive/") for n in z.namelist())


def test_export_mistakes_are_clear(archive: Path, tmp_path: Path, package: Path) -> None:
    again = export(archive, package)
    assert again.exit_code == 1 and "exists" in again.stderr
    no_reason = run_cli("--config", str(archive), "evidence", "export", "--account", "library", "--out",
                        str(tmp_path / "x.zip"), "--by", "clerk")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    empty = export(archive, tmp_path / "y.zip", "--since", "2999-01-01")
    assert empty.exit_code == 1 and "no captures of library in that range" in empty.stderr
