"""Detectors on synthetic snapshots: fast, no browser, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.detect.pipeline import AccountPolicy, History, detect, detect_failure
from agent.detect.config import PolicySettings, RulesSettings
from agent.detect.content.rules import ContentRules
from flows.base import Comment, Post, Profile, Snapshot, VisitorView
from storage.archive import KnownItem, ProfileInput

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
RULES = ContentRules(RulesSettings())
POLICY = AccountPolicy("parks", "Springfield Parks", ("Jane Okafor",), public_posting=False, public_comments=True)
PROFILE = Profile(name="Springfield Parks", bio="Official page", links=("https://springfield.gov",))


def post(pid: str, hours_ago: int, text: str = "Leaf pickup Monday.", **kw: object) -> Post:
    fields: dict[str, object] = {"author": "Springfield Parks", "publisher": "Jane Okafor"}
    fields.update(kw)
    return Post(id=pid, time=T0 - timedelta(hours=hours_ago), text=text, **fields)  # type: ignore[arg-type]


def snap(*posts: Post, complete: bool = True, profile: Profile = PROFILE, composer: bool = False,
         setting: bool | None = False, warnings: tuple[str, ...] = ()) -> Snapshot:
    return Snapshot(
        account_id="parks", platform="sandbox", requested_url="http://x/p/parks", final_url="http://x/p/parks",
        user_agent="UA", viewport=(1280, 900), browser_version="1", profile=profile, posts=posts,
        feed_complete=complete, public_posting_setting=setting, warnings=warnings,
        visitor=VisitorView(url="http://x/p/parks", final_url="http://x/p/parks", composer_offered=composer),
    )


def known(p: Post, gone: bool = False) -> KnownItem:
    return KnownItem(p.id, p.content_hash(), p.time, gone, p.author, p.text)


def known_comment(c: Comment, post_id: str) -> KnownItem:
    return KnownItem(c.id, c.content_hash(), c.time, False, c.author, c.text, parent_id=post_id)


def history(*posts: Post, comments: dict[str, list[Comment]] | None = None, profile: Profile = PROFILE) -> History:
    pc = profile.content_hash()
    return History(
        posts={p.id: known(p) for p in posts},
        comments={c.id: known_comment(c, pid) for pid, cs in (comments or {}).items() for c in cs},
        profile=ProfileInput(profile.name, profile.bio, profile.links, profile.avatar_sha256, pc),
    )


def kinds(snapshot: Snapshot, hist: History = History(), policy: AccountPolicy = POLICY) -> list[tuple[str, str]]:
    return sorted((d.kind, d.subject) for d in detect(snapshot, hist, policy, RULES).drafts)


def test_an_unchanged_clean_page_produces_no_findings() -> None:
    posts = (post("p2", 1), post("p1", 5))
    assert kinds(snap(*posts), history(*posts)) == []


def test_a_post_published_by_someone_not_authorised_is_flagged_once() -> None:
    found = detect(snap(post("p1", 1, publisher="Tom Intern")), History(), POLICY, RULES).drafts
    assert [(d.kind, d.subject, d.severity) for d in found] == [("unauthorized_author", "post:p1", "high")]
    assert "Tom Intern" in found[0].summary and found[0].clause.startswith("702.3")


def test_authorised_names_match_regardless_of_case_and_spacing() -> None:
    assert kinds(snap(post("p1", 1, publisher="  jane   OKAFOR "))) == []


def test_without_a_publisher_the_author_is_judged() -> None:
    assert kinds(snap(post("p1", 1, publisher=None, author="Springfield Parks"))) == []
    assert kinds(snap(post("p1", 1, publisher=None, author="Someone Else"))) == [("unauthorized_author", "post:p1")]


def test_a_visitor_post_is_a_public_post_not_an_unauthorised_author() -> None:
    visitor = post("p9", 1, author="Sam W", publisher=None, visitor=True)
    assert kinds(snap(visitor)) == [("public_post_present", "post:p9")]
    allowed = AccountPolicy("parks", "Springfield Parks", public_posting=True)
    assert kinds(snap(visitor), policy=allowed) == []


def test_public_comments_are_flagged_only_where_comments_are_closed() -> None:
    p = post("p1", 1, comments=(Comment(id="c1", author="Maria G", text="Thanks!"),
                                Comment(id="c2", author="Springfield Parks", text="You're welcome")))
    closed = AccountPolicy("parks", "Springfield Parks", ("Jane Okafor",), public_comments=False)
    assert kinds(snap(p), policy=closed) == [("public_post_present", "comment:c1")]
    assert kinds(snap(p)) == []


def test_public_posting_open_is_one_finding_citing_both_signs() -> None:
    found = detect(snap(post("p1", 1), composer=True, setting=True), History(), POLICY, RULES).drafts
    assert [(d.kind, d.subject) for d in found] == [("public_posting_enabled", "setting:public_posting")]
    assert found[0].details["composer_offered"] and found[0].details["setting_enabled"]
    assert found[0].clause.startswith("702.5.1")


def test_prohibited_content_is_one_finding_per_item_and_rule_set() -> None:
    p = post("p1", 1, comments=(Comment(id="c1", author="Dave", text="call him at 555-867-5309, what a f*cking idiot"),))
    found = detect(snap(p), History(), POLICY, RULES).drafts
    rule_sets = sorted(d.details["rule_set"] for d in found)
    assert rule_sets == ["harassment", "personal_data", "profanity"]
    assert {d.subject for d in found} == {"comment:c1"}


def test_a_deleted_post_is_found_when_the_whole_feed_was_seen() -> None:
    p1, p2 = post("p1", 5), post("p2", 1)
    result = detect(snap(p2), history(p1, p2), POLICY, RULES)
    assert [(d.kind, d.subject) for d in result.drafts] == [("post_deleted", "post:p1")]
    assert result.gone_posts == ["p1"]


def test_a_post_that_scrolled_beyond_max_posts_is_not_deleted() -> None:
    old, mid, new = post("p1", 50), post("p2", 10), post("p3", 1)
    result = detect(snap(new, mid, complete=False), history(old, mid, new), POLICY, RULES)
    assert result.drafts == [] and result.gone_posts == []


def test_a_missing_post_inside_the_captured_window_is_deleted() -> None:
    old, mid, new = post("p1", 50), post("p2", 10), post("p3", 1)
    result = detect(snap(new, old, complete=False), history(old, mid, new), POLICY, RULES)
    assert result.gone_posts == ["p2"]


def test_a_pinned_old_post_does_not_widen_the_window() -> None:
    pinned, a, b, c = post("p0", 500), post("p1", 300), post("p2", 10), post("p3", 1)
    result = detect(snap(pinned, c, b, complete=False), history(pinned, a, b, c), POLICY, RULES)
    assert result.gone_posts == []


def test_deleted_comments_and_the_comments_of_a_deleted_post() -> None:
    c1, c2 = Comment(id="c1", author="A", text="one"), Comment(id="c2", author="B", text="two")
    c3 = Comment(id="c3", author="C", text="three")
    p1, p2 = post("p1", 5, comments=(c1, c2)), post("p2", 1, comments=(c3,))
    now = snap(post("p1", 5, comments=(c1,)))
    result = detect(now, history(p1, p2, comments={"p1": [c1, c2], "p2": [c3]}), POLICY, RULES)
    assert sorted((d.kind, d.subject) for d in result.drafts) == [("post_deleted", "comment:c2"), ("post_deleted", "post:p2")]
    assert sorted(result.gone_comments) == ["c2", "c3"]
    comment_finding = next(d for d in result.drafts if d.subject == "comment:c2")
    assert comment_finding.severity == "low"


def test_an_edit_is_a_finding_per_new_version() -> None:
    before = post("p1", 1, text="Pool opens at 9")
    after = post("p1", 1, text="Pool opens at 10")
    first = detect(snap(after), history(before), POLICY, RULES).drafts
    assert [(d.kind, d.details["before"], d.details["after"]) for d in first] == [
        ("post_edited", "Pool opens at 9", "Pool opens at 10")
    ]
    again = detect(snap(post("p1", 1, text="Pool opens at 11")), history(after), POLICY, RULES).drafts
    assert again[0].fingerprint != first[0].fingerprint


def test_a_profile_change_names_what_changed() -> None:
    renamed = Profile(name="Free iPhones Here", bio="Official page", links=PROFILE.links)
    found = detect(snap(post("p1", 1), profile=renamed), history(post("p1", 1)), POLICY, RULES).drafts
    assert [(d.kind, list(d.details)) for d in found] == [("profile_changed", ["name"])]
    assert found[0].details["name"] == {"before": "Springfield Parks", "after": "Free iPhones Here"}


def test_a_page_that_cannot_be_read_is_structure_changed_and_deletes_nothing() -> None:
    p1, p2 = post("p1", 5), post("p2", 1)
    result = detect(snap(profile=Profile()), history(p1, p2), POLICY, RULES)
    assert [(d.kind, d.subject) for d in result.drafts] == [("structure_changed", "account")]
    assert result.gone_posts == [] and not result.structure_ok
    assert "no posts were found where earlier runs saw 2" in result.drafts[0].summary


def test_a_new_account_with_no_posts_is_fine_but_a_missing_name_is_not() -> None:
    assert kinds(snap()) == []
    assert kinds(snap(profile=Profile())) == [("structure_changed", "account")]


def test_failures_become_login_failed_or_capture_failed() -> None:
    assert detect_failure(POLICY, "login_failed", "refused").kind == "login_failed"
    assert detect_failure(POLICY, "blocked", "CAPTCHA").summary.startswith("Springfield Parks is blocked")
    assert detect_failure(POLICY, "timeout", "slow").kind == "capture_failed"
    assert detect_failure(POLICY, "site_unavailable", "503").fingerprint == detect_failure(
        POLICY, "timeout", "slow").fingerprint


def test_clauses_and_severities_are_configurable() -> None:
    custom = AccountPolicy("parks", "Springfield Parks", (), policy=PolicySettings(
        clauses={"unauthorized_author": "Sec. 4.2 Only the PIO posts"}, severity={"unauthorized_author": "critical"}))
    found = detect(snap(post("p1", 1, publisher="X")), History(), custom, RULES).drafts
    assert (found[0].clause, found[0].severity) == ("Sec. 4.2 Only the PIO posts", "critical")
