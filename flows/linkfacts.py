"""Pure facts about links and the pages they lead to: no network, no clock.

Used by :mod:`flows.linkcheck`: what a link's scheme asks for, whether a ``mailto:``
or ``tel:`` link is well formed, what a page's title, heading and anchors are, whether
a page that answered 200 is really a "not found" page, and how long ``Retry-After``
asks us to wait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
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


class _FactsParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.heading: list[str] = []
        self.anchors: set[str] = set()
        self.text = 0
        self._in: str | None = None
        self._heading_done = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (name == "name" and tag == "a")):
                self.anchors.add(value)
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag == "title" and not self.title:
            self._in = "title"
        elif tag in ("h1", "h2") and not self._heading_done:
            self._in = "heading"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag == "title" and self._in == "title":
            self._in = None
        elif tag in ("h1", "h2") and self._in == "heading":
            self._in, self._heading_done = None, True

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in == "title":
            self.title.append(data)
        elif self._in == "heading":
            self.heading.append(data)
        self.text += len(data.strip())


def page_facts(body: bytes, charset: str | None = None) -> PageFacts:
    """Title, first heading, anchor ids and text length of (the start of) an HTML page; pure."""
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    parser = _FactsParser()
    parser.feed(text)
    squash = lambda parts: " ".join(" ".join(parts).split())
    return PageFacts(squash(parser.title), squash(parser.heading), frozenset(parser.anchors), parser.text)


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
