"""``store.enrich_rows`` on one store URL (SQLite in test_enrich_rows.py, PostgreSQL in
test_postgres_more.py): fresh results merged over stored ones, steps marked stale, a step
dropped, and the due / has_any conditions the pipeline and the inbox query with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from socialloop.store import enrich_rows
from socialloop.store.enrich_rows import StepResult, StoredRow, step_results
from socialloop.store.schema import posts
from socialloop.store.store import Store
from tests.conftest import make_post


def check_enrich_rows(url: str) -> None:
    store = Store.open(url)
    try:
        store.upsert_posts([make_post(str(n), f"post {n}") for n in (1, 2, 3)])
        with store.begin() as conn:
            pk = {r.id: r.pk for r in conn.execute(select(posts.c.id, posts.c.pk))}
        a, b, c = pk["twitter:1"], pk["twitter:2"], pk["twitter:3"]
        when = datetime(2026, 11, 23, 9, 0)
        with store.begin() as conn:
            enrich_rows.merge_results(
                conn,
                {
                    a: StoredRow({"language": "3", "topic": "1"},
                                 {"language": {"lang": "fi"}, "topic": {"topic": "4"}},
                                 {"language": 0.9}),
                    b: StoredRow({"language": "3"}, {"language": {"lang": "en"}}, {}),
                },
                when,
            )  # fmt: skip
        with store.begin() as conn:
            # a later pass of another step keeps what the first stored
            enrich_rows.merge_results(
                conn,
                {a: StoredRow({"sentiment": "6"}, {"sentiment": {"sentiment": "negative"}},
                              {"sentiment": 0.7})},
                when,
            )  # fmt: skip
            assert step_results(conn) == [
                StepResult(a, "language", "3", {"lang": "fi"}, 0.9),
                StepResult(a, "sentiment", "6", {"sentiment": "negative"}, 0.7),
                StepResult(a, "topic", "1", {"topic": "4"}, None),
                StepResult(b, "language", "3", {"lang": "en"}, None),
            ]

            def due(versions: dict[str, str]) -> list[int]:
                stmt = select(posts.c.pk).where(~enrich_rows.done(posts.c.pk, versions))
                return sorted(r[0] for r in conn.execute(stmt))

            assert due({"language": "3"}) == [c]
            assert due({"language": "3", "sentiment": "6"}) == [b, c]
            assert due({"language": "4"}) == [a, b, c]
            n_any = conn.execute(
                select(func.count())
                .select_from(posts)
                .where(enrich_rows.has_any(posts.c.pk, ["sentiment", "intent"]))
            ).scalar_one()
            assert n_any == 1

            enrich_rows.mark_stale(conn, ["sentiment", "intent"])
            assert due({"sentiment": "6"}) == [a, b, c]
            assert due({"language": "3"}) == [c]  # other steps untouched
            n_any = conn.execute(
                select(func.count())
                .select_from(posts)
                .where(enrich_rows.has_any(posts.c.pk, ["intent"]))
            ).scalar_one()
            assert n_any == 0  # a step no row had a result of is not made up
            enrich_rows.drop_step(conn, "topic")
            stored = enrich_rows.stored_rows(conn, [a, b, c])
        assert set(stored) == {a, b}
        assert stored[a].versions == {"language": "3", "sentiment": ""}
        assert stored[a].data == {
            "language": {"lang": "fi"},
            "sentiment": {"sentiment": "negative"},
        }
        assert stored[a].confidence == {"language": 0.9, "sentiment": 0.7}
        assert stored[b].versions == {"language": "3"}  # no sentiment: nothing marked
        _check_big_merges(store, when)
    finally:
        store.close()


def _check_big_merges(store: Store, when: datetime) -> None:
    """Batches big enough for PostgreSQL's COPY path: a second step's pass merges over the
    rows the first wrote (ON CONFLICT DO UPDATE from the staging table), keeping them."""
    store.upsert_posts([make_post(f"b{n}", f"big {n}") for n in range(100)])
    with store.begin() as conn:
        big = [r[0] for r in conn.execute(select(posts.c.pk).where(posts.c.id.like("%:b%")))]
    assert len(big) == 100
    for step, value in (("language", {"lang": "en"}), ("sentiment", {"sentiment": "neutral"})):
        with store.begin() as conn:
            enrich_rows.lock(conn)
            fresh = {pk: StoredRow({step: "1"}, {step: value}, {step: 0.5}) for pk in big}
            enrich_rows.merge_results(conn, fresh, when)
    with store.begin() as conn:
        stored = enrich_rows.stored_rows(conn, big)
    assert len(stored) == 100
    assert all(r.versions == {"language": "1", "sentiment": "1"} for r in stored.values())
    assert all(r.confidence == {"language": 0.5, "sentiment": 0.5} for r in stored.values())


def check_concurrent_merges(url: str) -> None:
    """Two writers merging into the same post at once (an `enrich` and a live listener's, or
    a topic build): the second waits for the first (``enrich_rows.lock``) and keeps its
    results, instead of writing back what it read before the first committed."""
    import threading
    import time

    first, second = Store.open(url), Store.open(url)
    try:
        first.upsert_posts([make_post("1", "post one")])
        with first.begin() as conn:
            (pk,) = conn.execute(select(posts.c.pk)).scalars().all()
        when = datetime(2026, 11, 23, 9, 0)
        holding = threading.Event()
        errors: list[BaseException] = []

        def slow_writer() -> None:
            try:
                with first.begin() as conn:
                    enrich_rows.lock(conn)
                    enrich_rows.merge_results(
                        conn, {pk: StoredRow({"sentiment": "6"}, {"sentiment": {}}, {})}, when
                    )
                    holding.set()
                    time.sleep(0.5)  # written, not committed: the other writer starts
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=slow_writer)
        thread.start()
        assert holding.wait(10)
        with second.begin() as conn:
            enrich_rows.lock(conn)  # waits for the slow writer's commit
            enrich_rows.merge_results(
                conn, {pk: StoredRow({"topic": "1"}, {"topic": {"topic": "2"}}, {})}, when
            )
        thread.join()
        assert not errors, errors
        with first.begin() as conn:
            stored = enrich_rows.stored_rows(conn, [pk])
        assert stored[pk].versions == {"sentiment": "6", "topic": "1"}
    finally:
        first.close()
        second.close()
