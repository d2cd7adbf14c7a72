"""The store's write path: idempotent batch upserts of posts with their authors, facets,
interactions and full-text index rows, all in the caller's transaction.

One batch costs a handful of statements whatever its size (executemany), which keeps import
throughput near SQLite's raw insert rate. The full-text index (SQLite FTS5, external content)
is fed in bulk here rather than by a trigger (PostgreSQL: ``post_search``, see ``query.pg``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, text

from socialloop.models import Post, author_id
from socialloop.store.rows import (
    chunks,
    do_nothing,
    json_text,
    naive_utc,
    row_codec,
    upsert_rows,
)
from socialloop.store.schema import (
    authors,
    brand_labels,
    embeddings,
    enrichments,
    interactions,
    post_labels,
    post_terms,
    posts,
)
from socialloop.textutil import post_facets

_ROOTS_MAX = 200_000  # post ids an import remembers the thread roots of


@dataclass(slots=True)
class UpsertResult:
    """What one batch did: which posts were new, which changed (newer data won)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # store pk of each post whose row was written (new or updated), by post id
    written: dict[str, int] = field(default_factory=dict)
    # store pk of each post that existed and was updated
    updated_pks: list[int] = field(default_factory=list)
    # (pk, post) of each written post, in batch order
    posts: list[tuple[int, Post]] = field(default_factory=list)


_AUTHOR_KEYS = (
    "id",
    "network",
    "handle",
    "name",
    "followers",
    "following",
    "bio",
    "verified",
    "url",
    "updated_at",
)


def _author_rows(
    batch: Sequence[Post],
    now: datetime,
    seen: dict[str, tuple[Any, ...]] | None,
    dt_out: Any,
    aids: Sequence[str | None] | None = None,
) -> list[tuple[Any, ...]]:
    """Author rows (``_AUTHOR_KEYS`` order) to upsert; with ``seen`` (a per-import cache),
    authors whose profile was already written unchanged in this import are skipped."""
    rows: dict[str, tuple[Any, ...]] = {}
    now_out = dt_out(now)
    for i, post in enumerate(batch):
        a = post.author
        if a is None:
            continue
        aid = aids[i] if aids is not None else a.id
        assert aid is not None
        if seen is not None:
            key = (a.name, a.followers, a.following, a.bio, a.verified, a.url)
            if seen.get(aid) == key:
                continue
            if len(seen) > 200_000:
                seen.clear()
            seen[aid] = key
        observed = dt_out(post.collected_at) if post.collected_at else now_out
        rows[aid] = (
            aid,
            a.network,
            a.handle.lstrip("@"),
            a.name,
            a.followers,
            a.following,
            a.bio,
            a.verified,
            a.url,
            observed,
        )
    return list(rows.values())


