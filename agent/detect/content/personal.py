"""Personal and confidential data in text: pure functions, each returning hits.

Phone numbers, e-mail addresses and street addresses are flagged only in what the public
wrote (a city post giving its office's number or an event's address is normal); SSNs,
payment cards and medical or financial details are flagged wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.detect.content.hits import Hit

#: 3-digit service numbers (911, 311...) and toll-free area codes are not personal numbers
_TOLL_FREE = {"800", "888", "877", "866", "855", "844", "833"}
_PHONE_CONTEXT = re.compile(
    r"\b(call|text|phone|cell|mobile|number|tel|reach|contact|whatsapp|ring|fax)\b|#", re.IGNORECASE
)
_NANP = re.compile(
    r"(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\((?P<a1>[2-9]\d{2})\)\s?|(?P<a2>[2-9]\d{2})[\s.-])"
    r"(?P<ex>[2-9]\d{2})[\s.-](?P<line>\d{4})(?![\w/-])"
)
_BARE10 = re.compile(r"(?<![\w/.-])(?:\+?1)?(?P<a>[2-9]\d{2})(?P<ex>[2-9]\d{2})\d{4}(?![\w/-])")
_SEVEN = re.compile(r"(?<![\w/.:-])[2-9]\d{2}-\d{4}(?![\w/-])")
_INTL = re.compile(r"(?<![\w+])\+(?!1[\s.-]?\(?[2-9])\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?![\w-])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b")
_SSN = re.compile(r"(?<![\w-])(?P<a>\d{3})-(?P<g>\d{2})-(?P<s>\d{4})(?![\w-])")
_SSN_WORDS = re.compile(r"\b(ssn|social security|soc\.? sec\.?)\b", re.IGNORECASE)
_SSN_BARE = re.compile(r"(?<![\w-])\d{9}(?![\w-])")
_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
_STREET_SUFFIX = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|circle|cir|parkway|pkwy|highway|hwy|trail|trl|square|sq)\b\.?"
)
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){{1,3}}{_STREET_SUFFIX}", re.IGNORECASE
)
_PERSONAL_PLACE = re.compile(
    r"\b(lives?|living|resides?|home|house|address|neighbou?rs?|apartment|apt|my place|his place|"
    r"her place|their place|moved to|staying at)\b",
    re.IGNORECASE,
)
_MEDICAL = re.compile(
    r"\b(diagnosed with|suffers from|suffering from|being treated for|was admitted to|in rehab for|"
    r"(?:is|was|tested) (?:hiv|hepatitis)[- ]positive|tested positive for|"
    r"(?:his|her|their|my) (?:medical records?|mental health|psychiatric|medications?|prescriptions?|"
    r"chemo(?:therapy)?|diagnosis|therapist)|\w+'s (?:medical|mental health|psychiatric) records?|medical records? of)\b",
    re.IGNORECASE,
)
_FINANCIAL = re.compile(
    r"\b((?:bank |checking |savings )?account (?:number|no\.?|#)\s*:?\s*\d{5,}|routing (?:number|no\.?)\s*:?\s*\d{9}|"
    r"pin(?: number| code)? (?:is )?\d{4}\b|credit score (?:is |of )?\d{3}|"
    r"(?:owes|owed|in debt)\s+\$[\d,]+|(?:his|her|their) (?:salary|paycheck|bank balance|debt) (?:is|was) \$[\d,]+)",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a payment card number; pure."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_issuer(digits: str) -> bool:
    return bool(re.match(r"4|5[1-5]|2[2-7]|3[47]|6011|65|35", digits))


def _masked(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return f"…{digits[-4:]}"


def _near(pattern: re.Pattern[str], text: str, start: int, end: int, window: int = 40) -> bool:
    return bool(pattern.search(text[max(0, start - window) : end + window]))


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def phones(text: str, allowed: Iterable[str] = ()) -> list[Hit]:
    """Telephone numbers (North American and international formats), minus allowed ones."""
    allow = {_digits(a)[-10:] for a in allowed if _digits(a)}
    allow_local = {a[-7:] for a in allow}
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], area: str | None) -> None:
        if any(s <= match.start() < e for s, e in taken):
            return
        taken.append((match.start(), match.end()))  # an allowed number's parts are not numbers either
        number = match.group(0)
        digits = _digits(number)
        if area in _TOLL_FREE or digits[-10:] in allow or digits[-7:] in allow_local:
            return
        hits.append(Hit("personal_data", "phone", "medium", "a phone number", number.strip()))

    for m in _NANP.finditer(text):
        add(m, m.group("a1") or m.group("a2"))
    for m in _BARE10.finditer(text):
        if _near(_PHONE_CONTEXT, text, m.start(), m.end()):
            add(m, m.group("a"))
    for m in _SEVEN.finditer(text):
        if _near(_PHONE_CONTEXT, text, m.start(), m.end(), 25):
            add(m, None)
    for m in _INTL.finditer(text):
        if len(_digits(m.group(0))) >= 8:
            add(m, None)
    return hits


def emails(text: str, allowed_domains: Iterable[str] = ()) -> list[Hit]:
    """E-mail addresses outside the allowed (city) domains."""
    allowed = tuple(d.lower().lstrip("@") for d in allowed_domains)
    hits = []
    for m in _EMAIL.finditer(text):
        domain = m.group("domain").lower()
        if any(domain == d or domain.endswith("." + d) for d in allowed):
            continue
        hits.append(Hit("personal_data", "email", "medium", "an e-mail address", m.group(0)))
    return hits


def ssns(text: str) -> list[Hit]:
    """US Social Security numbers: the 3-2-4 form, or 9 digits next to 'SSN'."""
    hits = []
    for m in _SSN.finditer(text):
        area, group, serial = m.group("a"), m.group("g"), m.group("s")
        if area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000":
            continue
        hits.append(Hit("personal_data", "ssn", "critical", "a Social Security number", _masked(m.group(0))))
    for m in _SSN_BARE.finditer(text):
        if _near(_SSN_WORDS, text, m.start(), m.end(), 30):
            hits.append(Hit("personal_data", "ssn", "critical", "a Social Security number", _masked(m.group(0))))
    return hits


def cards(text: str) -> list[Hit]:
    """Payment card numbers: 13-19 digits of a known issuer that pass the Luhn check."""
    hits = []
    for m in _CARD.finditer(text):
        digits = _digits(m.group(0))
        if 13 <= len(digits) <= 19 and _card_issuer(digits) and luhn_valid(digits):
            hits.append(Hit("personal_data", "card", "critical", "a payment card number", _masked(digits)))
    return hits


def addresses(text: str, allowed: Iterable[str] = ()) -> list[Hit]:
    """Street addresses tied to a person ("my neighbor at 412 Oak Street"), not mere places."""
    allow = [a.lower() for a in allowed]
    hits = []
    for m in _ADDRESS.finditer(text):
        found = m.group(0)
        if any(a in found.lower() for a in allow):
            continue
        if _near(_PERSONAL_PLACE, text, m.start(), m.end(), 30):
            hits.append(Hit("personal_data", "address", "medium", "a home address", found))
    return hits


def medical_and_financial(text: str) -> list[Hit]:
    """Medical conditions or financial details about a person."""
    hits = [Hit("personal_data", "medical", "high", "medical details", m.group(0)) for m in _MEDICAL.finditer(text)]
    hits += [Hit("personal_data", "financial", "high", "financial details", m.group(0)) for m in _FINANCIAL.finditer(text)]
    return hits
