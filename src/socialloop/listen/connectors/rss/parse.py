"""Parse RSS 2.0, RSS 1.0 (RDF) and Atom feeds into plain item dicts, safely.

``parse_feed(body, url, charset)`` returns the feed's items as JSON-able dicts (what the
connector stores as each post's raw payload and what ``map_entry`` maps). Parsing uses the
standard library's ``xml.etree`` (defusedxml is not installed): documents that declare
entities (``<!ENTITY``, the billion-laughs and external-entity attacks) are refused, and
external entities are never fetched.

Encodings: the XML declaration's ``encoding`` is honoured (ISO-8859-1, windows-1252 and the
other single-byte codecs by expat itself, multi-byte ones such as Shift_JIS through Python's
codecs); without one, the HTTP ``charset`` is used, else UTF-8. Bytes that are not valid in
that encoding are replaced with U+FFFD instead of failing the feed. A document that is still
not well-formed XML, or is not a feed, raises ``FeedError`` with the line and column.
"""

from __future__ import annotations

import codecs
import html
import re
import xml.etree.ElementTree as ET
from typing import Any

__all__ = ["FeedError", "parse_feed"]

_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"'][^>]*\?>")
_DECL_TEXT_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_ATOM = "http://www.w3.org/2005/Atom"


class FeedError(ValueError):
    """The body is not a readable RSS / Atom feed; the message says why and where."""


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _normalise(body: bytes, charset: str | None) -> bytes:
    """The body as UTF-8 bytes (kept as they are when they already are valid UTF-8)."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body  # UTF-16 with a byte order mark: expat reads it
    match = _DECL_RE.match(body[:200])
    if match:
        name = match.group(1).decode("ascii")
        encoding = _codec(name)
        if encoding is None:
            raise FeedError(f"unknown encoding {name!r} in the XML declaration")
    else:
        encoding = _codec(charset) or "utf-8"
    try:
        text = body.decode(encoding)
        if encoding == "utf-8":
            return body
    except UnicodeDecodeError:
        text = body.decode(encoding, errors="replace")
    text = _DECL_TEXT_RE.sub("", text, count=1)
    return text.encode("utf-8")


def _xhtml(el: ET.Element) -> str:
    """An inline XHTML element as plain HTML (namespace prefixes dropped, text escaped)."""
    tag = _local(el.tag)
    attrs = "".join(
        f' {_local(k)}="{html.escape(v)}"' for k, v in el.attrib.items() if _local(k) == "href"
    )
    inner = html.escape(el.text or "", quote=False) + "".join(_xhtml(c) for c in el)
    return f"<{tag}{attrs}>{inner}</{tag}>" + html.escape(el.tail or "", quote=False)


def _text(el: ET.Element | None) -> str | None:
    if el is None:
        return None
    if _local(el.tag) in ("content", "summary", "title") and el.get("type") == "xhtml":
        inner = "".join(_xhtml(child) for child in el)
        return (html.escape(el.text or "", quote=False) + inner).strip() or None
    value = "".join(el.itertext()).strip()
    return value or None


def _child(el: ET.Element, *names: str) -> ET.Element | None:
    for child in el:
        if _local(child.tag) in names:
            return child
    return None


def _all(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _atom_link(el: ET.Element) -> str | None:
    best = None
    for link in _all(el, "link"):
        href = link.get("href")
        if not href:
            if link.text and link.text.strip():  # RSS <link>url</link>
                return link.text.strip()
            continue
        if link.get("rel", "alternate") == "alternate":
            return href
        best = best or href
    return best


def _author(el: ET.Element) -> str | None:
    for name in ("creator", "author"):
        node = _child(el, name)
        if node is None:
            continue
        inner = _child(node, "name")
        value = _text(inner) if inner is not None else _text(node)
        if value:
            # RSS <author>: "mail@example.com (Jane Doe)"
            m = re.match(r"^\s*\S+@\S+\s*\((.+)\)\s*$", value)
            return m.group(1).strip() if m else value
    return None


def _entry(el: ET.Element, feed: dict[str, Any]) -> dict[str, Any]:
    is_atom = _local(el.tag) == "entry"
    guid = _child(el, "guid", "id")
    content = _child(el, "encoded") or _child(el, "content")
    summary = _child(el, "description", "summary")
    body_el = content if content is not None and _text(content) else summary
    body_type = body_el.get("type", "html") if body_el is not None and is_atom else "html"
    return {
        "feed_url": feed["url"],
        "feed_title": feed.get("title"),
        "feed_kind": feed["kind"],
        "id": _text(guid),
        "title": _text(_child(el, "title")),
        "link": _atom_link(el),
        "body": _text(body_el),
        "body_type": body_type,
        "author": _author(el) or feed.get("author"),
        "published": _text(_child(el, "pubDate", "published", "issued", "date")),
        "updated": _text(_child(el, "updated", "modified")),
        "categories": [
            v for c in _all(el, "category") if (v := c.get("term") or _text(c)) is not None
        ],
    }


def parse_feed(body: bytes, url: str, charset: str | None = None) -> list[dict[str, Any]]:
    """The items of an RSS / Atom document, in document order."""
    root_at = re.search(rb"<[A-Za-z]", body)
    if b"<!ENTITY" in (body[: root_at.start()] if root_at else body):
        raise FeedError("the document declares XML entities, which are refused for safety")
    try:
        root = ET.fromstring(_normalise(body, charset))
    except ET.ParseError as exc:
        line, col = exc.position
        raise FeedError(f"not well-formed XML at line {line}, column {col + 1}: {exc}") from None
    kind = _local(root.tag)
    if kind == "rss":
        channel = _child(root, "channel")
        if channel is None:
            raise FeedError("an <rss> document without <channel>")
        container, items, fmt = channel, _all(channel, "item"), "rss"
    elif kind == "feed":
        container, items, fmt = root, _all(root, "entry"), "atom"
    elif kind == "RDF":
        container = _child(root, "channel") or root
        items, fmt = _all(root, "item"), "rdf"
    else:
        raise FeedError(f"the document is <{kind}>, not an RSS or Atom feed")
    feed = {
        "url": url,
        "kind": fmt,
        "title": _text(_child(container, "title")),
        "author": _author(container),
    }
    return [_entry(item, feed) for item in items]
