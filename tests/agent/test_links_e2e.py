"""Link health end to end: real captures of the sandbox, real link checks, real findings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlmodel import select

from agent.services import open_services
from agent.settings import load_settings
from storage import findings as store
from storage.models import LinkCheck
from tests.agent.conftest import Check
from tests.conftest import Site, run_cli


def broken_link_findings(config: Path) -> list[dict[str, object]]:
    services = open_services(load_settings(config))
    try:
        with services.db.session() as session:
            return [f.model_dump() for f in store.query(session, kind="broken_link")]
    finally:
        services.close()


def test_a_dead_link_alerts_only_after_failing_in_two_consecutive_runs(
    check: Check, site: Site, config_file: Path
) -> None:
    pid = site.admin.add_post("library", "Renew your permit here: /site/gone-permit-form")
    url = f"{site.base_url}/site/gone-permit-form"
    first = check("library")
    assert first.status == "ok" and first.links["broken"] == 1
    assert not [f for f in first.findings if f["kind"] == "broken_link"], "one failure is not a finding"
    second = check("library")
    found = [f for f in second.findings if f["kind"] == "broken_link"]
    assert [(f["subject"], f["change"]) for f in found] == [(f"link:{url}", "new")]
    assert found[0]["severity"] == "medium" and "404" in found[0]["summary"]
    [row] = broken_link_findings(config_file)
    assert row["details"]["sources"] == [f"post:{pid}"] and row["details"]["error_class"] == "http_status"
    assert row["clause"].startswith("702.4")

    report = run_cli("--config", str(config_file), "links", "report", "--broken", "--json")
    assert report.exit_code == 0, report.stderr
    [line] = [json.loads(x) for x in report.stdout.splitlines()]
    assert (line["account"], line["url"], line["failed_runs"], line["http_status"]) == ("library", url, 2, 404)

    site.admin.edit_post("library", pid, text="Renew your permit here: /site/permits")
    third = check("library")
    assert third.links["broken"] == 0
    [after] = broken_link_findings(config_file)
    assert after["cleared_at"] is not None, "a link that works again clears its finding"


def test_working_links_are_fetched_once_and_then_served_from_the_cache(check: Check, config_file: Path) -> None:
    first = check("police")
    assert first.links["checked"] >= 3 and first.links["broken"] == 0
    services = open_services(load_settings(config_file))
    try:
        with services.db.session() as session:
            before = {r.url: r.checked_at for r in session.exec(select(LinkCheck))}
        check("police")
        with services.db.session() as session:
            after = {r.url: r.checked_at for r in session.exec(select(LinkCheck))}
    finally:
        services.close()
    assert before and after == before, "within [links] cache_for a working link is not fetched again"


def test_links_report_as_csv_lists_every_published_link(check: Check, config_file: Path, site: Site) -> None:
    check("police")
    result = run_cli("--config", str(config_file), "links", "report", "--account", "police", "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {r["account"] for r in rows} == {"police"}
    assert {r["status"] for r in rows} == {"ok"}
    assert f"{site.base_url}/site/police" in {r["url"] for r in rows}
    profile = next(r for r in rows if r["url"] == f"{site.base_url}/site/police")
    assert "profile" in profile["sources"].split()


def test_links_check_names_the_problem_and_exits_1(site: Site) -> None:
    good, bad = f"{site.base_url}/site/home", f"{site.base_url}/site/gone-form"
    refused = run_cli("links", "check", good)
    assert refused.exit_code == 0 and "private_address" in refused.stdout and "allow_private" in refused.stdout
    result = run_cli("links", "check", "--allow-private", "127.0.0.1/32", good, bad)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok ") and "BROKEN" in lines[1] and "[http_status] HTTP 404 Not Found" in lines[1]
