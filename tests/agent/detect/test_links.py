"""Which links count as the city's, and when a failing one becomes a finding; pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from agent.detect.links import broken_links, link_subject, published_links
from flows.base import Comment, Post
from tests.agent.detect.test_detectors import POLICY, PROFILE, post, snap


@dataclass
class State:
    url: str
    status: str = "broken"
    error_class: str | None = "http_status"
    message: str = "HTTP 404 Not Found"
    http_status: int | None = 404
    consecutive_failures: int = 2
    sources: list[str] = field(default_factory=lambda: ["post:p1"])
    last_ok_at: datetime | None = None
    url_hash: str = "h"


def test_links_of_the_page_count_and_the_publics_do_not() -> None:
    page_post = post("p1", 1, links=("https://springfield.gov/agenda",), comments=(
        Comment(id="c1", author="Springfield Parks", text="Form:", links=("https://springfield.gov/form",)),
        Comment(id="c2", author="Random Person", text="mine", links=("https://spam.example/x",)),
    ))
    visitor_post = Post(id="v1", author="A Visitor", visitor=True, links=("https://visitor.example/",))
    found = published_links(snap(page_post, visitor_post), POLICY)
    assert found == {
        "https://springfield.gov": ["profile"],
        "https://springfield.gov/agenda": ["post:p1"],
        "https://springfield.gov/form": ["comment:c1"],
    }
    assert "https://springfield.gov/form" not in published_links(snap(page_post), POLICY, page_comments=False)


def test_a_link_in_many_posts_is_one_link_with_every_source() -> None:
    shared = ("https://springfield.gov/agenda",)
    found = published_links(snap(post("p1", 1, links=shared), post("p2", 2, links=shared)), POLICY)
    assert found["https://springfield.gov/agenda"] == ["post:p1", "post:p2"]
    assert PROFILE.links[0] in found


def test_a_link_failing_once_is_not_reported_and_twice_is() -> None:
    assert broken_links([State("https://x.gov/a", consecutive_failures=1)], POLICY, 2) == []
    [finding] = broken_links([State("https://x.gov/a", consecutive_failures=2)], POLICY, 2)
    assert finding.kind == "broken_link" and finding.subject == link_subject("https://x.gov/a")
    assert finding.severity == "medium" and finding.stateful
    assert "in post p1" in finding.summary and "HTTP 404" in finding.summary


def test_timeouts_alone_are_never_more_than_low() -> None:
    slow = State("https://x.gov/slow", error_class="timeout", message="no answer", http_status=None,
                 consecutive_failures=5)
    busy = State("https://x.gov/busy", http_status=429, message="HTTP 429 Too Many Requests")
    assert [f.severity for f in broken_links([slow, busy], POLICY, 2)] == ["low", "low"]


def test_working_and_skipped_links_are_never_findings() -> None:
    states = [State("https://x.gov/ok", status="ok", consecutive_failures=0),
              State("http://10.0.0.5/", status="skipped", error_class="private_address")]
    assert broken_links(states, POLICY, 1) == []


def test_the_same_broken_link_keeps_one_fingerprint() -> None:
    a = broken_links([State("https://x.gov/a", url_hash="abc")], POLICY, 2)[0]
    b = broken_links([State("https://x.gov/a", url_hash="abc", consecutive_failures=7)], POLICY, 2)[0]
    assert a.fingerprint == b.fingerprint
