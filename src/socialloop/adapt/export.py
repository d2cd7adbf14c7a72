"""Write posts to CSV, JSONL or Parquet, streaming (constant memory)."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from socialloop.errors import ExportError
from socialloop.models import Post

EXPORT_FORMATS = ("csv", "jsonl", "parquet")

CSV_FIELDS = [
    "id",
    "network",
    "created_at",
    "author",
    "lang",
    "text",
    "url",
    "parent_id",
    "root_id",
    "likes",
    "reshares",
    "replies",
    "views",
    "hashtags",
    "mentions",
    "links",
]


def post_csv_row(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "network": post.network,
        "created_at": post.created_at.isoformat(),
        "author": post.author.handle if post.author else "",
        "lang": post.lang or "",
        "text": post.text,
        "url": post.url or "",
        "parent_id": post.parent_id or "",
        "root_id": post.root_id or "",
        "likes": "" if post.likes is None else post.likes,
        "reshares": "" if post.reshares is None else post.reshares,
        "replies": "" if post.replies is None else post.replies,
        "views": "" if post.views is None else post.views,
        "hashtags": " ".join(post.hashtags),
        "mentions": " ".join(post.mentions),
        "links": " ".join(post.links),
    }


def jsonl_lines(posts: Iterable[Post]) -> Iterator[bytes]:
    for post in posts:
        yield orjson.dumps(post.to_dict()) + b"\n"


def csv_text(posts: Iterable[Post], *, header: bool = True) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    if header:
        writer.writeheader()
    for post in posts:
        writer.writerow(post_csv_row(post))
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()


def _batches(posts: Iterable[Post], size: int) -> Iterator[list[Post]]:
    it = iter(posts)
    while batch := list(islice(it, size)):
        yield batch


def export_posts(posts: Iterable[Post], out: Path, fmt: str) -> int:
    """Write ``posts`` to ``out`` in ``fmt``; returns how many were written."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    tmp = out.with_name(out.name + ".part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        n = _write(posts, tmp, fmt)
        tmp.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return n


def _write(posts: Iterable[Post], tmp: Path, fmt: str) -> int:
    if fmt == "parquet":
        return _write_parquet(posts, tmp)
    n = 0
    if fmt == "jsonl":
        with tmp.open("wb") as fh:
            for line in jsonl_lines(posts):
                fh.write(line)
                n += 1
        return n
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        first = True
        for batch in _batches(posts, 2000):
            for chunk in csv_text(batch, header=first):
                fh.write(chunk)
            first = False
            n += len(batch)
        if first:
            for chunk in csv_text([], header=True):
                fh.write(chunk)
    return n


def _parquet_rows(batch: list[Post]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "id",
            "network",
            "native_id",
            "created_at",
            "author",
            "author_name",
            "followers",
            "lang",
            "text",
            "url",
            "parent_id",
            "root_id",
            "reshare_of",
            "quote_of",
            "likes",
            "reshares",
            "replies",
            "views",
            "hashtags",
            "mentions",
            "links",
        )
    }
    for p in batch:
        cols["id"].append(p.id)
        cols["network"].append(p.network)
        cols["native_id"].append(p.native_id)
        cols["created_at"].append(p.created_at)
        cols["author"].append(p.author.handle if p.author else None)
        cols["author_name"].append(p.author.name if p.author else None)
        cols["followers"].append(p.author.followers if p.author else None)
        cols["lang"].append(p.lang)
        cols["text"].append(p.text)
        cols["url"].append(p.url)
        cols["parent_id"].append(p.parent_id)
        cols["root_id"].append(p.root_id)
        cols["reshare_of"].append(p.reshare_of)
        cols["quote_of"].append(p.quote_of)
        cols["likes"].append(p.likes)
        cols["reshares"].append(p.reshares)
        cols["replies"].append(p.replies)
        cols["views"].append(p.views)
        cols["hashtags"].append(p.hashtags)
        cols["mentions"].append(p.mentions)
        cols["links"].append(p.links)
    return cols


def _write_parquet(posts: Iterable[Post], path: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError(
            "Parquet export needs pyarrow: install the extra with "
            "`pip install 'socialloop[parquet]'`"
        ) from exc
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("network", pa.string()),
            ("native_id", pa.string()),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("author", pa.string()),
            ("author_name", pa.string()),
            ("followers", pa.int64()),
            ("lang", pa.string()),
            ("text", pa.string()),
            ("url", pa.string()),
            ("parent_id", pa.string()),
            ("root_id", pa.string()),
            ("reshare_of", pa.string()),
            ("quote_of", pa.string()),
            ("likes", pa.int64()),
            ("reshares", pa.int64()),
            ("replies", pa.int64()),
            ("views", pa.int64()),
            ("hashtags", pa.list_(pa.string())),
            ("mentions", pa.list_(pa.string())),
            ("links", pa.list_(pa.string())),
        ]
    )
    n = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for batch in _batches(posts, 10000):
            writer.write_table(pa.table(_parquet_rows(batch), schema=schema))
            n += len(batch)
        if n == 0:
            writer.write_table(schema.empty_table())
    return n
