"""Pure facts about links and the pages they lead to: no network, no clock.

Used by :mod:`flows.linkcheck`: what a link's scheme asks for, whether a ``mailto:``
or ``tel:`` link is well formed, what a page's title, heading and anchors are, whether
a page that answered 200 is really a "not found" page, and how long ``Retry-After``
asks us to wait.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urldefrag, urlsplit

#: statuses that move the link elsewhere
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: statuses worth asking again after a pause
TRANSIENT_STATUSES = frozenset({502, 503, 504})

# Titles and headings that say "not found", in the languages US and European cities publish in.
_NOT_FOUND = re.compile(
    r"""
    \b(?:error\s*404|404\s*(?:error|not\s+found|page)|http\s*404)\b
    | ^\s*404\s*(?:$|[-–—|:.!])
    | \bpage\s+(?:was\s+)?not\s+found\b | \bnot\s+found\s*$ | ^\s*not\s+found\b
    | \b(?:page|document|file|resource)\s+(?:does\s+not|doesn['’]t)\s+exist\b
    | \bpage\s+(?:is\s+)?no\s+longer\s+available\b
    | \bp[aá]gina\s+no\s+(?:encontrada|existe)\b | \bno\s+se\s+(?:encontr[oó]|ha\s+encontrado)\s+la\s+p[aá]gina\b
    | \bpage\s+introuvable\b | \bla\s+page\s+(?:demand[ée]e\s+)?n['’]existe\s+pas\b
    | \bseite\s+(?:wurde\s+)?nicht\s+gefunden\b | \bnicht\s+gefunden\b
    | \bpagina\s+non\s+trovata\b | \bp[aá]gina\s+n[aã]o\s+encontrada\b
    | \bpagina\s+niet\s+gevonden\b | \bnie\s+znaleziono\s+strony\b | \bstrona\s+nie\s+istnieje\b
    | страница\s+не\s+найдена | không\s+tìm\s+thấy\s+trang | hindi\s+mahanap\s+ang\s+pahina
    | 找不到(?:页面|網頁|网页|頁面) | 页面不存在 | ページが見つかりません | 페이지를\s*찾을\s*수\s*없습니다
    """,
    re.IGNORECASE | re.VERBOSE,
)

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_PHONE = re.compile(r"^\+?[0-9().\- ]+(?:;ext=[0-9]+)?(?:;[a-z-]+=[^;]*)*$", re.IGNORECASE)


def scheme_of(url: str) -> str:
    """The link's scheme, lower case ('' when it has none); pure."""
    return urlsplit(url.strip()).scheme.lower()


def mailto_problem(url: str) -> str | None:
    """Why a ``mailto:`` link is malformed, or None when every address is well formed; pure."""
    target = url.strip()[len("mailto:"):].split("?", 1)[0]
    addresses = [unquote(a).strip() for a in target.split(",") if a.strip()]
    if not addresses:
        return "the mailto: link names no address"
    bad = [a for a in addresses if not _EMAIL.match(a)]
    return f"not a valid e-mail address: {bad[0]!r}" if bad else None


def tel_problem(url: str) -> str | None:
    """Why a ``tel:`` link is malformed, or None; pure (RFC 3966, leniently)."""
    number = unquote(url.strip()[len("tel:"):])
    digits = re.sub(r"\D", "", number.split(";", 1)[0])
    if not _PHONE.match(number) or not 3 <= len(digits) <= 15:
        return f"not a valid telephone number: {number!r}"
    return None


def split_fragment(url: str) -> tuple[str, str]:
    """The URL without its ``#fragment``, and the fragment (decoded); pure."""
    base, fragment = urldefrag(url.strip())
    return base, unquote(fragment)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date); pure."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class PageFacts:
    """What soft-404 detection and fragment checks need from an HTML page."""

    title: str = ""
    heading: str = ""
    anchors: frozenset[str] = field(default_factory=frozenset)
    text_length: int = 0

    def says_not_found(self) -> bool:
        """Does the title or the first heading say the page was not found?"""
        return bool(_NOT_FOUND.search(self.title) or _NOT_FOUND.search(self.heading))


#: a comment, a declaration or processing instruction, or a start or end tag (quoted
#: attribute values may contain ">")
_MARKUP = re.compile(r"""<!--.*?-->|<![^>]*>|<\?[^>]*>|<(/?)([a-zA-Z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""",
                     re.DOTALL)
_ANCHOR_ATTR = re.compile(r"""(?:^|[\s/"'])(id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
#: elements whose content is never the page's visible text
_HIDDEN = frozenset({"script", "style", "noscript", "template"})
#: elements whose content is raw text, not markup (a "<h1>" inside a script is not a heading)
_RAW = frozenset({"script", "style"})


def _anchors(tag: str, attrs: str) -> list[str]:
    """The ids (and, on ``<a>``, names) in a start tag's attribute text, unescaped; pure."""
    lowered = attrs.lower()  # attribute names are case-insensitive: <div Id=...>
    if "id" not in lowered and not (tag == "a" and "name" in lowered):
        return []
    found = []
    for match in _ANCHOR_ATTR.finditer(attrs):
        name, value = match.group(1).lower(), next(v for v in match.group(2, 3, 4) if v is not None)
        if value and (name == "id" or tag == "a"):
            found.append(html.unescape(value))
    return found


def _text(markup: str) -> str:
    """Text between tags with its character references resolved; pure."""
    return html.unescape(markup) if "&" in markup else markup


class _Facts:
    """Collects the facts from a page's tags and text, whichever parser reads them
    (:func:`page_facts`; tests feed it from ``html.parser`` to compare)."""

    def __init__(self) -> None:
        self.title: list[str] = []
        self.heading: list[str] = []
        self.anchors: set[str] = set()
        self.text = 0
        self.inside: str | None = None
        self.heading_done = False
        self.hidden = 0

    def start(self, tag: str, anchors: Iterable[str]) -> None:
        self.anchors.update(anchors)
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "title" and not self.title:
            self.inside = "title"
        elif tag in ("h1", "h2") and not self.heading_done:
            self.inside = "heading"

    def end(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "title" and self.inside == "title":
            self.inside = None
        elif tag in ("h1", "h2") and self.inside == "heading":
            self.inside, self.heading_done = None, True

    def data(self, data: str) -> None:
        if self.hidden:
            return
        if self.inside == "title":
            self.title.append(data)
        elif self.inside == "heading":
            self.heading.append(data)
        self.text += len(data.strip())

    def result(self) -> PageFacts:
        squash = lambda parts: " ".join(" ".join(parts).split())
        return PageFacts(squash(self.title), squash(self.heading), frozenset(self.anchors), self.text)


def page_facts(body: bytes, charset: str | None = None) -> PageFacts:
    """Title, first heading, anchor ids and text length of (the start of) an HTML page; pure.

    One pass of a regular expression over the markup rather than ``html.parser``: the same
    facts (tests/flows/test_linkfacts.py compares both on real pages), several times faster
    on a large page.
    """
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    facts = _Facts()
    lowered: str | None = None
    pos = 0
    while True:
        match = _MARKUP.search(text, pos)
        if match is None:
            if pos < len(text) and "<" not in text[pos:]:
                facts.data(_text(text[pos:]))  # an unfinished construct at the end is left out, as html.parser does
            break
        if match.start() > pos:
            facts.data(_text(text[pos:match.start()]))
        pos = match.end()
        closing, tag, attrs = match.group(1, 2, 3)
        if tag is None:
            continue  # a comment, a doctype, a processing instruction
        tag = tag.lower()
        if closing:
            facts.end(tag)
            continue
        facts.start(tag, _anchors(tag, attrs))
        if tag in _RAW:  # skip to its end tag: what is inside is not markup
            lowered = lowered if lowered is not None else text.lower()
            end = lowered.find(f"</{tag}", pos)
            pos = end if end >= 0 else len(text)
    return facts.result()


def looks_like_probe(page: PageFacts, page_final: str, probe: PageFacts, probe_final: str, requested: str) -> bool:
    """Is this 200 page the same "not found" page the host gives for a random path? pure.

    ``probe`` is what the host answered (with 200) for a path that cannot exist. A page
    that ended at the same place from elsewhere, or carries the same title with a body of
    nearly the same size, is that page.
    """
    if urlsplit(page_final).path in ("", "/"):
        return False  # a site's home page is never its own "not found" page
    if page_final == probe_final and split_fragment(requested)[0] != page_final:
        return True
    if not page.title or page.title != probe.title:
        return False
    larger = max(page.text_length, probe.text_length, 1)
    return abs(page.text_length - probe.text_length) / larger <= 0.1


_FILE_SUFFIX = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|odt|ods|zip|gz|tgz|7z|rar|jpe?g|png|gif|webp|svg|tiff?|mp[34]|m4a|mov|avi|wav"
    r"|csv|ics|txt|json|xml|kml|kmz|shp|exe|msi|dmg|iso)$", re.IGNORECASE)


def is_file_path(url: str) -> bool:
    """Does the URL name a file (a document, an image, an archive) rather than a page? pure."""
    return bool(_FILE_SUFFIX.search(urlsplit(url).path))


def is_html(content_type: str | None) -> bool:
    """Is this Content-Type an HTML page? pure."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type, if any; pure."""
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None
