"""A small SQLite database for the query SQL tests, built without socialloop.store.

Tables from ``socialloop.store.schema``, the FTS5 table as the migrations create it, posts,
``post_terms`` rows from ``textutil.post_facets`` and the FTS index filled in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.pool import StaticPool

from socialloop.models import Author, Post
from socialloop.query import Query, parse, register_sqlite_functions
from socialloop.store.schema import metadata, post_terms, posts
from socialloop.textutil import post_facets

FTS_DDL = (
    "CREATE VIRTUAL TABLE posts_fts USING fts5(text, content='posts', content_rowid='pk', "
    "tokenize='unicode61 remove_diacritics 2')"
)


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def _row(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "network": post.network,
        "native_id": post.native_id,
        "url": post.url,
        "author_id": post.author_id,
        "author_handle": post.author_handle,
        "text": post.text,
        "lang": post.lang,
        "created_at": _naive_utc(post.created_at),
        "collected_at": datetime(2024, 1, 1),
        "mentions": post.mentions,
        "hashtags": post.hashtags,
        "links": post.links,
    }


def make_engine() -> Engine:
    """An empty in-memory database with the schema, FTS5 table and query functions."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    event.listen(engine, "connect", lambda dbapi, _record: register_sqlite_functions(dbapi))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(FTS_DDL)
    return engine


def add_posts(engine: Engine, batch: Iterable[Post]) -> None:
    with engine.begin() as conn:
        for post in batch:
            result = conn.execute(insert(posts).values(**_row(post)))
            pk = result.inserted_primary_key[0] if result.inserted_primary_key else None
            facets = [{"kind": k, "value": v, "post_pk": pk} for k, v in post_facets(post)]
            if facets:
                conn.execute(insert(post_terms), facets)
        conn.execute(text("INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')"))


def make_db(batch: Sequence[Post]) -> Engine:
    engine = make_engine()
    add_posts(engine, batch)
    return engine


def search(engine: Engine, query: Query | str) -> set[str]:
    """Ids of the posts the SQL form of ``query`` finds."""
    q = parse(query) if isinstance(query, str) else query
    with engine.connect() as conn:
        return set(conn.execute(select(posts.c.id).where(q.to_sql())).scalars())


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO posts_fts(posts_fts) VALUES ('delete-all')"))
        conn.execute(post_terms.delete())
        conn.execute(posts.delete())


def post(
    native_id: str,
    text: str,
    *,
    handle: str | None = "alice",
    network: str = "twitter",
    when: datetime | None = None,
    **kw: Any,
) -> Post:
    """A hand-made post; hashtags, mentions and links are only what is passed (not parsed)."""
    return Post(
        network=network,
        native_id=native_id,
        text=text,
        created_at=when or datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        author=Author(network, handle) if handle is not None else None,
        **kw,
    )


# A hand-made corpus and the posts each query must find, checked against both the matcher
# (test_query_matcher) and SQL (test_query_sql).
SAMPLE = [
    post("cafe", "Best CAFÉ in town, the Café au lait!", lang="fr-FR"),
    post("steam", "Full steam ahead", lang="en"),
    post("tea", "Tea, earl grey, hot.", lang="EN"),
    post("teas", "tea's ready; teas and teapots", lang="en_US"),
    post("runner", "Running late... the runner ran", lang="en-GB"),
    post("colors", "color colour colar colr", lang="de"),
    post("airmax", "new air-max 90 drop", hashtags=["AirMax"], lang="pt-BR"),
    post("tagtext", "love #nike so much", lang=None),
    post("tagged", "just do it", hashtags=["Nike", "JustDoIt"], mentions=["Nike"]),
    post("emoji_old", "nike🔥 fire", handle="bob"),
    post("emoji_new", "nike🙂 smile", handle="bob"),
    post("underscore", "snake_case and kebab-case", handle="nike_official"),
    post("cyrillic", "Ёлка и елка", handle="Dmitri"),
    post("link", "see this", links=["https://www.Nike.com/Shop/AIR?x=1"], network="mastodon"),
    post("url", "my post", url="https://blog.example.co.uk/p/1", network="reddit"),
    post("noauthor", "anonymous nike fan", handle=None),
    post("near1", "nike makes good running shoes"),
    post("near2", "shoes from the shop are not nike"),
    post("jan1", "new year", when=datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
    post("jan31", "end of month", when=datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC)),
    post("feb1", "next month", when=datetime(2024, 2, 1, 0, 0, tzinfo=UTC)),
    post("quotes", "she said \"don't\" and left; Robert'); DROP TABLE posts;--"),
    post("cjk", "東京でナイキ nike東京 日本"),
]
ALL = {p.native_id for p in SAMPLE}

