"""Bulk imports (``import_files(..., bulk=True)``, ``socialloop import --bulk``): the same store
as a batch-by-batch import, idempotent re-imports, whole commits only after Ctrl-C, and the
run's connection settings never leak into the connections searches use."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from socialloop.listen import importer
from socialloop.listen.importer import import_files, import_posts
from socialloop.store.schema import import_runs, interactions, post_brands, post_terms, posts
from socialloop.workspace import Workspace
from tests.conftest import make_post
from tests.test_importer import T0, _settings_dict, assert_consistent, table_count, write_native


def _snapshot(ws: Workspace) -> dict[str, object]:
    with ws.store.begin() as conn:
        return {
            "posts": sorted(
                conn.execute(select(posts.c.id, posts.c.text, posts.c.root_id, posts.c.likes)).all()
            ),
            "terms": sorted(
                conn.execute(
                    select(post_terms.c.kind, post_terms.c.value, posts.c.id).join(
                        posts, posts.c.pk == post_terms.c.post_pk
                    )
                ).all()
            ),
            "edges": sorted(
                conn.execute(
                    select(
                        interactions.c.kind,
                        interactions.c.target,
                        interactions.c.target_author_id,
                        posts.c.id,
                    ).join(posts, posts.c.pk == interactions.c.post_pk)
                ).all()
            ),
            "brands": sorted(
                conn.execute(
                    select(post_brands.c.brand_id, posts.c.id).join(
                        posts, posts.c.pk == post_brands.c.post_pk
                    )
                ).all()
            ),
        }


def _workspace(root: Path, batch_size: int = 100) -> Workspace:
    ws = Workspace.init(root)
    ws.add_brand("Brewhaven", "@brewhaven OR brewhaven")
    settings = ws.settings.__class__(**{**_settings_dict(ws), "batch_size": batch_size})
    return Workspace(settings, ws.store, ws.fields)


def test_bulk_import_stores_what_a_batch_import_stores(tmp_path: Path) -> None:
    data = tmp_path / "posts.jsonl"
    write_native(data, 1_000, bad_every=97)
    plain = _workspace(tmp_path / "plain")
    bulk = _workspace(tmp_path / "bulk")
    r1 = import_files(plain, [data], bulk=False)
    r2 = import_files(bulk, [data], bulk=True)
    assert (r2.read, r2.new, r2.rejected) == (r1.read, r1.new, r1.rejected)
    assert r2.new == 1_000 - len(range(0, 1_000, 97))
    assert _snapshot(bulk) == _snapshot(plain)
    assert_consistent(bulk)
    with bulk.store.begin() as conn:
        run = conn.execute(select(import_runs).where(import_runs.c.id == r2.run_id)).one()
    assert (run.status, run.read, run.new, run.rejected) == (
        "completed",
        r2.read,
        r2.new,
        r2.rejected,
    )
    # the same file again: one row per post, nothing new
    again = import_files(bulk, [data], bulk=True)
    assert again.new == 0 and again.updated + again.unchanged == r2.new
    assert table_count(bulk, posts) == r2.new
    assert _snapshot(bulk) == _snapshot(plain)


def test_bulk_ctrl_c_keeps_whole_commits_and_rerun_completes(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BULK_COMMIT_POSTS", 100)

    def stream() -> object:
        for i in range(250):
            if i == 180:
                raise KeyboardInterrupt
            yield make_post(str(i), f"post {i} #coffee", when=T0 + timedelta(minutes=i))

    imp_ws = Workspace(ws.settings.__class__(**{**_settings_dict(ws), "batch_size": 50}), ws.store)
    with pytest.raises(KeyboardInterrupt):
        import_posts(imp_ws, stream(), bulk=True)  # type: ignore[arg-type]
    # two batches of 50 per commit: the first 100 posts; 101-150 were rolled back with 151-180
    assert table_count(ws, posts) == 100
    assert_consistent(ws)
    run = ws.store.list_runs()[0]
    assert (run["status"], run["new"]) == ("interrupted", 100)
    full = [
        make_post(str(i), f"post {i} #coffee", when=T0 + timedelta(minutes=i)) for i in range(250)
    ]
    report = import_posts(imp_ws, full, bulk=True)
    assert (report.new, report.updated + report.unchanged) == (150, 100)
    assert table_count(ws, posts) == 250
    assert_consistent(ws)


def test_the_import_connection_settings_do_not_leak(ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "posts.jsonl"
    write_native(data, 300)
    import_files(ws, [data], bulk=True)
    with ws.store.begin() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    with pytest.raises(Exception, match="FOREIGN KEY"), ws.store.begin() as conn:
        conn.execute(text("INSERT INTO post_terms (kind, value, post_pk) VALUES ('x', 'y', -5)"))


def test_large_files_import_in_bulk_by_default(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "posts.jsonl"
    write_native(data, 50)
    seen: list[bool] = []
    real = importer.Importer.__init__

    def spy(self: importer.Importer, *args: object, **kwargs: object) -> None:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        seen.append(self.bulk)

    monkeypatch.setattr(importer.Importer, "__init__", spy)
    import_files(ws, [data])
    monkeypatch.setattr(importer, "BULK_AUTO_BYTES", data.stat().st_size)
    import_files(ws, [data])
    import_files(ws, [data], bulk=False)
    assert seen == [False, True, False]


def test_roots_written_on_import_equal_derived_roots(tmp_path: Path) -> None:
    """The roots an import writes up front reach the fixed point ``derive_threads`` reaches
    alone: replies before and after their parents, missing parents, chains across batches."""
    data = tmp_path / "threads.jsonl"
    write_native(data, 400)
    lines = data.read_bytes().splitlines(keepends=True)
    # some replies arrive before their parents, and one parent never arrives
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(b"".join(lines[200:] + lines[:200][::-1][:-1]))
    imported = _workspace(tmp_path / "imported", batch_size=30)
    import_files(imported, [mixed])
    derived = _workspace(tmp_path / "derived")
    from socialloop.listen.files import read_file

    derived.store.upsert_posts([p for p in read_file(mixed) if not hasattr(p, "reason")])  # type: ignore[misc]
    derived.store.derive_threads()
    assert _snapshot(imported)["posts"] == _snapshot(derived)["posts"]
    with imported.store.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM posts WHERE root_id IS NULL")).scalar() == 0


def _indexes(ws: Workspace) -> set[str]:
    with ws.store.begin() as conn:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        return {str(r[0]) for r in rows}


def test_bulk_into_an_empty_store_builds_the_random_key_indexes_at_the_end(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path / "ws")
    before = _indexes(ws)
    assert set(importer.DEFERRED_INDEXES) <= before
    data = tmp_path / "posts.jsonl"
    write_native(data, 500)
    imp = importer.Importer(ws, files=[str(data)], bulk=True)
    assert imp.deferred
    assert not set(importer.DEFERRED_INDEXES) & _indexes(ws)  # dropped while loading
    from socialloop.listen.files import read_file

    for post in read_file(data):
        imp.add(post)  # type: ignore[arg-type]
    imp.finish()
    assert _indexes(ws) == before
    # a second bulk import into the now non-empty store keeps its indexes
    assert not importer.Importer(ws, bulk=True).deferred
    assert _indexes(ws) == before


def test_a_killed_bulk_import_leaves_correct_searches_and_the_rerun_restores_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path / "ws", batch_size=100)
    monkeypatch.setattr(importer, "BULK_COMMIT_POSTS", 200)
    data = tmp_path / "posts.jsonl"
    write_native(data, 1_000)
    from socialloop.listen.files import read_file

    imp = importer.Importer(ws, files=[str(data)], bulk=True)
    for i, post in enumerate(read_file(data)):
        if i == 450:
            break  # the process dies here: nothing after the last commit, no finish()
        imp.add(post)  # type: ignore[arg-type]
    imp._release()  # what the OS does with a killed process's connection
    assert table_count(ws, posts) == 400  # two commits of 200
    assert not set(importer.DEFERRED_INDEXES) & _indexes(ws)
    assert ws.count("latte") == 400  # searches are right without them, only slower
    assert len(ws.search("latte", limit=5)) == 5
    report = import_files(ws, [data], bulk=True)
    assert report.new == 600
    assert set(importer.DEFERRED_INDEXES) <= _indexes(ws)
    assert_consistent(ws)
