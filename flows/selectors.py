"""Selector maps and login steps: the generic adapter's configuration, as validated data.

A field selector is a tiny language:

- ``".author"``       text of the first element matching the CSS selector
- ``"@data-id"``      attribute ``data-id`` of the item element itself
- ``"time@datetime"`` attribute ``datetime`` of the first matching descendant

``href``/``src`` attributes are resolved to absolute URLs.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, HttpUrl

_ATTR = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


def split_field_selector(value: str) -> tuple[str | None, str | None]:
    """Split ``"css@attr"`` into (css or None, attr or None); pure."""
    at = value.rfind("@")
    if at == -1 or "]" in value[at:] or not _ATTR.match(value[at + 1 :]):
        return value.strip(), None
    css = value[:at].strip()
    return (css or None), value[at + 1 :]


def _check_selector(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a selector must not be empty")
    css, attr = split_field_selector(value)
    if css is not None and css.count("[") != css.count("]"):
        raise ValueError(f"unbalanced brackets in selector {value!r}")
    if css is None and attr is None:
        raise ValueError(f"not a selector: {value!r}")
    return value


Selector = Annotated[str, AfterValidator(_check_selector)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SelectorMap(_Strict):
    """How to read an account page (``[accounts.selectors]``)."""

    post: Selector
    post_id: Selector = "@data-id"
    author: Selector
    publisher: Selector | None = None
    visitor_post: Selector | None = None
    time: Selector | None = None
    text: Selector
    link: Selector = "a[href]"
    comment: Selector | None = None
    comment_id: Selector | None = None
    comment_author: Selector | None = None
    comment_text: Selector | None = None
    comment_time: Selector | None = None
    #: links inside a comment (default: the ``link`` selector)
    comment_link: Selector | None = None
    visitor_composer: Selector | None = None
    profile_name: Selector
    profile_bio: Selector | None = None
    profile_links: Selector | None = None
    profile_avatar: Selector | None = None
    #: present once the feed has no more posts to load (saves waiting for idle)
    feed_end: Selector | None = None

    def as_script_arg(self) -> dict[str, list[str | None] | None]:
        """The map in the shape the extraction script expects: key -> [css, attr]."""
        out: dict[str, list[str | None] | None] = {}
        for key, value in self.model_dump().items():
            out[key] = list(split_field_selector(value)) if value else None
        return out


class LoginSteps(_Strict):
    """How to sign in (``[accounts.login]``); all values but the URLs are CSS selectors."""

    url: HttpUrl
    username: Selector
    password: Selector
    submit: Selector
    otp: Selector | None = None
    otp_submit: Selector | None = None
    success: Selector
    failure: Selector | None = None
    #: present when the site shows a CAPTCHA or "confirm it's you" checkpoint
    checkpoint: Selector | None = None
    settings_url: HttpUrl | None = None
    public_posting_setting: Selector | None = None


#: Runs in the page. Returns plain JSON: profile, posts with comments, feed_end, errors.
EXTRACT_SCRIPT = r"""
(spec) => {
  const errors = [];
  const all = (root, css) => {
    try { return Array.from(root.querySelectorAll(css)); }
    catch (e) { errors.push(`invalid CSS selector ${JSON.stringify(css)}`); return []; }
  };
  const clean = (s) => (s || '').replace(/[ \t\u00a0]+/g, ' ')
      .split('\n').map((l) => l.trim()).join('\n').replace(/\n{3,}/g, '\n\n').trim();
  const resolve = (v) => { try { return new URL(v, document.baseURI).href; } catch (e) { return v; } };
  const outside = (el, root, exclude) => {
    if (!exclude) return true;
    const hit = el.closest(exclude);
    return !hit || hit === root || !root.contains(hit);
  };
  const valueOf = (el, attr) => {
    if (!attr) return clean(el.innerText !== undefined ? el.innerText : el.textContent);
    const v = el.getAttribute(attr);
    if (v === null) return null;
    return (attr === 'href' || attr === 'src') ? resolve(v) : v.trim();
  };
  const one = (root, sel, exclude) => {
    if (!sel) return null;
    const [css, attr] = sel;
    if (!css) return valueOf(root, attr);
    const el = all(root, css).find((e) => outside(e, root, exclude));
    return el ? valueOf(el, attr) : null;
  };
  const many = (root, sel, exclude) => {
    if (!sel) return [];
    const [css, attr] = sel;
    const seen = new Set();
    for (const el of all(root, css || '*')) {
      if (!outside(el, root, exclude)) continue;
      const v = valueOf(el, attr || (el.hasAttribute('href') ? 'href' : null));
      if (v && !v.startsWith('javascript:')) seen.add(v);
    }
    return Array.from(seen);
  };
  const matchesOrHas = (el, sel) => {
    if (!sel) return false;
    try { return el.matches(sel[0]) || el.querySelector(sel[0]) !== null; }
    catch (e) { errors.push(`invalid CSS selector ${JSON.stringify(sel[0])}`); return false; }
  };
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return [Math.round(r.left + window.scrollX), Math.round(r.top + window.scrollY),
            Math.round(r.width), Math.round(r.height)];
  };
  const commentCss = spec.comment ? spec.comment[0] : null;
  const posts = all(document, spec.post[0]).map((el) => ({
    id: one(el, spec.post_id, commentCss),
    author: one(el, spec.author, commentCss),
    publisher: one(el, spec.publisher, commentCss),
    time: one(el, spec.time, commentCss),
    text: one(el, spec.text, commentCss),
    links: many(el, spec.link, commentCss),
    visitor: matchesOrHas(el, spec.visitor_post),
    box: box(el),
    comments: commentCss ? all(el, commentCss).map((c) => ({
      id: one(c, spec.comment_id),
      author: one(c, spec.comment_author),
      text: one(c, spec.comment_text),
      time: one(c, spec.comment_time),
      links: many(c, spec.comment_link || spec.link),
      box: box(c),
    })) : [],
  }));
  return {
    profile: {
      name: one(document, spec.profile_name),
      bio: one(document, spec.profile_bio),
      links: many(document, spec.profile_links),
      avatar: one(document, spec.profile_avatar),
    },
    posts,
    feed_end: spec.feed_end ? all(document, spec.feed_end[0]).length > 0 : false,
    errors,
  };
}
"""

#: Runs in the page: how many feed items are loaded now.
COUNT_SCRIPT = "(css) => document.querySelectorAll(css).length"
