"""Migration 0012 (enrichments folded to one row per post) checked the same way on SQLite
(test_store.py) and PostgreSQL (test_postgres_more.py): a store at 0011 with step results in
the old layout is upgraded in place, read back, enriched on, and downgraded again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from socialloop.store.engine import alembic_config, current_revision, head_revision, make_engine
from socialloop.store.enrich_rows import StepResult, step_results
from socialloop.store.store import Store

_OLD_ROWS = [
    # post, step, version, data, confidence
    (1, "language", "3", '{"lang": "es", "lang_score": 0.97}', 0.97),
    (1, "sentiment", "6", '{"sentiment": "positive", "brands": {"A": {"sentiment": "+"}}}', None),
    (2, "language", "3", '{"lang": "en"}', 0.8),
    (2, "sentiment", "", '{"sentiment": "neutral"}', 0.5),  # marked stale before the upgrade
]  # fmt: skip


def _post_sql(n: int) -> str:
    return (
        "INSERT INTO posts (id, network, native_id, text, created_at, collected_at, mentions, "
        f"hashtags, links) VALUES ('x:{n}', 'x', '{n}', 'post {n}', '2026-01-01 00:00:00', "
        "'2026-01-01 00:00:00', '[]', '[]', '[]')"
    )


def _expected() -> list[StepResult]:
    import json

    return [
        StepResult(pk, step, version, json.loads(data), conf)
        for pk, step, version, data, conf in _OLD_ROWS
    ]


#: The constraint names PostgreSQL gives a table created as ``enrichments``.
_NAMES = {"enrichments_pkey", "enrichments_post_pk_fkey"}


def _constraint_names(conn: Any) -> set[str] | None:
    """The names of the ``enrichments`` constraints on PostgreSQL (None elsewhere)."""
    if conn.dialect.name != "postgresql":
        return None
    sql = "SELECT conname FROM pg_constraint WHERE conrelid = 'enrichments'::regclass"
    return {r[0] for r in conn.execute(text(sql))}


def check_enrichments_upgrade(url: str) -> None:
    from alembic import command

    engine = make_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0011_overview")
        for n in (1, 2, 3):
            conn.execute(text(_post_sql(n)))
        pks = {r.id: r.pk for r in conn.execute(text("SELECT id, pk FROM posts")).mappings().all()}
        for post, step, version, data, conf in _OLD_ROWS:
            conn.execute(
                text(
                    "INSERT INTO enrichments (post_pk, step, version, data, confidence, "
                    "updated_at) VALUES (:pk, :step, :version, :data, :conf, "
                    "'2026-01-02 00:00:00')"
                ),
                {"pk": pks[f"x:{post}"], "step": step, "version": version, "data": data,
                 "conf": conf},
            )  # fmt: skip
    engine.dispose()

    store = Store.open(url)  # upgrades to the head revision
    try:
        assert current_revision(store.engine) == head_revision()
        with store.begin() as conn:
            got = step_results(conn)
        by_id = {pks[f"x:{n}"]: n for n in (1, 2, 3)}
        assert [
            StepResult(by_id[r.post_pk], r.step, r.version, r.data, r.confidence) for r in got
        ] == sorted(_expected(), key=lambda r: (r.post_pk, r.step))
        with store.begin() as conn:
            rows: list[Any] = conn.execute(text("SELECT count(*) FROM enrichments")).all()
            assert _constraint_names(conn) in (None, _NAMES)
        assert rows[0][0] == 2  # one row per enriched post; post 3 has none
    finally:
        store.close()

    engine = make_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011_overview")
        back = conn.execute(
            text("SELECT post_pk, step, version, data, confidence FROM enrichments")
        ).all()
        assert _constraint_names(conn) in (None, _NAMES)
    engine.dispose()
    import json

    def as_obj(d: Any) -> Any:
        return json.loads(d) if isinstance(d, str) else d

    assert sorted((by_id[pk], s, v, as_obj(d), c) for pk, s, v, d, c in back) == sorted(
        (pk, s, v, json.loads(d), c) for pk, s, v, d, c in _OLD_ROWS
    )
