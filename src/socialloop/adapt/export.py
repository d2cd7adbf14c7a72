"""Write posts to CSV, JSONL or Parquet, streaming (constant memory), with what LEARN computed.

Each format keeps the post columns it always had, in the same order; the labels of each post
(detected language, sentiment, emotions, intents, micro-moment, journey stage, topic and the
sentiment toward each brand) follow at the end when a ``labels`` source is given: CSV columns
(:data:`LABEL_CSV_FIELDS`), a ``labels`` object per JSONL line, typed Parquet columns. The
labels are read a batch of posts at a time (:func:`socialloop.store.labels.labels_for`).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from socialloop.errors import ExportError
from socialloop.models import Post
from socialloop.store.labels import LABEL_FIELDS, MULTI_FIELDS, NO_LABELS, Labels

EXPORT_FORMATS = ("csv", "jsonl", "parquet")

#: Where labels come from: the labels of each of a batch of post ids (absent: none).
LabelSource = Callable[[list[str]], Mapping[str, Labels]]

#: Posts per labels look-up when writing CSV or JSONL.
LABEL_BATCH = 2000

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

#: The label columns appended to :data:`CSV_FIELDS` (``detected_lang`` is the ``lang`` LEARN
#: detected; ``lang`` stays the platform-declared one).
LABEL_CSV_FIELDS = [
    "detected_lang",
    "sentiment",
    "emotion",
    "emotions",
    "intent",
    "moment",
    "stage",
    "topic",
    "brand_sentiment",
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


def label_csv_row(labels: Labels) -> dict[str, str]:
    """The CSV label columns: multi-valued fields space-separated, the sentiment toward each
    brand as ``Brand=label`` pairs joined by ``"; "`` (brands in name order); empty when a
    field was not computed."""
    return {
        "detected_lang": labels.lang or "",
        "sentiment": labels.sentiment or "",
        "emotion": labels.emotion or "",
        "emotions": " ".join(labels.emotions or ()),
        "intent": " ".join(labels.intent or ()),
        "moment": labels.moment or "",
        "stage": labels.stage or "",
        "topic": labels.topic or "",
        "brand_sentiment": "; ".join(f"{b}={s}" for b, s in labels.brand_sentiment.items()),
    }


def label_object(labels: Labels) -> dict[str, Any]:
    """The JSONL ``labels`` object: only the fields computed for the post (lists for the
    multi-valued ones), and ``brand_sentiment`` (brand name to label) when it has any."""
    out: dict[str, Any] = {}
    for name in LABEL_FIELDS:
        value = getattr(labels, name)
        if value is not None:
            out[name] = list(value) if isinstance(value, tuple) else value
    if labels.brand_sentiment:
        out["brand_sentiment"] = dict(labels.brand_sentiment)
    return out


def _batches(posts: Iterable[Post], size: int) -> Iterator[list[Post]]:
    it = iter(posts)
    while batch := list(islice(it, size)):
        yield batch


def _with_labels(
    posts: Iterable[Post], labels: LabelSource, size: int = LABEL_BATCH
) -> Iterator[tuple[Post, Labels]]:
    """Each post with its labels, looked up a batch at a time."""
    for batch in _batches(posts, size):
        found = labels([p.id for p in batch])
        for p in batch:
            yield p, found.get(p.id, NO_LABELS)


def jsonl_lines(posts: Iterable[Post], labels: LabelSource | None = None) -> Iterator[bytes]:
    """``Post.to_dict()`` per line (the ``socialloop`` import format), plus a ``labels``
    object when ``labels`` is given."""
    if labels is None:
        for post in posts:
            yield orjson.dumps(post.to_dict()) + b"\n"
        return
    for post, found in _with_labels(posts, labels):
        doc = post.to_dict()
        doc["labels"] = label_object(found)
        yield orjson.dumps(doc) + b"\n"


def csv_text(
    posts: Iterable[Post], *, header: bool = True, labels: LabelSource | None = None
) -> Iterator[str]:
    """CSV text, a row at a time: :data:`CSV_FIELDS`, then :data:`LABEL_CSV_FIELDS` when
    ``labels`` is given."""
    buf = io.StringIO()
    fields = CSV_FIELDS + LABEL_CSV_FIELDS if labels is not None else CSV_FIELDS
    writer = csv.DictWriter(buf, fieldnames=fields)
    if header:
        writer.writeheader()
    rows: Iterable[dict[str, Any]]
    if labels is None:
        rows = (post_csv_row(p) for p in posts)
    else:
        rows = (post_csv_row(p) | label_csv_row(found) for p, found in _with_labels(posts, labels))
    for row in rows:
        writer.writerow(row)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()


def export_posts(
    posts: Iterable[Post], out: Path, fmt: str, *, labels: LabelSource | None = None
) -> int:
    """Write ``posts`` to ``out`` in ``fmt`` (with their labels when ``labels`` is given);
    returns how many were written. The file appears whole or not at all."""
    _check_format(fmt)
    tmp = out.with_name(out.name + ".part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        n = _write(posts, tmp, fmt, labels)
        tmp.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return n


def stream_posts(
    posts: Iterable[Post], stream: BinaryIO, fmt: str, *, labels: LabelSource | None = None
) -> int:
    """Write ``posts`` as CSV or JSONL (UTF-8) to an open binary ``stream`` such as standard
    output; returns how many were written. Parquet needs a file (it is written footer last)."""
    _check_format(fmt)
    if fmt == "parquet":
        raise ExportError(
            "Parquet cannot be written to standard output (the format needs a seekable file); "
            "give a file path such as posts.parquet, or choose csv or jsonl"
        )
    return _write_stream(posts, stream, fmt, labels)


def _check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ExportError(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )


def _write(posts: Iterable[Post], tmp: Path, fmt: str, labels: LabelSource | None) -> int:
    if fmt == "parquet":
        return _write_parquet(posts, tmp, labels)
    with tmp.open("wb") as fh:
        return _write_stream(posts, fh, fmt, labels)


def _write_stream(posts: Iterable[Post], fh: BinaryIO, fmt: str, labels: LabelSource | None) -> int:
    n = 0
    if fmt == "jsonl":
        for batch in _batches(posts, LABEL_BATCH):
            fh.write(b"".join(jsonl_lines(batch, labels)))
            n += len(batch)
        return n
    first = True
    for batch in _batches(posts, LABEL_BATCH):
        fh.write("".join(csv_text(batch, header=first, labels=labels)).encode("utf-8"))
        first = False
        n += len(batch)
    if first:
        fh.write("".join(csv_text([], header=True, labels=labels)).encode("utf-8"))
    return n


# The posts' Parquet columns: name, kind (its pyarrow type in _write_parquet) and value.
_PARQUET_POST: tuple[tuple[str, str, Callable[[Post], Any]], ...] = (
    ("id", "string", lambda p: p.id),
    ("network", "string", lambda p: p.network),
    ("native_id", "string", lambda p: p.native_id),
    ("created_at", "time", lambda p: p.created_at),
    ("author", "string", lambda p: p.author.handle if p.author else None),
    ("author_name", "string", lambda p: p.author.name if p.author else None),
    ("followers", "int", lambda p: p.author.followers if p.author else None),
    ("lang", "string", lambda p: p.lang),
    ("text", "string", lambda p: p.text),
    ("url", "string", lambda p: p.url),
    ("parent_id", "string", lambda p: p.parent_id),
    ("root_id", "string", lambda p: p.root_id),
    ("reshare_of", "string", lambda p: p.reshare_of),
    ("quote_of", "string", lambda p: p.quote_of),
    ("likes", "int", lambda p: p.likes),
    ("reshares", "int", lambda p: p.reshares),
    ("replies", "int", lambda p: p.replies),
    ("views", "int", lambda p: p.views),
    ("hashtags", "strings", lambda p: p.hashtags),
    ("mentions", "strings", lambda p: p.mentions),
    ("links", "strings", lambda p: p.links),
)


def _parquet_rows(batch: list[Post], found: Mapping[str, Labels] | None) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {name: [get(p) for p in batch] for name, _, get in _PARQUET_POST}
    if found is not None:
        labelled = [found.get(p.id, NO_LABELS) for p in batch]
        for name in LABEL_FIELDS:
            cols[_label_column(name)] = [getattr(lab, name) for lab in labelled]
        cols["brand_sentiment"] = [list(lab.brand_sentiment.items()) for lab in labelled]
    return cols


def _write_parquet(posts: Iterable[Post], path: Path, labels: LabelSource | None) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError(
            "Parquet export needs pyarrow: install the extra with "
            "`pip install 'socialloop[parquet]'`"
        ) from exc
    kinds = {
        "string": pa.string(),
        "time": pa.timestamp("us", tz="UTC"),
        "int": pa.int64(),
        "strings": pa.list_(pa.string()),
    }
    columns = [(name, kinds[kind]) for name, kind, _ in _PARQUET_POST]
    if labels is not None:
        # null: not computed for the post; lists for the multi-valued fields; the sentiment
        # toward each brand as a map from brand name to label (empty without any)
        columns += [
            (_label_column(name), pa.list_(pa.string()) if name in MULTI_FIELDS else pa.string())
            for name in LABEL_FIELDS
        ]
        columns.append(("brand_sentiment", pa.map_(pa.string(), pa.string())))
    schema = pa.schema(columns)
    n = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for batch in _batches(posts, 10000):
            found = labels([p.id for p in batch]) if labels is not None else None
            writer.write_table(pa.table(_parquet_rows(batch, found), schema=schema))
            n += len(batch)
        if n == 0:
            writer.write_table(schema.empty_table())
    return n


def _label_column(name: str) -> str:
    """The column of a label field (the detected ``lang`` is ``detected_lang``: ``lang`` is
    the platform-declared language)."""
    return "detected_lang" if name == "lang" else name
