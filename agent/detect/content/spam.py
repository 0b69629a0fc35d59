"""Spam and commercial solicitation: shortened links, "call now", get-rich offers, repeats."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from agent.detect.content.hits import Hit

SHORTENERS = (
    "bit.ly", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly", "t.ly", "cutt.ly", "rebrand.ly",
    "shorturl.at", "tiny.cc", "rb.gy", "s.id", "shorte.st", "adf.ly", "bl.ink", "lnkd.in", "t.co",
)
_SHORT = re.compile(r"(?<![\w.-])(?:https?://)?(?:www\.)?(" + "|".join(re.escape(s) for s in SHORTENERS) + r")/\w+",
                    re.IGNORECASE)
_SOLICIT = re.compile(
    r"\b(call now|text now|call today|order now|buy now|shop now|act now|limited time (?:offer|only)|"
    r"100% free|free (?:gift ?card|iphone|money|trial)|earn \$\d[\d,]*|make \$\d[\d,]*|"
    r"(?:work|money) from home|investment opportunity|guaranteed (?:income|returns?|profit)|"
    r"crypto(?:currency)? (?:investment|trading|opportunity|signals)|bitcoin (?:investment|trading|mining)|forex|"
    r"click (?:here|the link|my link|link in bio)|promo code|discount code|use (?:my )?code \w+|"
    r"dm me (?:for|to)|inbox me|check out my (?:page|channel|profile|store|shop)|follow me (?:on|at)|"
    r"onlyfans|cheap (?:viagra|cialis|pills|meds)|hot singles|\d+% off|we buy houses|cash for (?:your )?(?:house|home|car)s?)\b",
    re.IGNORECASE,
)


def spam(text: str, links: Iterable[str] = ()) -> list[Hit]:
    """Link shorteners (in the text or its links) and commercial solicitation phrases."""
    hits = [Hit("spam", "shortener", "low", "a shortened link", m.group(0)) for m in _SHORT.finditer(text)]
    for link in links:
        if _SHORT.search(link) and not any(h.excerpt in link or link in h.excerpt for h in hits):
            hits.append(Hit("spam", "shortener", "low", "a shortened link", link))
    hits += [Hit("spam", "solicitation", "low", "commercial solicitation", m.group(0)) for m in _SOLICIT.finditer(text)]
    return hits


def repeated(texts: Iterable[tuple[str, str, str]], threshold: int = 3) -> dict[str, int]:
    """Ids of items one author posted ``threshold`` or more times with the same text; pure.

    ``texts`` are (item id, author, text). Different people writing "Thank you!" is
    normal; one person pasting the same message under many posts is spam.
    """
    triples = [(item_id, author.casefold().strip(), " ".join(text.lower().split())) for item_id, author, text in texts]
    counts = Counter((author, norm) for _, author, norm in triples if len(norm) >= 12)
    return {item_id: counts[(author, norm)] for item_id, author, norm in triples
            if counts.get((author, norm), 0) >= threshold}