def _upsert_authors(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        # Writers run concurrently here (SQLite has one writer at a time): two batches that
        # share authors must lock their rows in the same order, or they deadlock.
        rows = sorted(rows, key=lambda r: str(r[0]))
    upsert_rows(conn, authors, _AUTHOR_KEYS, rows, _authors_conflict)


def _authors_conflict(ins: Any) -> Any:
    ex = ins.excluded
    return ins.on_conflict_do_update(
        index_elements=[authors.c.id],
        set_={
            "name": func.coalesce(ex.name, authors.c.name),
            "followers": func.coalesce(ex.followers, authors.c.followers),
            "following": func.coalesce(ex.following, authors.c.following),
            "bio": func.coalesce(ex.bio, authors.c.bio),
            "verified": func.coalesce(ex.verified, authors.c.verified),
            "url": func.coalesce(ex.url, authors.c.url),
            "updated_at": ex.updated_at,
        },
        where=ex.updated_at >= authors.c.updated_at,
    )


# posts columns written by an upsert, in table order (the tuples of _post_rows)
_POST_KEYS = (
    "id",
    "network",
    "native_id",
    "url",
    "author_id",
    "author_handle",
    "text",
    "lang",
    "created_at",
    "collected_at",
    "parent_id",
    "root_id",
    "reshare_of",
    "quote_of",
    "reply_to_handle",
    "mentions",
    "hashtags",
    "links",
    "likes",
    "reshares",
    "replies",
    "views",
    "raw",
    "source_id",
    "import_run_id",
)
_TEXT = _POST_KEYS.index("text")
_TERM_KEYS = ("kind", "value", "post_pk")
_EDGE_KEYS = ("kind", "post_pk", "source_author_id", "target", "target_author_id", "created_at")


def _posts_conflict(ins: Any) -> Any:
    ex = ins.excluded
    update_cols = {
        c: getattr(ex, c)
        for c in (
            "url",
            "author_id",
            "author_handle",
            "text",
            "created_at",
            "collected_at",
            "reply_to_handle",
            "mentions",
            "hashtags",
            "links",
            "raw",
        )
    }
    for c in ("lang", "parent_id", "root_id", "reshare_of", "quote_of", "source_id"):
        update_cols[c] = func.coalesce(getattr(ex, c), posts.c[c])
    for c in ("likes", "reshares", "replies", "views"):
        update_cols[c] = func.coalesce(getattr(ex, c), posts.c[c])
    return ins.on_conflict_do_update(
        index_elements=[posts.c.id],
        set_=update_cols,
        where=ex.collected_at >= posts.c.collected_at,
    )


def _existing(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[int, str, datetime]]:
    out: dict[str, tuple[int, str, datetime]] = {}
    stmt = select(posts.c.id, posts.c.pk, posts.c.text, posts.c.collected_at).where(
        posts.c.id.in_(bindparam("ids", expanding=True))
    )
    for chunk in chunks(ids):
        for row in conn.execute(stmt, {"ids": list(chunk)}):
            out[row.id] = (row.pk, row.text, row.collected_at)
    return out


def _new_pks(conn: Connection, new_ids: Sequence[str], max_before: int) -> dict[str, int]:
    """Store pks of the posts just inserted. SQLite gives each new row max(rowid) + 1, so in
    one write transaction the new rows are numbered in insertion order; when the count does
    not add up (another dialect, rowids at their limit) the pks are looked up instead."""
    max_after = conn.execute(select(func.max(posts.c.pk))).scalar() or 0
    if conn.dialect.name == "sqlite" and max_after - max_before == len(new_ids):
        return {pid: max_before + 1 + i for i, pid in enumerate(new_ids)}
    return {pid: pk for pid, (pk, _t, _c) in _existing(conn, new_ids).items()}


def _edge_rows(
    post: Post, pk: int, src: str | None, created: Any, out: list[tuple[Any, ...]]
) -> None:
    """The ``interactions`` rows of a post (``_EDGE_KEYS`` order): the same edges as
    ``models.interactions_of``, built without the intermediate objects."""
    network = post.network
    if post.parent_id:
        reply_to = post.reply_to_handle
        tgt = author_id(network, reply_to) if reply_to else None
        out.append(("reply", pk, src, post.parent_id, tgt, created))
    if post.reshare_of:
        out.append(("reshare", pk, src, post.reshare_of, None, created))
    if post.quote_of:
        out.append(("quote", pk, src, post.quote_of, None, created))
    for handle in post.mentions:
        aid = author_id(network, handle)
        out.append(("mention", pk, src, aid, aid, created))


def upsert_posts(
    conn: Connection,
    batch: Sequence[Post],
    *,
    source_id: int | None = None,
    run_id: int | None = None,
    now: datetime | None = None,
    seen_authors: dict[str, tuple[Any, ...]] | None = None,
    roots: dict[str, str] | None = None,
) -> UpsertResult:
    """Insert or update a batch of posts (one row per post id; newer ``collected_at`` wins).

    ``root_id`` is written where it is already known, so that :func:`derive_threads` has
    little left to rewrite: a post without a parent is its own root, and with ``roots`` (a
    per-import cache, post id -> root of the posts written so far) a reply takes its parent's
    root. Others stay NULL for ``derive_threads``, which reaches the same fixed point."""
    now = naive_utc(now or datetime.now(UTC))
    dt_out, js_out = row_codec(conn)
    now_out = dt_out(now)
    # one post per id inside the batch: the most recently collected copy wins
    by_id: dict[str, Post] = {}
    for post in batch:
        pid = post.id
        prev = by_id.get(pid)
        if prev is None or (naive_utc(post.collected_at) if post.collected_at else now) >= (
            naive_utc(prev.collected_at) if prev.collected_at else now
        ):
            by_id[pid] = post
    result = UpsertResult()
    if not by_id:
        return result
    unique = list(by_id.values())
    aids = [p.author.id if p.author is not None else None for p in unique]
    _upsert_authors(conn, _author_rows(unique, now, seen_authors, dt_out, aids))
    ids = list(by_id)
    before = _existing(conn, ids)

    # one tuple per post (``_POST_KEYS``) plus what the facets and edges need from it
    rows: list[tuple[Any, ...]] = []
    extras: list[tuple[str | None, Any]] = []
    for (pid, post), aid in zip(by_id.items(), aids, strict=True):
        root = post.root_id
        if root is None:
            parent = post.parent_id
            if parent is None:
                root = pid
            elif roots is not None:
                root = roots.get(parent)
        if roots is not None and root is not None:
            if len(roots) >= _ROOTS_MAX:
                roots.clear()  # threads are local in time: a fresh cache loses little
            roots[pid] = root
        author = post.author
        # author_handle: the handle part of the author id (lower-cased, without "@")
        handle = author.handle.lstrip("@").lower() if author is not None else None
        created = dt_out(post.created_at)
        collected = post.collected_at
        mentions, hashtags, links, raw = post.mentions, post.hashtags, post.links, post.raw
        rows.append(
            (
                pid,
                post.network,
                post.native_id,
                post.url,
                aid,
                handle,
                post.text,
                post.lang,
                created,
                dt_out(collected) if collected is not None else now_out,
                post.parent_id,
                root,
                post.reshare_of,
                post.quote_of,
                post.reply_to_handle,
                "[]" if not mentions and js_out is json_text else js_out(mentions),
                "[]" if not hashtags and js_out is json_text else js_out(hashtags),
                "[]" if not links and js_out is json_text else js_out(links),
                post.likes,
                post.reshares,
                post.replies,
                post.views,
                None if raw is None else js_out(raw),
                source_id,
                run_id,
            )
        )
        extras.append((aid, created))
    max_before = conn.execute(select(func.max(posts.c.pk))).scalar() or 0
    # in batch order (new posts get their pks in that order, as on SQLite)
    upsert_rows(conn, posts, _POST_KEYS, rows, _posts_conflict)

    is_sqlite = conn.dialect.name == "sqlite"
    new_ids = [i for i in ids if i not in before] if before else ids
    new_pks = _new_pks(conn, new_ids, max_before) if new_ids else {}
    fts_delete: list[tuple[int, str]] = []
    fts_insert: list[tuple[int, str]] = []
    changed_pks: list[int] = []
    term_rows: list[tuple[Any, ...]] = []
    edge_rows: list[tuple[Any, ...]] = []
    written = result.written
    written_posts = result.posts
    for i, (pid, post) in enumerate(by_id.items()):
        pk = new_pks.get(pid)
        text_ = rows[i][_TEXT]
        if pk is not None:
            result.new += 1
            fts_insert.append((pk, text_))
        else:
            pk, old_text, old_collected = before[pid]
            # the upsert's WHERE: the copy collected later (or at the same time) wins
            collected = naive_utc(post.collected_at) if post.collected_at else now
            if collected < old_collected:
                result.unchanged += 1
                continue
            result.updated += 1
            result.updated_pks.append(pk)
            changed_pks.append(pk)
            if text_ != old_text:
                fts_delete.append((pk, old_text))
                fts_insert.append((pk, text_))
        written[pid] = pk
        written_posts.append((pk, post))
        # facets and interactions: rebuilt for every written post
        for kind, value in post_facets(post):
            term_rows.append((kind, value, pk))
        aid, created = extras[i]
        _edge_rows(post, pk, aid, created, edge_rows)
    if is_sqlite:
        # straight to the driver: two bound parameters per row, no per-row processing
        if fts_delete:
            conn.exec_driver_sql(
                "INSERT INTO posts_fts(posts_fts, rowid, text) VALUES ('delete', ?, ?)",
                fts_delete,
            )
        if fts_insert:
            conn.exec_driver_sql("INSERT INTO posts_fts(rowid, text) VALUES (?, ?)", fts_insert)
    elif conn.dialect.name == "postgresql":
        from socialloop.query.pg import index_texts

        index_texts(conn, fts_insert)  # upserts: an edited text replaces its row

    if changed_pks:
        for chunk in chunks(changed_pks):
            conn.execute(delete(post_terms).where(post_terms.c.post_pk.in_(chunk)))
            conn.execute(delete(interactions).where(interactions.c.post_pk.in_(chunk)))
    # an edited text invalidates what LEARN found in it: the pipeline redoes those posts
    edited = [pk for pk, _old in fts_delete]
    for chunk in chunks(edited):
        for table in (enrichments, post_labels, brand_labels, embeddings):
            conn.execute(delete(table).where(table.c.post_pk.in_(chunk)))
    upsert_rows(conn, post_terms, _TERM_KEYS, term_rows, do_nothing)
    upsert_rows(conn, interactions, _EDGE_KEYS, edge_rows, do_nothing)
    return result


def derive_threads(conn: Connection) -> int:
    """Fill ``root_id`` from reply chains and resolve reply/reshare/quote target authors.

    A post without a parent is its own root; a reply takes its parent's root, or the parent id
    when the parent is not in the store. Runs until a fixed point (one pass per thread level).
    Returns the number of rows updated.
    """
    total = 0
    total += conn.execute(
        text("UPDATE posts SET root_id = id WHERE root_id IS NULL AND parent_id IS NULL")
    ).rowcount
    # replies: root of the parent (or the parent itself when it is unknown)
    step = text(
        """
        UPDATE posts SET root_id = (
            SELECT COALESCE(p.root_id, p.id) FROM posts AS p WHERE p.id = posts.parent_id
        )
        WHERE parent_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM posts AS p
            WHERE p.id = posts.parent_id AND p.root_id IS NOT NULL
              AND (posts.root_id IS NULL OR posts.root_id != p.root_id)
        )
        """
    )

    def settle() -> int:
        done = 0
        for _ in range(256):
            n = conn.execute(step).rowcount
            done += n
            if n == 0:
                break
        return done

    total += settle()
    # a reply whose parent is not stored roots at that parent id; its own replies follow it
    total += conn.execute(
        text(
            "UPDATE posts SET root_id = parent_id WHERE root_id IS NULL AND parent_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM posts AS p WHERE p.id = posts.parent_id)"
        )
    ).rowcount
    total += settle()
    # whatever is left is a reply cycle (corrupt input): root at the parent
    total += conn.execute(
        text("UPDATE posts SET root_id = parent_id WHERE root_id IS NULL AND parent_id IS NOT NULL")
    ).rowcount
    total += conn.execute(
        text(
            """
            UPDATE interactions SET target_author_id = (
                SELECT p.author_id FROM posts AS p WHERE p.id = interactions.target
            )
            WHERE target_author_id IS NULL AND kind != 'mention' AND EXISTS (
                SELECT 1 FROM posts AS p
                WHERE p.id = interactions.target AND p.author_id IS NOT NULL
            )
            """
        )
    ).rowcount
    return total