CASES: list[tuple[str, set[str]]] = [
    ("cafe", {"cafe"}),
    ("CAFÉ", {"cafe"}),
    ("tea", {"tea", "teas"}),
    ("steam", {"steam"}),
    ("tea*", {"tea", "teas"}),
    ("te?s", {"teas"}),
    ("run*", {"runner", "near1"}),
    ("col?r", {"colors"}),
    ("col?r*", {"colors"}),
    ("colo?r", {"colors"}),
    ("air-max", {"airmax"}),
    ('"air max"', {"airmax"}),
    ('"max air"', set()),
    ("nike", {"tagtext", "emoji_old", "noauthor", "near1", "near2"}),
    ("#nike", {"tagged"}),
    ("#airmax OR #JustDoIt", {"airmax", "tagged"}),
    ("@nike", {"tagged"}),
    ("snake", {"underscore"}),
    ("snake_case", {"underscore"}),
    ("ёлка", {"cyrillic"}),
    ("елка", {"cyrillic"}),
    ("nike NEAR/2 running", {"near1"}),
    ("nike NEAR/3 shoes", {"near1"}),
    ("nike NEAR/5 shoes", {"near1", "near2"}),
    ('"shoes nike"~5', {"near1", "near2"}),
    ("(nike OR shop) NEAR/2 shoes", {"near2"}),
    ("(nike OR shop) NEAR/1 shoes", set()),
    ("nike -shoes", {"tagtext", "emoji_old", "noauthor"}),
    ("nike AND NOT (shoes OR fire)", {"tagtext", "noauthor"}),
    ("NOT nike AND NOT tea AND lang:en", {"steam", "runner"}),
    ("lang:en", {"steam", "tea", "teas", "runner"}),
    ("lang:fr OR lang:pt", {"cafe", "airmax"}),
    ("author:bob", {"emoji_old", "emoji_new"}),
    ("author:@BOB", {"emoji_old", "emoji_new"}),
    ("author:nike*", {"underscore"}),
    ("author:dmitr?", {"cyrillic"}),
    ("NOT author:alice", {"emoji_old", "emoji_new", "underscore", "cyrillic", "noauthor"}),
    ("network:mastodon OR network:reddit", {"link", "url"}),
    ("site:nike.com", {"link"}),
    ("site:www.nike.com", {"link"}),
    ("site:example.co.uk", {"url"}),
    ("site:ike.com", set()),
    ("url:nike.com/shop", {"link"}),
    ("url:/P/1", {"url"}),
    ("since:2024-01-31 until:2024-01-31", {"jan31"}),
    ("until:2024-01-31", {"jan1", "jan31"}),
    ("since:2024-02-01 AND until:2024-02-01T00:00:00Z", set()),
    ("until:2024-02-01T00:00:01Z AND since:2024-01-01T00:00:00+01:00", {"jan1", "jan31", "feb1"}),
    ("don't", {"quotes"}),
    ('"Robert\'); DROP TABLE posts;--"', {"quotes"}),
    ('"and" "said"', {"quotes"}),
    ("日本", {"cjk"}),
    ("ナイキ", set()),
]
