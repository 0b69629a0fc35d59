"""What a content rule reports, and severities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    """low=0 … critical=3; pure."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type]


def highest(severities: list[Severity]) -> Severity:
    return max(severities, key=severity_rank)


@dataclass(frozen=True)
class Hit:
    """One rule matching one piece of text."""

    rule_set: str  # personal_data, profanity, harassment, political, spam, custom:NAME
    rule: str  # e.g. phone, ssn, masked_word, slur, threat, campaign, shortener
    severity: Severity
    label: str  # for people: "a phone number"
    excerpt: str  # what matched (numbers masked where the number itself is the harm)
