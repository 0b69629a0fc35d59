"""Content rules: each detector, the tricky negatives, and the labelled corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.detect.config import CustomRule, RulesSettings
from agent.detect.content import personal, spam
from agent.detect.content.lexicon import Lexicon
from agent.detect.content.rules import ContentRules
from tests.agent.detect import corpus

RULES = ContentRules(corpus.SETTINGS)


def sets(text: str, by_public: bool = True, rules: ContentRules = RULES) -> set[str]:
    return {h.rule_set for h in rules.scan(text, by_public=by_public)}


@pytest.mark.parametrize("number", ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005"])
def test_valid_card_numbers_pass_luhn(number: str) -> None:
    hits = personal.cards(f"card {number}")
    assert [h.rule for h in hits] == ["card"] and hits[0].excerpt.startswith("…")


def test_a_card_number_with_a_wrong_check_digit_is_not_a_card() -> None:
    assert personal.cards("order 4111 1111 1111 1112") == []


@pytest.mark.parametrize("text", ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"])
def test_impossible_ssns_are_ignored(text: str) -> None:
    assert personal.ssns(text) == []


def test_ssn_excerpt_is_masked() -> None:
    assert personal.ssns("SSN 512-44-8812")[0].excerpt == "…8812"


@pytest.mark.parametrize(
    "text",
    ["call 911 now", "dial 311", "on 11/20/2026 at 10:30", "Resolution 2026-114", "ZIP 62704-1234",
     "$1,234,567", "Item 10.2.1", "from 930-1030", "toll free 1-800-555-0199"],
)
def test_numbers_that_are_not_phone_numbers(text: str) -> None:
    assert personal.phones(text) == []


@pytest.mark.parametrize(
    "text",
    ["555-867-5309", "(217) 555-0142", "217.555.0187", "+1 217 555 0166", "+44 20 7946 0958",
     "call 2175550134", "text me at 867-5309"],
)
def test_phone_number_formats(text: str) -> None:
    assert [h.rule for h in personal.phones(text)] == ["phone"]


def test_the_citys_own_numbers_are_not_personal_data() -> None:
    assert personal.phones("The office (217) 555-0100 is closed", ["217-555-0100"]) == []


def test_an_address_is_personal_only_next_to_a_person() -> None:
    assert personal.addresses("Pothole at 412 Oak Street again") == []
    assert [h.rule for h in personal.addresses("my neighbor at 412 Oak Street")] == ["address"]


@pytest.mark.parametrize("word", ["f*ck", "sh!t", "f u c k", "a$$hole", "fuuuuck", "s.h.i.t", "f**k", "b1tch"])
def test_masked_vulgarity_is_seen_through(word: str) -> None:
    assert sets(f"this is {word}") == {"profanity"}


@pytest.mark.parametrize(
    "text", ["Scunthorpe", "cocktail hour", "property assessment", "Middlesex County", "class schedule",
             "Dick Smith Park", "shiitake", "Peacock Park", "Hell Creek trail", "Ass't Director"]
)
def test_scunthorpe_style_words_are_not_profanity(text: str) -> None:
    assert sets(text) == set()


def test_a_lexicon_needs_two_visible_letters_to_match_a_mask() -> None:
    assert Lexicon(["fuck"]).match_word("f***") is None
    assert Lexicon(["fuck"]).match_word("f**k") == "fuck"


def test_campaigning_needs_an_office_or_a_known_candidate() -> None:
    assert sets("Vote for your favorite photo!") == set()
    assert sets("Vote for Springfield's Best Burger") == set()
    assert sets("Vote for Mike Carter") == {"political"}  # a configured candidate
    assert sets("Vote for Ann Lee for mayor") == {"political"}


def test_phone_numbers_in_page_posts_are_not_flagged_but_ssns_are() -> None:
    assert sets("Call 217-555-0111 to register", by_public=False) == set()
    assert sets("Applicant SSN 512-44-8812", by_public=False) == {"personal_data"}


def test_spam_applies_to_the_public_only_by_default() -> None:
    assert sets("Details: bit.ly/abc123", by_public=False) == set()
    assert sets("Details: bit.ly/abc123") == {"spam"}


def test_shortened_links_are_found_in_link_targets_too() -> None:
    assert [h.rule for h in spam.spam("see link", ["https://tinyurl.com/xyz"])] == ["shortener"]


def test_one_author_repeating_a_comment_is_spam_but_many_people_agreeing_is_not() -> None:
    texts = [("c1", "Bob", "Great deals at my shop!"), ("c2", "bob", "great deals at  my shop!"),
             ("c3", "Bob", "Great deals at my shop!"), ("c4", "Bob", "Thanks!"),
             ("c5", "Ann", "Thank you for the update!"), ("c6", "Raj", "Thank you for the update!"),
             ("c7", "Lee", "Thank you for the update!")]
    assert spam.repeated(texts, threshold=3) == {"c1": 3, "c2": 3, "c3": 3}


def test_rule_sets_can_be_switched_off_and_retargeted() -> None:
    rules = ContentRules(RulesSettings(profanity=False, political={"applies_to": ["page"]}))  # type: ignore[arg-type]
    assert sets("what the f*ck", rules=rules) == set()
    assert sets("Vote for Ann Lee for mayor", by_public=True, rules=rules) == set()
    assert sets("Vote for Ann Lee for mayor", by_public=False, rules=rules) == {"political"}


def test_city_defined_keyword_and_regex_rules() -> None:
    rules = ContentRules(RulesSettings(custom=[
        CustomRule(name="strike", keywords=["sick-out", "walkout"], severity="high", clause="HR 4.1"),
        CustomRule(name="badge", patterns=[r"badge\s*#?\s*\d{4}"], clause="PD 12"),
    ]))
    hits = rules.scan("Planning a walkout; ask badge #4471", by_public=True)
    assert {(h.rule_set, h.severity) for h in hits} == {("custom:strike", "high"), ("custom:badge", "medium")}
    assert rules.clause_for("custom:strike") == "HR 4.1"
    assert sets("a walkouts plan", rules=rules) == set()  # whole words only


def test_the_rules_fingerprint_changes_when_the_rules_change() -> None:
    assert RULES.version != ContentRules(RulesSettings(profanity=False)).version


def test_precision_and_recall_on_the_development_corpus() -> None:
    assert sum(1 for _ in corpus.samples()) >= 300
    scores, mistakes = corpus.evaluate()
    for name, score in scores.items():
        assert score.precision >= 0.95 and score.recall >= 0.95, (name, mistakes)


def test_precision_and_recall_on_the_held_out_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "CORPUS", Path(corpus.__file__).with_name("heldout.tsv"))
    scores, mistakes = corpus.evaluate()
    for name, score in scores.items():
        assert score.precision >= 0.9 and score.recall >= 0.8, (name, mistakes)
