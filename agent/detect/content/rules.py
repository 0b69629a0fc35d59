"""The content rules, compiled from ``[rules]``, applied to one text at a time."""

from __future__ import annotations

import hashlib
from functools import cached_property
import json
import re
from collections.abc import Iterable

from agent.detect.config import CustomRule, RulesSettings, RuleSetSettings
from agent.detect.content import abuse, campaign, personal, spam
from agent.detect.content.hits import Hit
from agent.detect.content.lexicon import LEXICON_DIR

#: bump when a built-in rule changes meaning, so evidence records which rules were applied
RULES_VERSION = "2026.11.1"


class _Custom:
    def __init__(self, rule: CustomRule) -> None:
        self.rule = rule
        words = [re.escape(k) for k in rule.keywords]
        parts = ([rf"(?<!\w)(?:{'|'.join(words)})(?!\w)"] if words else []) + list(rule.patterns)
        self.regex = re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)

    def scan(self, text: str) -> list[Hit]:
        label = self.rule.label or f"matches the city rule {self.rule.name!r}"
        return [Hit(f"custom:{self.rule.name}", "custom", self.rule.severity, label, m.group(0))
                for m in self.regex.finditer(text) if m.group(0)]


class ContentRules:
    """Every enabled rule set; :meth:`scan` gives the hits in one text."""

    def __init__(self, settings: RulesSettings) -> None:
        self.settings = settings
        self.custom = [_Custom(rule) for rule in settings.custom]

    def clause_for(self, rule_set: str) -> str:
        """The policy clause a rule set enforces."""
        if rule_set.startswith("custom:"):
            name = rule_set.split(":", 1)[1]
            return next(c.rule.clause for c in self.custom if c.rule.name == name)
        return getattr(self.settings, rule_set).clause

    def scan(self, text: str, links: Iterable[str] = (), by_public: bool = True) -> list[Hit]:
        """Hits of every rule set that applies to text written by the page or the public."""
        s = self.settings
        who = "public" if by_public else "page"

        def on(rule_set: RuleSetSettings) -> bool:
            return rule_set.enabled and who in rule_set.applies_to

        hits: list[Hit] = []
        if on(s.personal_data):
            found = personal.ssns(text) + personal.cards(text) + personal.medical_and_financial(text)
            if by_public:
                found += personal.phones(text, s.city_phone_numbers)
                found += personal.emails(text, s.city_email_domains)
                found += personal.addresses(text, s.city_addresses)
            hits += _override(found, s.personal_data)
        if on(s.profanity):
            hits += _override(abuse.profanity(text, s.extra_profanity), s.profanity)
        if on(s.harassment):
            hits += _override(abuse.harassment(text, s.extra_slurs), s.harassment)
        if on(s.political):
            hits += _override(campaign.campaigning(text, s.candidates), s.political)
        if on(s.spam):
            hits += _override(spam.spam(text, links), s.spam)
        for custom in self.custom:
            if who in custom.rule.applies_to:
                hits += custom.scan(text)
        return hits

    @cached_property
    def version(self) -> str:
        """A short hash of the rules in force (settings, lexicons, built-in version)."""
        digest = hashlib.sha256(RULES_VERSION.encode())
        digest.update(json.dumps(self.settings.model_dump(mode="json"), sort_keys=True).encode())
        for path in sorted(LEXICON_DIR.glob("*.txt")):
            digest.update(path.read_bytes())
        return f"{RULES_VERSION}+{digest.hexdigest()[:12]}"


def _override(hits: list[Hit], settings: RuleSetSettings) -> list[Hit]:
    if settings.severity is None:
        return hits
    return [Hit(h.rule_set, h.rule, settings.severity, h.label, h.excerpt) for h in hits]
