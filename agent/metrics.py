"""Prometheus metrics for the daemon: counters it updates, gauges read from the archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import func, select

from storage.db import Database
from storage.models import Finding, Notification, Run
from storage.space import free_space


class ArchiveCollector(Collector):
    """Gauges computed at scrape time: open findings, outbox backlog, last success, free space."""

    def __init__(self, db: Database, storage_paths: list[Path]) -> None:
        self.db = db
        self.storage_paths = storage_paths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.db.session() as s:
            open_findings = s.exec(select(Finding.kind, func.count()).where(Finding.status != "resolved")
                                   .group_by(Finding.kind)).all()
            backlog = s.exec(select(Notification.status, func.count()).group_by(Notification.status)).all()
            last_ok = s.exec(select(Run.account_id, func.max(Run.finished_at)).where(Run.status == "ok")
                             .group_by(Run.account_id)).all()
        findings = GaugeMetricFamily("civicwatch_findings_open", "Findings not yet resolved", labels=["kind"])
        for kind, count in open_findings:
            findings.add_metric([kind], count)
        yield findings
        outbox = GaugeMetricFamily("civicwatch_outbox_messages", "Alert outbox rows by status", labels=["status"])
        for status, count in backlog:
            outbox.add_metric([status], count)
        yield outbox
        success = GaugeMetricFamily("civicwatch_last_success_timestamp_seconds",
                                    "When each account was last captured successfully", labels=["account"])
        for account, finished in last_ok:
            if finished is not None:
                success.add_metric([account], finished.timestamp())
        yield success
        space = GaugeMetricFamily("civicwatch_storage_free_bytes",
                                  "Free disk space where evidence is written", labels=["path"])
        for place in free_space(self.storage_paths):
            space.add_metric([str(place.path)], place.free)
        yield space


class Metrics:
    """The daemon's metrics registry."""

    def __init__(self, db: Database, storage_paths: list[Path]) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter("civicwatch_runs", "Capture runs by outcome", ["account", "status"],
                            registry=self.registry)
        self.duration = Histogram("civicwatch_run_duration_seconds", "Capture run duration", ["account"],
                                  buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600), registry=self.registry)
        self.phases = Histogram("civicwatch_run_phase_seconds", "Time per phase of a successful capture run",
                                ["phase"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
                                registry=self.registry)
        self.findings = Counter("civicwatch_findings_new", "Findings opened or reopened", ["kind"],
                                registry=self.registry)
        self.alerts = Counter("civicwatch_alerts", "Alert deliveries by outcome", ["result"], registry=self.registry)
        self.browser_restarts = Counter("civicwatch_browser_restarts", "Chromium crashes or disconnects",
                                        registry=self.registry)
        self.registry.register(ArchiveCollector(db, storage_paths))

    def render(self) -> bytes:
        return generate_latest(self.registry)
