"""RSS / Atom connector: RSS 2.0, Atom and RSS 1.0 mapping, HTML to text, conditional GET,
guid dedup and updated items, non-UTF-8 feeds, malformed feeds and refused entities."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from socialloop.listen.connectors.rss import map_entry
from socialloop.listen.connectors.rss.parse import FeedError, parse_feed
from socialloop.listen.live import listen_once
from socialloop.listen.sources import add_source, get_source
from socialloop.store.schema import posts
from socialloop.workspace import Workspace
from tests._listen_fakes import T0, FakeFeed, rss, transport

URL = "https://blog.example/feed.xml"

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Reviews</title>
  <author><name>Site Team</name></author>
  <entry>
    <title type="html">Brewhaven &lt;b&gt;grinder&lt;/b&gt; review</title>
    <link rel="alternate" href="https://reviews.example/grinder"/>
    <link rel="edit" href="https://reviews.example/edit/1"/>
    <id>tag:reviews.example,2026:1</id>
    <published>2026-05-01T10:00:00Z</published>
    <updated>2026-05-02T10:00:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Solid <em>burr</em>
      set.</p><p>See <a href="https://shop.example/g">shop</a></p></div></content>
  </entry>
  <entry>
    <title>Second</title>
    <id>tag:reviews.example,2026:2</id>
    <updated>2026-05-03T10:00:00Z</updated>
    <author><name>Kim</name></author>
    <summary type="text">plain &amp; simple</summary>
  </entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://old.example/"><title>Old</title></channel>
  <item rdf:about="https://old.example/1"><title>RDF item</title><link>https://old.example/1</link>
    <dc:date>2026-05-01T08:00:00Z</dc:date><dc:creator>Ed</dc:creator></item>
</rdf:RDF>"""


def run(ws: Workspace, fake: FakeFeed, *names: str, **kw: Any) -> list[Any]:
    kw.setdefault("enrich", False)
    return listen_once(ws, names or ["feed"], transport=transport(fake), sleep=lambda s: None, **kw)


def texts(ws: Workspace) -> dict[str, str]:
    with ws.store.begin() as conn:
        return {r.id: r.text for r in conn.execute(select(posts.c.id, posts.c.text))}


def test_rss_item_mapping_html_to_text() -> None:
    body = rss([("g1", "Brewhaven &amp; friends",
                 "<p>Great <b>beans</b> &amp; more.</p><script>alert(1)</script>"
                 '<ul><li>one</li><li>two</li></ul><a href="https://x.example/y">y</a>',
                 T0)])  # fmt: skip
    (entry,) = parse_feed(body, URL)
    post = map_entry({**entry, "fetched_at": "2026-05-05T00:00:00+00:00"})
    assert post.id == "rss:g1" and post.network == "rss"
    assert post.text.startswith("Brewhaven & friends\n\nGreat beans & more.")
    assert "alert" not in post.text and "one" in post.text and "two" in post.text
    assert post.created_at == T0 and post.url == "https://blog.example/g1"
    assert post.links == ["https://blog.example/g1", "https://x.example/y"]
    assert post.author is not None and post.author.handle == "Jane Roaster@blog.example"


def test_atom_and_rdf_feeds() -> None:
    first, second = [map_entry(e) for e in parse_feed(ATOM, URL)]
    assert first.id == "rss:tag:reviews.example,2026:1"
    assert first.text == "Brewhaven grinder review\n\nSolid burr set.\n\nSee shop"
    assert first.url == "https://reviews.example/grinder"
    assert "https://shop.example/g" in first.links
    assert first.created_at == T0 - timedelta(hours=2)  # published wins over updated
    assert first.author is not None and first.author.handle == "Site Team@reviews.example"
    assert second.text == "Second\n\nplain & simple"
    assert second.author is not None and second.author.name == "Kim"
    (item,) = [map_entry(e) for e in parse_feed(RDF, URL)]
    assert item.id == "rss:https://old.example/1" and item.author is not None
    assert item.author.handle == "Ed@old.example"


@pytest.mark.parametrize("encoding", ["iso-8859-1", "windows-1252", "shift_jis"])
def test_declared_non_utf8_encodings(encoding: str) -> None:
    title = "珈琲 良い" if encoding == "shift_jis" else "Café crème"
    body = rss([("g", title, "<p>Brühe</p>" if encoding != "shift_jis" else "<p>珈琲</p>", T0)],
               encoding=encoding)  # fmt: skip
    (entry,) = parse_feed(body, URL)
    assert entry["title"] == title


