"""Importing files into a workspace: summaries, rejects with file and line, brand matching on
import, idempotent re-imports, and resume after a crash (a real SIGKILL) or Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, text

from socialloop.listen.importer import import_files, import_posts
from socialloop.store.schema import interactions, post_brands, posts
from socialloop.workspace import Workspace
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def write_native(path: Path, n: int, *, start: int = 0, bad_every: int = 0) -> None:
    with path.open("wb") as fh:
        for i in range(start, start + n):
            if bad_every and i % bad_every == 0:
                fh.write(b'{"this is": "not a post"\n')
                continue
            post = make_post(
                str(i),
                f"post {i} about #coffee and the @brewhaven latte",
                handle=f"user{i % 50}",
                when=T0 + timedelta(minutes=i),
                parent_id=f"twitter:{i - 1}" if i % 4 else None,
            )
            fh.write(orjson.dumps(post.to_dict()) + b"\n")


def table_count(ws: Workspace, table: object) -> int:
    with ws.store.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def assert_consistent(ws: Workspace) -> None:
    """Every stored post has its FTS row and facets; nothing half-written."""
    with ws.store.begin() as conn:
        n_posts = conn.execute(select(func.count()).select_from(posts)).scalar_one()
        n_fts = conn.execute(text("SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'post'"))
        assert n_fts.scalar_one() == n_posts
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM posts p WHERE NOT EXISTS "
                "(SELECT 1 FROM post_terms t WHERE t.post_pk = p.pk)"
            )
        ).scalar_one()
        assert orphans == 0
        conn.execute(text("INSERT INTO posts_fts(posts_fts, rank) VALUES('integrity-check', 1)"))


def test_import_summary_matching_and_reimport(ws: Workspace, tmp_path: Path) -> None:
    ws.add_brand("Brewhaven", "@brewhaven OR brewhaven")
    data = tmp_path / "posts.jsonl"
    write_native(data, 300)
    report = import_files(ws, [data])
    assert (report.read, report.new, report.updated, report.rejected) == (300, 300, 0, 0)
    assert report.status == "completed"
    assert report.files[0].format == "socialloop"
    assert table_count(ws, post_brands) == 300
    assert table_count(ws, interactions) > 300  # mentions + replies
    again = import_files(ws, [data])
    assert (again.read, again.new) == (300, 0)
    assert again.updated + again.unchanged == 300
    assert table_count(ws, posts) == 300
    assert table_count(ws, post_brands) == 300
    assert_consistent(ws)


def test_bad_records_are_reported_and_good_ones_kept(ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "mixed.jsonl"
    write_native(data, 100, bad_every=10)
    with data.open("ab") as fh:
        fh.write(b"{not json at all\n")
    report = import_files(ws, [data])
    assert report.rejected == 11
    assert report.read == 90
    assert table_count(ws, posts) == 90
    assert report.rejects_path is not None
    rejects = [orjson.loads(line) for line in Path(report.rejects_path).read_bytes().splitlines()]
    assert len(rejects) == 11
    assert rejects[0]["file"] == str(data)
    assert rejects[0]["line"] == 1  # post 0 is bad, on line 1
    assert rejects[-1]["line"] == 101
    assert all(r["reason"] for r in rejects)


def test_nothing_readable_fails_the_run(ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text("nope\n")
    report = import_files(ws, [data])
    assert report.read == 0
    assert report.status == "failed"


def test_ctrl_c_leaves_whole_batches_and_rerun_completes(ws: Workspace) -> None:
    def stream() -> object:
        for i in range(250):
            if i == 180:
                raise KeyboardInterrupt
            yield make_post(str(i), f"post {i} #coffee", when=T0 + timedelta(minutes=i))

    imp_ws = Workspace(ws.settings.__class__(**{**_settings_dict(ws), "batch_size": 50}), ws.store)
    with pytest.raises(KeyboardInterrupt):
        import_posts(imp_ws, stream())  # type: ignore[arg-type]
    assert table_count(ws, posts) == 150  # three whole batches of 50, the fourth rolled back
    assert_consistent(ws)
    runs = ws.store.list_runs()
    assert runs[0]["status"] == "interrupted"
    full = [
        make_post(str(i), f"post {i} #coffee", when=T0 + timedelta(minutes=i)) for i in range(250)
    ]
    report = import_posts(imp_ws, full)
    assert (report.new, report.updated + report.unchanged) == (100, 150)
    assert table_count(ws, posts) == 250
    assert_consistent(ws)


def _settings_dict(ws: Workspace) -> dict[str, object]:
    s = ws.settings
    return {
        "root": s.root,
        "name": s.name,
        "database_url": s.database_url,
        "batch_size": s.batch_size,
        "rejects_dir": s.rejects_dir,
    }


def test_sigkill_mid_import_then_rerun_has_no_duplicates(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.init(root).close()
    data = tmp_path / "big.jsonl"
    write_native(data, 60_000)
    env = {**os.environ, "SOCIALLOOP_BATCH_SIZE": "1000"}
    cmd = [
        sys.executable,
        "-m",
        "socialloop.cli.main",
        "import",
        str(data),
        "--no-enrich",
        "--workspace",
        str(root),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = root / "socialloop.db"
    deadline = time.monotonic() + 180
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        with Workspace.open(root) as ws:
            stored = table_count(ws, posts)
        if stored >= 2000:
            break
    if proc.poll() is not None:
        pytest.skip("the import finished before it could be killed (machine too fast)")
    if stored < 2000:
        proc.kill()
        proc.wait()
        pytest.skip("the import stored too little in 3 minutes to test a kill (machine too slow)")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert db.exists()
    with Workspace.open(root) as ws:
        partial = table_count(ws, posts)
        assert 0 < partial < 60_000
        assert partial % 1000 == 0  # only whole batches were committed
        assert_consistent(ws)
        report = import_files(ws, [data])
        assert report.new == 60_000 - partial
        assert table_count(ws, posts) == 60_000
        assert_consistent(ws)


def test_binary_files_are_refused_and_the_good_files_beside_them_imported(
    ws: Workspace, tmp_path: Path
) -> None:
    good = tmp_path / "good.jsonl"
    write_native(good, 20)
    archive = tmp_path / "posts.zip"
    archive.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    utf16 = tmp_path / "posts.csv"
    utf16.write_bytes("id,text\n1,hello\n".encode("utf-16"))
    fake_gz = tmp_path / "posts.csv.gz"
    fake_gz.write_bytes(b"id,text\n1,hello\n")
    bare_cr = tmp_path / "odd.txt"
    bare_cr.write_bytes(b"id,te\rxt\n1,hello\n")
    report = import_files(ws, [archive, good, utf16, fake_gz, bare_cr])
    assert report.new == 20 and report.status == "completed"
    errors = {Path(f.path).name: f.error for f in report.files}
    assert errors["good.jsonl"] is None
    assert "ZIP archive" in (errors["posts.zip"] or "")
    assert "extract it" in (errors["posts.zip"] or "")
    assert "not UTF-8 text" in (errors["posts.csv"] or "")
    assert "UTF-16" in (errors["posts.csv"] or "")
    assert "first line is not CSV" in (errors["odd.txt"] or "")
    assert "named .gz but is not gzip-compressed" in (errors["posts.csv.gz"] or "")
    assert table_count(ws, posts) == 20
