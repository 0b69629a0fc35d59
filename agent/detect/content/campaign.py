"""Political campaigning: asking people to vote for or against someone or a measure."""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.detect.content.hits import Hit

_OFFICE = (
    r"(?:mayor|council(?:man|woman|member|or)?|alder(?:man|woman|person)|sheriff|commissioner|"
    r"supervisor|senat(?:e|or)|congress(?:man|woman)?|governor|president|judge|treasurer|clerk|"
    r"assessor|trustee|school board|board|district|ward|seat|representative|assembly(?:man|woman|member)?|da\b|"
    r"district attorney|attorney general|office)"
)
_NAME = r"(?:[A-Z][a-z'’]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'’]+|[A-Z]\.)){1,2}"
_VERB = r"(?i:vote for|vote against|elect|re-?elect|support|endorse|back|choose)"
_CAMPAIGN = re.compile(
    rf"\b{_VERB}\s+(?:(?i:mayor|sheriff|councilmember|commissioner|judge|senator)\s+)?(?P<name>{_NAME})"
)
_MEASURE = re.compile(
    r"\bvote (?:yes|no) on (?:measure|prop(?:osition)?|question|issue|amendment|referendum|initiative|ballot question) "
    r"\w+|\bvote (?:yes|no) on \d+\b",
    re.IGNORECASE,
)
_HASHTAG = re.compile(r"#(?i:vote|elect|re-?elect)[A-Z][A-Za-z]+\d*\b|#[A-Z][A-Za-z]+(?:For|4)(?:Mayor|Sheriff|Council|Senate|Governor)\w*\b")
_OFFICE_NEAR = re.compile(rf"\b{_OFFICE}\b|\bfor (?:re-?)?election\b|\bon (?:tuesday|election day|november \d+)", re.IGNORECASE)


def campaigning(text: str, candidates: Iterable[str] = ()) -> list[Hit]:
    """Calls to vote for/against a person (near an office or a known candidate) or a measure."""
    known = [c.lower() for c in candidates if c.strip()]
    hits = []
    for m in _CAMPAIGN.finditer(text):
        name = m.group("name")
        window = text[max(0, m.start() - 40) : m.end() + 60]
        if name.lower() in known or _OFFICE_NEAR.search(window):
            hits.append(Hit("political", "campaign", "medium", "political campaigning", m.group(0)))
    hits += [Hit("political", "measure", "medium", "political campaigning", m.group(0)) for m in _MEASURE.finditer(text)]
    hits += [Hit("political", "hashtag", "medium", "political campaigning", m.group(0)) for m in _HASHTAG.finditer(text)]
    lowered = text.lower()
    for candidate in known:
        if candidate in lowered and not any(candidate in h.excerpt.lower() for h in hits):
            start = lowered.index(candidate)
            if re.search(r"\b(vote|elect|support|endorse|campaign|ballot|donate|yard sign)\b",
                         lowered[max(0, start - 60) : start + len(candidate) + 60]):
                hits.append(Hit("political", "candidate", "medium", "political campaigning",
                                text[start : start + len(candidate)]))
    return hits
