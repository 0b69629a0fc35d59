"""What the link checker reads from a page: title, first heading, anchors, text length."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest

from flows.linkfacts import PageFacts, _Facts, page_facts
from sandbox.linkfarm import LinkFarm
from sandbox.server import ThreadedServer
from tests.conftest import Site


class _Reference(HTMLParser):
    """The standard library's parser feeding the same collector: the oracle for page_facts's
    own reading of tags, attributes, entities, comments and scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = _Facts()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.facts.start(tag, [v for n, v in attrs if v and (n == "id" or (n == "name" and tag == "a"))])

    def handle_endtag(self, tag: str) -> None:
        self.facts.end(tag)

    def handle_data(self, data: str) -> None:
        self.facts.data(data)


def reference(body: bytes) -> PageFacts:
    parser = _Reference()
    parser.feed(body.decode("utf-8", errors="replace"))
    return parser.facts.result()


def same(ours: PageFacts, theirs: PageFacts) -> bool:
    """The same title, heading and anchors; the text length may differ by a character or two
    where html.parser splits text at a stray "<" and trims each piece."""
    return (ours.title, ours.heading, ours.anchors) == (theirs.title, theirs.heading, theirs.anchors) and \
        abs(ours.text_length - theirs.text_length) <= max(2, theirs.text_length // 100)


EDGE_CASES = {
    "entities": b"<title>Parks &amp; Recreation &#8211; 404</title><h1>Caf&eacute; &lt;closed&gt;</h1>",
    "script with markup": b"<title>T</title><script>if (a<b) document.write('<h1 id=\"x\">no</h1>')</script><h1>Yes</h1>",
    "style": b"<STYLE>h1 { content: '<h2>' }</STYLE><H2 ID=Upper>Upper case</H2>",
    "comment": b"<!-- <title>old</title> --><title>new</title><!--x--><h1>h</h1>",
    "quoted >": b"<div data-x=\"a>b\" id='q1'>text</div><a name=\"top-of-page\">t</a><span name=\"nope\">n</span>",
    "unquoted and spaced": b"<p id = spaced>1</p><p\nid=\"nl\">2</p><img id=pic/><br/>",
    "hidden": b"<noscript><h1>Enable JS</h1></noscript><template><p id=t>x</p></template><h1>Shown</h1>",
    "headings": b"<h2>First</h2><h1>Second</h1>",
    "nested heading": b"<h1>Page <span>not</span> found</h1>",
    "doctype and pi": b"<!DOCTYPE html><?xml version=\"1.0\"?><html><title>Doc</title></html>",
    "stray <": b"<p>a < b and c<d</p><title>x</title>",
    "data attributes with id in them": b"<div data-identity=\"x\" grid=\"y\">z</div><p valid=\"1\">w</p>",
    "entity in id": b"<h2 id=\"a&amp;b\">s</h2>",
    "mixed-case attribute names": b"<div Id=\"mixed\">m</div><A Name=\"old-anchor\">a</A><p iD='x2'>p</p>",
    "no markup": b"plain text page",
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_page_facts_match_the_standard_parser_on_awkward_markup(name: str) -> None:
    body = EDGE_CASES[name]
    assert same(page_facts(body), reference(body))


def test_the_facts_of_an_awkward_page() -> None:
    facts = page_facts(EDGE_CASES["script with markup"] + EDGE_CASES["quoted >"] + EDGE_CASES["entities"])
    assert facts.title == "T" and facts.heading == "Yes"
    assert facts.anchors == {"q1", "top-of-page"}  # not the id written by the script, not a span's name
    assert page_facts(EDGE_CASES["entities"]).title == "Parks & Recreation – 404"
    assert page_facts(EDGE_CASES["nested heading"]).says_not_found()


def test_page_facts_match_the_standard_parser_on_every_sandbox_page(site: Site) -> None:
    site.admin.reset("bench", accounts=2, posts=40)
    paths = ["/", "/login", "/site/", "/site/page1", "/p/bench000?all=1", "/p/bench001", "/p/no-such-page"]
    with httpx.Client(base_url=site.base_url) as client:
        pages = [client.get(p).content for p in paths]
    assert max(len(p) for p in pages) > 50_000  # a full feed page is among them
    for path, body in zip(paths, pages, strict=True):
        assert same(page_facts(body), reference(body)), path


def test_page_facts_match_the_standard_parser_on_the_link_farm() -> None:
    farm = LinkFarm(slow_s=0.0)
    kinds = ["ok", "nohead", "soft404", "missing", "gone", "error", "flaky", "slow"]
    with ThreadedServer(farm) as server, httpx.Client(base_url=server.base_url) as client:
        pages = {kind: client.get(f"/{kind}/1").content for kind in kinds}
        pages["home"] = client.get("/").content
    for kind, body in pages.items():
        assert same(page_facts(body), reference(body)), kind
