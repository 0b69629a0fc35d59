"""Profanity (including masked vulgarity) and harassment (slurs, threats, personal attacks)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.detect.content.hits import Hit
from agent.detect.content.lexicon import Lexicon

_THREAT = re.compile(
    r"\b(kill (?:yo)?urself|kys|go die|hope (?:you|u|he|she|they) (?:die|dies|get hit)|"
    r"(?:i|we)(?:'ll| will| am going to|'m going to|'m gonna| gonna) (?:kill|hurt|shoot|find) (?:you|u|him|her|them)|"
    r"(?:you|u|he|she) (?:should|deserves? to) (?:be shot|die|hang)|i know where (?:you|u|he|she) lives?|"
    r"watch your back|you(?:'re| are) dead)\b",
    re.IGNORECASE,
)
_INSULTS = (
    "idiot|idiots|moron|morons|imbecile|imbeciles|loser|losers|scumbag|scumbags|scum|clown|clowns|"
    "lowlife|degenerate|degenerates|piece of (?:shit|garbage|trash|crap)|waste of (?:space|oxygen)|"
    "pig|pigs|halfwit|dimwit|nitwit|cretin|cretins"
)
_ATTACK = re.compile(
    rf"\b(?:you(?:'re| are| r)?|u r|ur|(?:is|are|'s) (?:a|an|such an?|the biggest|a total|a complete)?)\s*"
    rf"(?:a |an |such an? |total |complete |stupid |fat |lazy |corrupt )*(?:{_INSULTS})\b",
    re.IGNORECASE,
)
_EXCLAIMED = re.compile(rf"\b(?:what|such) an? (?:\S+ )?(?:{_INSULTS})\b", re.IGNORECASE)
_DEGRADING = re.compile(r"\b(piece of (?:shit|garbage|trash|crap)|waste of (?:space|oxygen))\b", re.IGNORECASE)
_SHUT_UP = re.compile(r"\b(shut up|shut your (?:mouth|trap))\b", re.IGNORECASE)
_GO_BACK = re.compile(
    r"\bgo back (?:to|where) (?:your|you|they|his|her) (?:own )?(?:country|came from|belong)\b", re.IGNORECASE
)


def profanity(text: str, extra: Iterable[str] = ()) -> list[Hit]:
    """Vulgar words, also when masked ("f*ck"), leet ("sh!t"), spaced or stretched."""
    lexicon = Lexicon.load("profanity")
    if extra:
        lexicon = Lexicon([*lexicon.words, *extra])
    hits = []
    for found in lexicon.find(text):
        rule = "masked_word" if found.found.lower() != found.word else "word"
        hits.append(Hit("profanity", rule, "medium", "vulgar language", found.found))
    return hits


def harassment(text: str, extra: Iterable[str] = ()) -> list[Hit]:
    """Slurs, threats, personal attacks and "go back to your country"."""
    slurs = Lexicon.load("slurs")
    if extra:
        slurs = Lexicon([*slurs.words, *extra])
    hits = [Hit("harassment", "slur", "high", "a slur", h.found) for h in slurs.find(text)]
    hits += [Hit("harassment", "threat", "critical", "a threat", m.group(0)) for m in _THREAT.finditer(text)]
    hits += [Hit("harassment", "attack", "high", "a personal attack", m.group(0)) for m in _ATTACK.finditer(text)]
    hits += [Hit("harassment", "attack", "high", "a personal attack", m.group(0)) for m in _EXCLAIMED.finditer(text)]
    hits += [Hit("harassment", "attack", "medium", "a personal attack", m.group(0)) for m in _SHUT_UP.finditer(text)]
    if not any(h.rule == "attack" for h in hits):
        hits += [Hit("harassment", "attack", "high", "a personal attack", m.group(0)) for m in _DEGRADING.finditer(text)]
    hits += [Hit("harassment", "discrimination", "high", "discriminatory language", m.group(0))
             for m in _GO_BACK.finditer(text)]
    return hits
