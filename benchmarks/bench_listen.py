"""LISTEN live throughput: the connector path without the network.

1. a Mastodon hashtag source pages back through N statuses (40 a page, Link headers) served
   by ``httpx.MockTransport`` from pre-built JSON pages: fetch -> map (``formats.mastodon``)
   -> one transaction per page (upsert, brand match, checkpoint); no enrichment. Posts/s and
   pages/s of the whole run.
2. RSS parsing and mapping: a 200-item RSS 2.0 feed (HTML descriptions), items/s.

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import orjson


def _status(i: int) -> dict[str, Any]:
    when = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(seconds=i)
    user = f"user{i % 500}"
    return {
        "id": str(10**9 + i),
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://social.example/users/{user}/statuses/{10**9 + i}",
        "url": f"https://social.example/@{user}/{10**9 + i}",
        "replies_count": 0,
        "reblogs_count": i % 7,
        "favourites_count": i % 11,
        "edited_at": None,
        "content": f"<p>Trying the Acme latte number {i}, "
        f'<a href="https://social.example/tags/coffee" class="mention hashtag">#<span>coffee'
        f"</span></a> is {'great' if i % 2 else 'cold'}</p>",
        "reblog": None,
        "account": {
            "id": str(i % 500),
            "username": user,
            "acct": user,
            "display_name": user.title(),
            "note": "<p>Coffee person.</p>",
            "url": f"https://social.example/@{user}",
            "followers_count": i % 1000,
            "following_count": 10,
        },
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": "coffee", "url": "https://social.example/tags/coffee"}],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def _pages(n: int, per_page: int) -> dict[str | None, tuple[bytes, str]]:
    """Pages keyed by the max_id that asks for them (None: the newest)."""
    statuses = [_status(i) for i in range(n)][::-1]
    pages: dict[str | None, tuple[bytes, str]] = {}
    key: str | None = None
    for start in range(0, n, per_page):
        chunk = statuses[start : start + per_page]
        last, first = chunk[-1]["id"], chunk[0]["id"]
        link = (
            f'<https://social.example/api/v1/timelines/tag/coffee?max_id={last}>; rel="next", '
            f'<https://social.example/api/v1/timelines/tag/coffee?min_id={first}>; rel="prev"'
        )
        pages[key] = (orjson.dumps(chunk), link)
        key = last
    pages[key] = (b"[]", "")
    return pages


def bench_mastodon(n: int, tmp: Path) -> dict[str, Any]:
    from socialloop.listen.live import listen_once
    from socialloop.listen.sources import add_source
    from socialloop.workspace import Workspace

    per_page = 40
    pages = _pages(n, per_page)

    def handler(request: httpx.Request) -> httpx.Response:
        body, link = pages[request.url.params.get("max_id")]
        headers = {"content-type": "application/json"}
        if link:
            headers["link"] = link
        return httpx.Response(200, content=body, headers=headers)

    ws = Workspace.init(tmp / "ws")
    try:
        ws.add_brand("Acme", "acme")
        add_source(
            ws.store,
            "tag",
            "mastodon",
            {
                "instance": "https://social.example",
                "hashtag": "coffee",
                "max_pages": n // per_page + 2,
                "per_minute": 1e9,
            },
        )
        t = time.perf_counter()
        (report,) = listen_once(ws, transport=httpx.MockTransport(handler), enrich=False)
        seconds = time.perf_counter() - t
    finally:
        ws.close()
    assert report.new == n, report
    return {
        "benchmark": "listen_mastodon_pages",
        "posts": n,
        "pages": report.pages,
        "seconds": round(seconds, 3),
        "posts_per_s": round(n / seconds),
        "pages_per_s": round(report.pages / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def bench_rss(rounds: int = 20) -> dict[str, Any]:
    from socialloop.listen.connectors.rss import map_entry
    from socialloop.listen.connectors.rss.parse import parse_feed

    when = datetime(2026, 5, 1, tzinfo=UTC)
    items = "".join(
        f"<item><title>Review {i}</title><link>https://blog.example/{i}</link>"
        f"<guid>https://blog.example/{i}</guid><pubDate>{format_datetime(when)}</pubDate>"
        f"<description>&lt;p&gt;The &lt;b&gt;Acme&lt;/b&gt; grinder, part {i}.&lt;/p&gt;"
        f"&lt;p&gt;More &lt;a href='https://x.example/{i}'&gt;here&lt;/a&gt;&lt;/p&gt;"
        f"</description></item>"
        for i in range(200)
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>{items}</channel></rss>'
    )
    data = body.encode()
    t = time.perf_counter()
    for _ in range(rounds):
        for entry in parse_feed(data, "https://blog.example/feed"):
            map_entry({**entry, "fetched_at": "2026-05-01T00:00:00+00:00"})
    seconds = time.perf_counter() - t
    return {
        "benchmark": "listen_rss_parse_map",
        "items": 200 * rounds,
        "seconds": round(seconds, 3),
        "items_per_s": round(200 * rounds / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-listen-"))
    try:
        print(json.dumps(bench_mastodon(args.posts, tmp)), flush=True)
        print(json.dumps(bench_rss()), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
