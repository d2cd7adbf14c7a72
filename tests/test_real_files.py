"""The real public files in ../shared import into a workspace (skipped when ../shared is
absent): every airline tweet stored once, and TWCS reply threads reconstructed."""

from __future__ import annotations

from sqlalchemy import func, select

from socialloop.listen.importer import import_files
from socialloop.store.schema import interactions, posts
from socialloop.workspace import Workspace
from tests.conftest import shared_file


def test_airline_tweets_csv_imports_every_distinct_tweet(ws: Workspace) -> None:
    path = shared_file("twitter_us_airline_sentiment", "Tweets.csv")
    ws.add_brand("United", "united OR @united")
    report = import_files(ws, [path])
    assert report.files[0].format == "airline"
    assert report.read == 14_640
    assert report.rejected == 0
    assert report.new == 14_485  # duplicated rows in the file are one post each
    assert ws.store.stats()["posts"] == 14_485
    assert ws.count("@united") > 3000
    assert ws.count(None, brand="United") >= ws.count("@united")


def test_twcs_head_reconstructs_reply_threads(ws: Workspace) -> None:
    path = shared_file("twcs_customer_support", "twcs_head5000.csv")
    report = import_files(ws, [path])
    assert report.files[0].format == "twcs"
    assert report.read == 5000 and report.rejected == 0
    with ws.store.begin() as conn:
        replies = conn.execute(
            select(func.count()).select_from(posts).where(posts.c.parent_id.is_not(None))
        ).scalar_one()
        # every reply has a root; replies whose parent is in the file share its thread
        unrooted = conn.execute(
            select(func.count())
            .select_from(posts)
            .where(posts.c.parent_id.is_not(None), posts.c.root_id.is_(None))
        ).scalar_one()
        answered_by_brand = conn.execute(
            select(func.count())
            .select_from(interactions)
            .where(
                interactions.c.kind == "reply",
                interactions.c.target_author_id.is_not(None),
                interactions.c.source_author_id.in_(
                    ["twitter:applesupport", "twitter:amazonhelp", "twitter:upshelp"]
                ),
            )
        ).scalar_one()
        deep = conn.execute(
            select(posts.c.root_id, func.count())
            .where(posts.c.root_id.is_not(None))
            .group_by(posts.c.root_id)
            .having(func.count() >= 3)
        ).all()
    assert replies > 2000
    assert unrooted == 0
    assert answered_by_brand > 100
    assert len(deep) > 100  # multi-turn conversations exist
    # a thread's posts all point at one root that is itself a root post (or unknown parent)
    thread = ws.store.search(posts.c.root_id == deep[0][0], limit=None)
    assert len(thread) == deep[0][1]
    assert len({p.root_id for p in thread}) == 1
