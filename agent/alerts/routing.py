"""Which routes a finding goes to: pure."""

from __future__ import annotations

from agent.detect.content.hits import severity_rank
from agent.settings import AlertSettings, RouteSettings


def matches(route: RouteSettings, kind: str, severity: str, account: str, department: str) -> bool:
    """Does this route's filter accept the finding? Empty lists accept everything."""
    return (
        (not route.kinds or kind in route.kinds)
        and (not route.accounts or account in route.accounts)
        and (not route.departments or department in route.departments)
        and severity_rank(severity) >= severity_rank(route.min_severity)
    )


def routes_for(settings: AlertSettings, kind: str, severity: str, account: str, department: str) -> list[RouteSettings]:
    """The non-default routes that match, else the default routes that match."""
    specific = [r for r in settings.routes if not r.default and matches(r, kind, severity, account, department)]
    if specific:
        return specific
    return [r for r in settings.routes if r.default and matches(r, kind, severity, account, department)]
