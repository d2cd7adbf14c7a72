"""Workspace.enrichment(): the default pipeline is built once per workspace and kept, so live
polls and pushed imports (listen.live.after_ingest) do not load the models again each time;
the topic step re-reads the stored topics on every use, and runs take turns."""

from __future__ import annotations

import threading

from sqlalchemy import select

from socialloop.learn.topics import build_topics
from socialloop.listen.importer import import_posts
from socialloop.listen.live import after_ingest
from socialloop.simulate import default_market, simulate
from socialloop.store.schema import post_labels
from socialloop.workspace import Workspace


def test_the_pipeline_and_its_steps_are_kept(ws: Workspace) -> None:
    with ws.enrichment() as first:
        steps = list(first.steps)
    with ws.enrichment() as second:
        assert second is first
        assert all(a is b for a, b in zip(second.steps, steps, strict=True))
    ws.close()
    assert ws._pipeline is None  # closing the workspace lets the models go


def test_after_ingest_reuses_the_steps_and_sees_a_new_topic_build(ws: Workspace) -> None:
    market = default_market()
    for b in market.brands:
        ws.add_brand(b.name, b.query, competitor=b.competitor)
    posts = list(simulate(700, seed=4, market=market))
    import_posts(ws, posts[:400])
    pks = _pks(ws)
    after_ingest(ws, pks)
    with ws.enrichment() as pipeline:
        kept = list(pipeline.steps)
    assert _topics(ws, pks) == {"none"}  # no topics built yet
    assert build_topics(ws.store, k=4, min_posts=100)
    import_posts(ws, posts[400:])
    new = sorted(set(_pks(ws)) - set(pks))
    assert new
    after_ingest(ws, new)
    with ws.enrichment() as pipeline:
        assert all(a is b for a, b in zip(pipeline.steps, kept, strict=True))
    assert _topics(ws, new) - {"none"}, "the kept topic step took the new build"


def test_runs_take_turns(ws: Workspace) -> None:
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def hold() -> None:
        with ws.enrichment():
            inside.set()
            release.wait(5)
            order.append("first")

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(5)
    done = threading.Event()

    def second() -> None:
        with ws.enrichment():
            order.append("second")
        done.set()

    t2 = threading.Thread(target=second)
    t2.start()
    assert not done.wait(0.2)  # blocked while the first run holds the pipeline
    release.set()
    t.join(5)
    t2.join(5)
    assert order == ["first", "second"]


def _pks(ws: Workspace) -> list[int]:
    from socialloop.store.schema import posts

    with ws.store.begin() as conn:
        return [r.pk for r in conn.execute(select(posts.c.pk).order_by(posts.c.pk))]


def _topics(ws: Workspace, pks: list[int]) -> set[str]:
    with ws.store.begin() as conn:
        rows = conn.execute(
            select(post_labels.c.label).where(
                post_labels.c.field == "topic", post_labels.c.post_pk.in_(pks)
            )
        )
        return {r.label for r in rows}
