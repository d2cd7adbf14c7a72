"""PostgreSQL bulk writes through COPY (store.pg_copy) store exactly what the row-by-row
statements store: the same posts (with their pks, in batch order), authors, facets,
interactions and search rows; newer copies win and older ones change nothing; JSON columns
round-trip. Runs on a throwaway server (tests/_postgres.py) and skips, saying why, without one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from socialloop.models import Post
from socialloop.store import pg_copy
from socialloop.store.schema import authors, interactions, post_terms, posts
from socialloop.workspace import Workspace
from tests import _postgres
from tests.conftest import make_post

pg_cluster = _postgres.pg_cluster

T0 = datetime(2026, 5, 1, tzinfo=UTC)
WORDS = ["acme", "latte", "cold", "espresso", "rival", "order", "late", "café", "crème", "été"]


def _posts(n: int, collected: datetime, suffix: str = "") -> list[Post]:
    out = []
    for i in range(n):
        words = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(1 + i % 5))
        body = f"@user{(i + 1) % 7} {words} #tag{i % 3} https://ex.am/{i}{suffix}"
        parent = f"twitter:{i - 1}" if i % 4 == 1 else None
        out.append(
            make_post(
                str(i),
                body,
                handle=f"user{i % 7}",
                when=T0 + timedelta(minutes=i),
                lang="fr" if i % 6 == 0 else "en",
                followers=10 * i,
                parent_id=parent,
                likes=i,
                collected_at=collected,
                raw={"id": i, "nested": {"k": [1, 2, suffix]}, "quote": "it's \\ \t tab"},
            )
        )
    return out


def _dump(ws: Workspace) -> dict[str, list[Any]]:
    with ws.store.begin() as conn:
        return {
            "posts": [tuple(r) for r in conn.execute(select(posts).order_by(posts.c.pk))],
            "authors": [tuple(r) for r in conn.execute(select(authors).order_by(authors.c.id))],
            "terms": sorted(tuple(r) for r in conn.execute(select(post_terms))),
            "edges": sorted(tuple(map(str, r)) for r in conn.execute(select(interactions))),
            "search": [
                tuple(r)
                for r in conn.execute(
                    text("SELECT post_pk, tokens, tsv::text FROM post_search ORDER BY post_pk")
                )
            ],
        }


@pytest.fixture
def two_urls(pg_cluster: _postgres.PgCluster) -> tuple[str, str]:
    return _postgres.create_database(pg_cluster), _postgres.create_database(pg_cluster)


def test_copy_stores_what_the_row_by_row_path_stores(
    two_urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _posts(300, T0 + timedelta(days=1))
    newer = _posts(300, T0 + timedelta(days=2), suffix="/v2")
    dumps = []
    for url, copy_min in zip(two_urls, (pg_copy.COPY_MIN_ROWS, 10**9), strict=True):
        monkeypatch.setattr(pg_copy, "COPY_MIN_ROWS", copy_min)
        ws = Workspace.init(tmp_path / f"ws{copy_min}", database_url=url)
        try:
            ws.store.upsert_posts(first)
            ws.store.upsert_posts(newer[:150])  # newer copies of half of them
            ws.store.derive_threads()
            dumps.append(_dump(ws))
        finally:
            ws.close()
    copied, row_by_row = dumps
    for table in copied:
        assert copied[table] == row_by_row[table], table
    assert len(copied["posts"]) == 300
    assert copied["terms"] and copied["edges"] and len(copied["search"]) == 300


def test_newer_copies_win_older_ones_change_nothing(pg_cluster: Any, tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", database_url=_postgres.create_database(pg_cluster))
    try:
        res = ws.store.upsert_posts(_posts(200, T0 + timedelta(days=2)))
        assert (res.new, res.updated) == (200, 0)
        res = ws.store.upsert_posts(_posts(200, T0 + timedelta(days=1), suffix="/old"))
        assert (res.new, res.updated, res.unchanged) == (0, 0, 200)
        res = ws.store.upsert_posts(_posts(200, T0 + timedelta(days=3), suffix="/new"))
        assert (res.new, res.updated) == (0, 200)
        with ws.store.begin() as conn:
            rows = conn.execute(select(posts.c.pk, posts.c.text, posts.c.raw)).all()
            hits = conn.execute(
                text("SELECT count(*) FROM post_search WHERE tokens LIKE '%new%'")
            ).scalar_one()
        assert len(rows) == 200 and all(r.text.endswith("/new") for r in rows)
        assert all(r.raw["nested"]["k"] == [1, 2, "/new"] for r in rows)
        assert {r.raw["quote"] for r in rows} == {"it's \\ \t tab"}
        assert hits == 200  # the search index follows the edited texts
    finally:
        ws.close()


def test_two_batches_in_one_transaction_reuse_the_staging_table(
    pg_cluster: Any, tmp_path: Path
) -> None:
    ws = Workspace.init(tmp_path / "ws", database_url=_postgres.create_database(pg_cluster))
    try:
        batch = _posts(150, T0)
        with ws.store.begin() as conn:
            from socialloop.store.writer import upsert_posts

            upsert_posts(conn, batch[:80])
            upsert_posts(conn, batch[80:])
            (stage,) = conn.execute(
                text("SELECT relname FROM pg_class WHERE relname LIKE '\\_stage\\_posts\\_%'")
            ).scalars()
            staged = conn.execute(text(f'SELECT count(*) FROM "{stage}"')).scalar_one()
        assert staged == 0  # emptied after each use
        with ws.store.begin() as conn:
            ids = [r.id for r in conn.execute(select(posts.c.id).order_by(posts.c.pk))]
        assert ids == [p.id for p in batch]  # pks follow the batches' order
    finally:
        ws.close()


def test_enrichment_results_on_postgres_equal_sqlite(pg_cluster: Any, tmp_path: Path) -> None:
    from socialloop.learn.pipeline import Pipeline
    from socialloop.learn.steps import build_steps
    from socialloop.listen.importer import import_posts
    from socialloop.store.enrich_rows import step_results
    from socialloop.store.schema import brand_labels, embeddings, post_labels

    batch = _posts(240, T0)
    dumps = []
    for name, url in (("lite", None), ("pg", _postgres.create_database(pg_cluster))):
        ws = Workspace.init(tmp_path / name, database_url=url)
        try:
            ws.add_brand("Acme", "acme OR latte")
            ws.add_brand("Rival", "rival", competitor=True)
            import_posts(ws, batch)  # matches the brands' queries too
            steps = build_steps(ws.settings, ["language", "sentiment", "intent", "embedding"])
            Pipeline(steps).run(ws.store, batch_size=100)
            with ws.store.begin() as conn:
                dumps.append(
                    {
                        "enrichments": sorted(
                            # lingua's confidences vary in the last bits from run to run
                            (
                                r.post_pk,
                                r.step,
                                r.version,
                                r.data,
                                None if r.confidence is None else round(r.confidence, 9),
                            )
                            for r in step_results(conn)
                        ),
                        "labels": sorted(
                            (r.field, r.label, r.post_pk, round(r.score or 0.0, 9))
                            for r in conn.execute(select(post_labels))
                        ),
                        "brands": sorted(tuple(r) for r in conn.execute(select(brand_labels))),
                        "vectors": sorted(
                            (r.post_pk, r.model, r.dim, bytes(r.vector))
                            for r in conn.execute(select(embeddings))
                        ),
                    }
                )
        finally:
            ws.close()
    lite, pg = dumps
    assert len(pg["enrichments"]) == 240 * 4 and len(pg["vectors"]) == 240
    assert pg["brands"], "the per-brand sentiment rows were written"
    for table in lite:
        assert pg[table] == lite[table], table
