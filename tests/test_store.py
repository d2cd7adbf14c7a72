"""The store on real SQLite: migrations, idempotent upserts, FTS kept in sync, facets,
interactions and thread derivation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from socialloop.store import Store
from socialloop.store.engine import current_revision, head_revision
from socialloop.store.schema import authors, interactions, post_terms, posts
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'test.db'}")
    yield s
    s.close()


def fts_ids(store: Store, match: str) -> set[str]:
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT p.id FROM posts_fts JOIN posts p ON p.pk = posts_fts.rowid "
                "WHERE posts_fts MATCH :m"
            ),
            {"m": match},
        )
        return {r[0] for r in rows}


def test_migrations_applied_and_recorded(store: Store) -> None:
    assert current_revision(store.engine) == head_revision() == "0012_enrichments_per_post"
    with store.begin() as conn:
        mode = conn.execute(text("PRAGMA journal_mode")).scalar()
        fks = conn.execute(text("PRAGMA foreign_keys")).scalar()
    assert mode == "wal"
    assert fks == 1


def test_reopen_does_not_remigrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    Store.open(url).close()
    from socialloop.store.engine import make_engine, migrate

    assert migrate(make_engine(url)) == []


def test_same_post_twice_is_one_row_and_newer_metrics_win(store: Store) -> None:
    old = make_post("1", "I love #coffee", likes=1, collected_at=T0)
    res = store.upsert_posts([old])
    assert (res.new, res.updated) == (1, 0)
    newer = make_post("1", "I love #coffee", likes=10, collected_at=T0 + timedelta(hours=1))
    res = store.upsert_posts([newer])
    assert (res.new, res.updated) == (0, 1)
    stale = make_post("1", "I love #coffee", likes=3, collected_at=T0 - timedelta(hours=1))
    res = store.upsert_posts([stale])
    assert (res.new, res.updated, res.unchanged) == (0, 0, 1)
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(posts)).scalar_one() == 1
        assert conn.execute(select(posts.c.likes)).scalar_one() == 10


def test_duplicates_inside_one_batch_collapse(store: Store) -> None:
    a = make_post("7", "first", likes=1, collected_at=T0)
    b = make_post("7", "first", likes=5, collected_at=T0 + timedelta(minutes=1))
    res = store.upsert_posts([b, a])
    assert res.new == 1
    assert store.get_post("twitter:7") is not None
    assert store.get_post("twitter:7").likes == 5  # type: ignore[union-attr]


def test_authors_upsert_keeps_known_fields(store: Store) -> None:
    p1 = make_post("1", "hello", handle="Bob", followers=100, collected_at=T0)
    store.upsert_posts([p1])
    p2 = make_post("2", "again", handle="bob", collected_at=T0 + timedelta(hours=1))
    store.upsert_posts([p2])
    with store.begin() as conn:
        rows = conn.execute(select(authors.c.id, authors.c.followers)).all()
    assert rows == [("twitter:bob", 100)]


def test_fts_follows_edits(store: Store) -> None:
    store.upsert_posts([make_post("1", "the latte was cold", collected_at=T0)])
    assert fts_ids(store, "cold") == {"twitter:1"}
    edited = make_post("1", "the latte was warm", collected_at=T0 + timedelta(hours=1))
    store.upsert_posts([edited])
    assert fts_ids(store, "cold") == set()
    assert fts_ids(store, "warm") == {"twitter:1"}
    with store.begin() as conn:  # the FTS index is consistent with its content table
        conn.execute(text("INSERT INTO posts_fts(posts_fts, rank) VALUES('integrity-check', 1)"))


def test_terms_and_interactions(store: Store) -> None:
    root = make_post("1", "Anyone tried @BrewHaven? https://www.shop.example.com/x #Coffee")
    reply = make_post(
        "2", "@alice yes, great", handle="carol", parent_id="twitter:1", reply_to_handle="alice"
    )
    store.upsert_posts([root, reply])
    with store.begin() as conn:
        terms = set(conn.execute(select(post_terms.c.kind, post_terms.c.value)).all())
        edges = set(
            conn.execute(
                select(
                    interactions.c.kind,
                    interactions.c.source_author_id,
                    interactions.c.target_author_id,
                )
            ).all()
        )
    assert ("hashtag", "coffee") in terms
    assert ("mention", "brewhaven") in terms
    assert {("domain", "shop.example.com"), ("domain", "example.com")} <= terms
    assert ("reply", "twitter:carol", "twitter:alice") in edges
    assert ("mention", "twitter:alice", "twitter:brewhaven") in edges


def test_reimport_does_not_duplicate_edges(store: Store) -> None:
    p = make_post("2", "@bob hi", parent_id="twitter:1", collected_at=T0)
    store.upsert_posts([p])
    store.upsert_posts(
        [make_post("2", "@bob hi", parent_id="twitter:1", collected_at=T0 + timedelta(1))]
    )
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(interactions)).scalar_one() == 2


def test_threads_derived_from_reply_chains_in_any_order(store: Store) -> None:
    # children arrive before their parents; a reply to an unknown post roots at that post
    store.upsert_posts([make_post("3", "c", parent_id="twitter:2", handle="c")])
    store.upsert_posts([make_post("2", "b", parent_id="twitter:1", handle="b")])
    store.upsert_posts([make_post("9", "x", parent_id="twitter:404", handle="x")])
    store.derive_threads()
    store.upsert_posts([make_post("1", "a", handle="a")])
    store.derive_threads()
    with store.begin() as conn:
        roots = dict(conn.execute(select(posts.c.id, posts.c.root_id)).all())
        reply_targets = dict(
            conn.execute(
                select(interactions.c.target, interactions.c.target_author_id).where(
                    interactions.c.kind == "reply"
                )
            ).all()
        )
    assert roots == {
        "twitter:1": "twitter:1",
        "twitter:2": "twitter:1",
        "twitter:3": "twitter:1",
        "twitter:9": "twitter:404",
    }
    assert reply_targets["twitter:1"] == "twitter:a"
    assert reply_targets["twitter:2"] == "twitter:b"
    assert reply_targets["twitter:404"] is None


def test_upgrade_from_an_older_revision_keeps_data(tmp_path: Path) -> None:
    """A store created at 0001 is upgraded in place on open, its posts intact."""
    from alembic import command

    from socialloop.store.engine import alembic_config, make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_initial")
    assert current_revision(engine) == "0001_initial"
    old = Store(engine)
    old.upsert_posts([make_post("1", "kept across upgrades")])
    engine.dispose()
    upgraded = Store.open(url)
    assert current_revision(upgraded.engine) == head_revision()
    assert upgraded.get_post("twitter:1") is not None
    with upgraded.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM post_labels")).scalar_one() == 0
    upgraded.close()


def test_upgrade_backfills_declared_language_facets(tmp_path: Path) -> None:
    from alembic import command

    from socialloop.store.engine import alembic_config, make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_enrichments")
        conn.execute(
            text(
                "INSERT INTO posts (id, network, native_id, text, created_at, collected_at, "
                "mentions, hashtags, links, lang) VALUES ('x:1', 'x', '1', 'hola', "
                "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', '[]', '[]', '[]', "
                "'es-MX')"
            )
        )
    engine.dispose()
    store = Store.open(url)
    with store.begin() as conn:
        rows = conn.execute(select(post_terms.c.kind, post_terms.c.value)).all()
    assert rows == [("lang", "es")]
    store.close()


def test_brand_accounts_round_trip_and_ownership(tmp_path: Path) -> None:
    from socialloop.errors import InvalidValue
    from socialloop.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    brand, _ = ws.add_brand("Acme", "acme", accounts=["@AcmeHelp", "mastodon:acme@social.example"])
    assert brand.accounts == ["acmehelp", "mastodon:acme@social.example"]
    stored = ws.store.get_brand("acme")
    assert stored.owns("twitter:acmehelp") and stored.owns("bluesky:AcmeHelp")
    assert stored.owns("mastodon:acme@social.example")
    assert not stored.owns("twitter:acme@social.example") and not stored.owns(None)
    edited, _ = ws.edit_brand("Acme", accounts=["twitter:acme"])
    assert edited.accounts == ["twitter:acme"] and not edited.owns("reddit:acme")
    with pytest.raises(InvalidValue, match="NETWORK:HANDLE"):
        ws.add_brand("Bad", "bad", accounts=[":"])
    ws.close()


def test_replies_below_a_missing_post_share_its_root(store: Store) -> None:
    # 404 is never stored: 10 replies to it, 11 replies to 10, 12 to 11 -> one thread
    store.upsert_posts(
        [
            make_post("12", "d", parent_id="twitter:11", handle="d"),
            make_post("11", "c", parent_id="twitter:10", handle="c"),
            make_post("10", "b", parent_id="twitter:404", handle="b"),
        ]
    )
    store.derive_threads()
    with store.begin() as conn:
        roots = dict(conn.execute(select(posts.c.id, posts.c.root_id)).all())
    assert roots == {"twitter:10": "twitter:404", "twitter:11": "twitter:404",
                     "twitter:12": "twitter:404"}  # fmt: skip


def test_upgrade_folds_enrichments_into_one_row_per_post(tmp_path: Path) -> None:
    # migration 0012: every stored step result survives (versions, values, confidences, a
    # stale mark), one row per post; the downgrade gives the old rows back
    from tests._migrations import check_enrichments_upgrade

    check_enrichments_upgrade(f"sqlite:///{tmp_path / 'old.db'}")


def test_brand_names_match_in_any_case_beyond_ascii(tmp_path: Path) -> None:
    # SQLite's own lower() folds ASCII only: "Éclair" was stored, then not found by name
    from socialloop.errors import AlreadyExists
    from socialloop.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    brand, _ = ws.add_brand("Éclair", "eclair")
    assert brand.name == "Éclair" and brand.id is not None
    assert ws.store.get_brand("éclair").id == ws.store.get_brand("ÉCLAIR").id == brand.id
    with pytest.raises(AlreadyExists):
        ws.add_brand("éCLAIR", "other")
    ws.add_brand("Ärzteblatt", "aerzte")
    assert ws.store.get_brand("ärzteblatt").name == "Ärzteblatt"
    assert ws.count("toward:éclair:positive") == 0  # the name parses and compiles
    ws.close()
