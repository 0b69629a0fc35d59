"""`civicwatch findings …` and `civicwatch rescan`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Site, edit_config, run_cli


def cli(config: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("--config", str(config), *args)


def listed(config: Path, *filters: str) -> list[dict[str, object]]:
    result = cli(config, "findings", "list", "--json", *filters)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_check_json_reports_findings_and_the_cli_walks_their_lifecycle(config_file: Path) -> None:
    out = cli(config_file, "check", "parks", "--json")
    run = json.loads(out.stdout)
    assert sorted(f["kind"] for f in run["findings"]) == ["prohibited_content", "unauthorized_author"]
    assert set(run["findings"][0]) >= {"id", "kind", "severity", "subject", "summary", "status"}

    [unauthorized] = listed(config_file, "--kind", "unauthorized_author")
    fid = str(unauthorized["id"])
    assert unauthorized["status"] == "open" and unauthorized["clause"].startswith("702.3")

    assert cli(config_file, "findings", "ack", fid, "--by", "Pat (PIO)", "--note", "checking").exit_code == 0
    assert listed(config_file, "--status", "acknowledged")[0]["id"] == unauthorized["id"]
    resolved = cli(config_file, "findings", "resolve", fid, "--by", "Pat (PIO)", "--why", "intern post removed")
    assert resolved.exit_code == 0
    shown = json.loads(cli(config_file, "findings", "show", fid, "--json").stdout)
    assert shown["resolution"] == "intern post removed" and shown["resolved_by"] == "Pat (PIO)"
    assert [e["event"] for e in shown["events"]] == ["opened", "acknowledged", "resolved"]
    text = cli(config_file, "findings", "show", fid).stdout
    assert "702.3" in text and "Tom Intern" in text


def test_lifecycle_and_usage_errors_are_clear(config_file: Path) -> None:
    cli(config_file, "check", "parks")
    fid = str(listed(config_file)[0]["id"])
    assert cli(config_file, "findings", "resolve", fid, "--by", "x").exit_code == 2  # --why is required
    cli(config_file, "findings", "resolve", fid, "--by", "x", "--why", "done")
    again = cli(config_file, "findings", "ack", fid, "--by", "x")
    assert again.exit_code == 1 and "only an open finding can be acknowledged" in again.stderr
    missing = cli(config_file, "findings", "show", "9999")
    assert missing.exit_code == 1 and "no finding with id 9999" in missing.stderr


def test_rescan_applies_a_new_rule_to_old_and_deleted_posts(config_file: Path, site: Site) -> None:
    cli(config_file, "check", "library")
    posts = site.admin.account("library")["posts"]
    doomed = next(p for p in posts if "Notary" in p["text"])
    site.admin.delete_post("library", doomed["id"])
    cli(config_file, "check", "library")
    edit_config(config_file, "[browser]", '[[rules.custom]]\nname = "notary"\nkeywords = ["notary"]\n'
                'clause = "Library policy 3.1: no legal services"\nseverity = "low"\n\n[browser]')
    result = cli(config_file, "rescan", "--account", "library", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["items"] >= 12
    assert [f["subject"] for f in report["new"]] == [f"post:{doomed['id']}"]
    assert json.loads(cli(config_file, "rescan", "--account", "library", "--json").stdout)["new"] == []
    [finding] = listed(config_file, "--account", "library", "--kind", "prohibited_content")
    assert finding["clause"] == "Library policy 3.1: no legal services"


def test_rescan_since_a_date_and_a_bad_date(config_file: Path) -> None:
    cli(config_file, "check", "library")
    lines = cli(config_file, "rescan", "--since", "2999-01-01", "--json").stdout.splitlines()
    assert [json.loads(line)["items"] for line in lines] == [0, 0, 0, 0]
    everything = cli(config_file, "rescan", "--account", "library", "--since", "2020-01-01", "--json").stdout
    assert json.loads(everything)["items"] >= 12
    bad = cli(config_file, "rescan", "--since", "last tuesday")
    assert bad.exit_code == 2 and "not a date" in bad.stderr