def test_charset_from_http_and_invalid_bytes_are_replaced() -> None:
    body = rss([("g", "Café", "x", T0)], encoding="iso-8859-1")
    body = body.replace(b' encoding="iso-8859-1"', b"")  # no declaration: the HTTP charset
    assert parse_feed(body, URL, "iso-8859-1")[0]["title"] == "Café"
    broken = rss([("g", "Caf\u00e9", "x", T0)]).replace("é".encode(), b"\xe9")  # latin-1 byte
    assert parse_feed(broken, URL)[0]["title"] == "Caf\ufffd"


def test_malformed_feeds_and_entities_are_refused() -> None:
    with pytest.raises(FeedError, match="not well-formed XML at line 3"):
        parse_feed(b"<?xml version='1.0'?>\n<rss><channel>\n<item><title>x</item>", URL)
    with pytest.raises(FeedError, match="<html>, not an RSS or Atom feed"):
        parse_feed(b"<html><body>hi</body></html>", URL)
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><rss/>'
    with pytest.raises(FeedError, match="entities"):
        parse_feed(bomb, URL)


def test_conditional_get_and_guid_dedup(ws: Workspace) -> None:
    add_source(ws.store, "feed", "rss", {"url": URL})
    fake = FakeFeed(body=rss([("a", "A", "first", T0), ("b", "B", "second", T0)]))
    (report,) = run(ws, fake)
    assert report.new == 2
    cp = get_source(ws.store, "feed").checkpoint or {}
    assert cp["etag"] == '"v1"' and cp["last_modified"].endswith("GMT")

    fake.requests.clear()
    (report,) = run(ws, fake)  # unchanged: 304
    assert fake.requests[0].headers["if-none-match"] == '"v1"'
    assert fake.requests[0].headers["if-modified-since"] == fake.last_modified
    assert report.items == 0 and report.new == 0

    # a new version of the feed: one new item, one repeated, one updated (new date)
    fake.etag = '"v2"'
    fake.body = rss([("c", "C", "third", T0 + timedelta(hours=1)), ("a", "A", "first", T0),
                     ("b", "B", "second, corrected", T0 + timedelta(minutes=5))])  # fmt: skip
    (report,) = run(ws, fake)
    assert report.items == 2 and report.new == 1 and report.updated == 1
    stored = texts(ws)
    assert len(stored) == 3 and stored["rss:b"] == "B\n\nsecond, corrected"


def test_malformed_feed_names_the_source_and_others_still_run(ws: Workspace) -> None:
    add_source(ws.store, "a-broken", "rss", {"url": "https://broken.example/feed"})
    add_source(ws.store, "b-fine", "rss", {"url": URL})

    class Two(FakeFeed):
        def respond(self, request: Any) -> tuple[int, dict[str, str], bytes]:
            if request.url.host == "broken.example":
                return 200, {"content-type": "text/xml"}, b"<rss><channel><item>"
            return super().respond(request)

    fake = Two(body=rss([("a", "A", "first", T0)]))
    bad, good = run(ws, fake, "a-broken", "b-fine")
    assert bad.status == "error" and bad.error_kind == "PayloadChanged"
    assert "source 'a-broken'" in (bad.error or "")
    assert "https://broken.example/feed" in (bad.error or "") and "line 1" in (bad.error or "")
    assert good.status == "ok" and good.new == 1
    assert get_source(ws.store, "a-broken").last_status == "error"


def test_feed_gone_is_endpoint_gone(ws: Workspace) -> None:
    add_source(ws.store, "feed", "rss", {"url": URL})

    class Gone(FakeFeed):
        def respond(self, request: Any) -> tuple[int, dict[str, str], bytes]:
            return 410, {}, b"gone"

    (report,) = run(ws, Gone())
    assert report.error_kind == "EndpointGone"


def test_latin1_feed_over_http_is_stored_with_its_accents(ws: Workspace) -> None:
    add_source(ws.store, "feed", "rss", {"url": URL})
    body = rss([("a", "Crème brûlée latte", "<p>Très bon café</p>", T0)], encoding="iso-8859-1")
    body = body.replace(b' encoding="iso-8859-1"', b"")  # only the HTTP header says it
    fake = FakeFeed(body=body, content_type="application/rss+xml; charset=ISO-8859-1")
    (report,) = run(ws, fake)
    assert report.new == 1
    assert texts(ws)["rss:a"] == "Crème brûlée latte\n\nTrès bon café"
