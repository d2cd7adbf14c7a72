"""`socialloop source` and `socialloop listen` end to end against local HTTP servers started
by the tests (Mastodon pages, an RSS feed), plus the run loop (stop between pages, --every),
the push intake ``ingest_payload`` and the ``after_ingest`` hook."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from socialloop.cli.main import cli
from socialloop.errors import ImportFormatError, InvalidValue, NotFound
from socialloop.listen.connectors.base import walk_back
from socialloop.listen.ingest import ingest_payload
from socialloop.listen.live import listen, listen_once, parse_interval
from socialloop.listen.sources import add_source, get_source, list_sources
from socialloop.store.enrich_rows import step_results
from socialloop.store.schema import enrichments, posts
from socialloop.workspace import Workspace
from tests._listen_fakes import T0, FakeFeed, FakeMastodon, rss, serve, status, transport
from tests.conftest import make_post


def cli_run(runner: CliRunner, root: Path, *args: str, code: int = 0) -> str:
    res = runner.invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == code, res.output
    return res.output


def post_ids(root: Path) -> list[str]:
    with Workspace.open(root) as ws, ws.store.begin() as conn:
        return [r.id for r in conn.execute(select(posts.c.id))]


def test_listen_once_against_a_local_mastodon_server(runner: CliRunner, root: Path) -> None:
    fake = FakeMastodon(statuses=[status(i, f"<p>Acme coffee {i}</p>") for i in range(1, 11)])
    with serve(fake) as base:
        cli_run(runner, root, "brand", "add", "Acme", "--query", "acme")
        out = cli_run(
            runner, root, "source", "add", "tag", "--connector", "mastodon", "--instance", base,
            "--hashtag", "coffee", "--limit", "4", "--per-minute", "6000",
        )  # fmt: skip
        assert "Added source tag (mastodon)" in out
        out = cli_run(runner, root, "listen", "--once", "--no-enrich")
        assert "tag (mastodon) ok: 4 pages, 10 items, new 10" in out
        ids = post_ids(root)
        assert len(ids) == 10 == len(set(ids))
        assert all(r.url.path == "/api/v1/timelines/tag/coffee" for r in fake.requests)
        assert [r.url.params.get("max_id") for r in fake.requests] == [None, "7", "3", "1"]

        # new statuses arrive; the second run asks only for what is newer
        fake.statuses += [status(i, f"<p>Acme coffee {i}</p>") for i in range(11, 14)]
        fake.requests.clear()
        out = cli_run(runner, root, "listen", "tag", "--no-enrich")
        assert "new 3, updated 0, unchanged 0" in out
        assert [r.url.params.get("min_id") for r in fake.requests] == ["10", "13"]
        ids = post_ids(root)
        assert len(ids) == 13 == len(set(ids))
        with Workspace.open(root) as ws:
            assert ws.count(None, brand="Acme") == 13

    out = cli_run(runner, root, "source", "list")
    assert "tag" in out and "hashtag=coffee" in out and "13" in out
    shown = orjson.loads(cli_run(runner, root, "source", "show", "tag"))
    assert shown["checkpoint"] == {"min_id": "13"} and shown["last_status"] == "ok"
    assert shown["posts"] == 13


def test_listen_once_against_a_local_rss_feed_and_enrich(runner: CliRunner, root: Path) -> None:
    fake = FakeFeed(body=rss([("a", "Acme review", "<p>Great <b>coffee</b></p>", T0),
                              ("b", "Acme again", "<p>Terrible service</p>", T0)]))  # fmt: skip
    with serve(fake) as base:
        cli_run(runner, root, "source", "add", "blog", "-c", "rss", "--url", f"{base}/feed.xml")
        out = cli_run(runner, root, "listen", "--once")
        assert "blog (rss) ok: 1 pages, 2 items, new 2" in out
        fake.requests.clear()
        out = cli_run(runner, root, "listen", "--once")
        assert "0 items, new 0" in out
        assert fake.requests[0].headers["if-none-match"] == fake.etag  # answered 304
    with Workspace.open(root) as ws, ws.store.begin() as conn:
        n = conn.execute(select(func.count()).select_from(enrichments)).scalar_one()
        assert n >= 2  # the hook enriched what the run stored


def test_listen_reports_every_failing_source_and_exits_1(runner: CliRunner, root: Path) -> None:
    fake = FakeMastodon()  # answers 404 to an unknown account
    with serve(fake) as base:
        cli_run(runner, root, "source", "add", "who", "-c", "mastodon", "--instance", base,
                "--account", "nobody", "--per-minute", "6000")  # fmt: skip
        out = cli_run(runner, root, "listen", "--no-enrich", code=1)
    assert "who (mastodon) error" in out and "HTTP 404" in out
    assert "-> check the instance" in out


def test_source_commands(runner: CliRunner, root: Path) -> None:
    out = cli_run(runner, root, "source", "add", "x", "-c", "rss", "--hashtag", "a", code=1)
    assert "unknown option(s) hashtag" in out and "its options are: url" in out
    out = cli_run(runner, root, "source", "add", "x", "-c", "reddit", code=1)
    assert "exactly one of subreddit, query" in out
    cli_run(runner, root, "source", "add", "r", "-c", "reddit", "--subreddit", "coffee",
            "--set", "max_pages=2")  # fmt: skip
    out = cli_run(runner, root, "source", "add", "r", "-c", "hackernews", "-q", "x", code=1)
    assert "already exists" in out
    cli_run(runner, root, "source", "disable", "r")
    assert "(disabled)" in cli_run(runner, root, "source", "list")
    cli_run(runner, root, "source", "enable", "r")
    cli_run(runner, root, "source", "reset", "r")
    cli_run(runner, root, "source", "remove", "r", "--yes")
    assert "No sources" in cli_run(runner, root, "source", "list")
    cli_run(runner, root, "source", "show", "r", code=1)
    out = cli_run(runner, root, "listen", "--once", "--every", "5m", code=2)
    assert "not both" in out


def test_imported_sources_are_listed_but_not_polled(ws: Workspace, tmp_path: Path) -> None:
    from socialloop.listen.importer import import_posts

    import_posts(ws, [make_post("1", "hello")], source="sim")
    (src,) = list_sources(ws.store, count=True)
    assert src.name == "sim" and not src.live and src.posts == 1
    assert listen_once(ws, enrich=False) == []
    with pytest.raises(NotFound, match="not a live connector"):
        listen_once(ws, ["sim"], enrich=False)


def test_stop_request_is_honoured_between_pages(ws: Workspace) -> None:
    fake = FakeMastodon(statuses=[status(i, f"coffee {i}") for i in range(1, 10)])
    add_source(ws.store, "tag", "mastodon",
               {"instance": "https://social.example", "hashtag": "c", "limit": 2})  # fmt: skip
    pages: list[int] = []

    class Progress:
        def start_source(self, source: Any) -> None: ...

        def page(self, report: Any) -> None:
            pages.append(report.pages)

        def end_source(self, report: Any) -> None: ...

    (report,) = listen_once(
        ws, transport=transport(fake), progress=Progress(), should_stop=lambda: len(pages) >= 2,
        enrich=False,
    )  # fmt: skip
    assert report.status == "interrupted" and report.pages == 2 and report.new == 4
    cp = get_source(ws.store, "tag").checkpoint or {}
    assert cp["backfill"]["max_id"] == "6"  # the next run goes on from there
    (report,) = listen_once(ws, transport=transport(fake), enrich=False)
    assert report.new == 5


def test_every_polls_repeatedly_and_waits_between(ws: Workspace) -> None:
    fake = FakeMastodon(statuses=[status(1, "coffee")])
    add_source(ws.store, "tag", "mastodon", {"instance": "https://social.example", "hashtag": "c"})
    now = [1000.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    cycles: list[int] = []

    def on_cycle(reports: list[Any]) -> None:
        cycles.append(sum(r.new for r in reports))
        fake.statuses.append(status(len(fake.statuses) + 1, "coffee"))

    n = listen(ws, every=300, sleep=sleep, clock=lambda: now[0], on_cycle=on_cycle,
               max_cycles=3, transport=transport(fake), enrich=False)  # fmt: skip
    assert n == 3 and cycles == [1, 1, 1]
    assert sum(sleeps) == pytest.approx(600, abs=5)


def test_a_feed_url_must_be_an_http_url(ws: Workspace) -> None:
    for bad in ("notaurl", "ftp://x.example/feed", "https://"):
        with pytest.raises(InvalidValue, match="is not an http\\(s\\) URL"):
            add_source(ws.store, "f", "rss", {"url": bad})
    assert add_source(ws.store, "f", "rss", {"url": "HTTPS://x.example/feed"}).config["url"]


def test_parse_interval() -> None:
    assert parse_interval("5m") == 300 and parse_interval("30s") == 30
    assert parse_interval("1h") == 3600 and parse_interval("90") == 90
    with pytest.raises(InvalidValue):
        parse_interval("soon")
    with pytest.raises(InvalidValue):
        parse_interval("0m")


def test_walk_back_page_cap_keeps_the_walk_for_the_next_run() -> None:
    data = list(range(100, 0, -1))  # newest first: stamps 100..1

    def fetch(cursor: Any, floor: float | None) -> tuple[list[int], Any]:
        start = int(cursor or 0)
        chunk = data[start : start + 10]
        return chunk, (start + 10 if start + 10 < len(data) else None)

    def stamp(x: Any) -> float:
        return float(x)

    first = list(walk_back({"floor": 50.0, "seen": []}, fetch, stamp, 2))
    assert [len(p.items) for p in first] == [10, 10] and first[-1].more is False
    cp = first[-1].checkpoint
    assert cp["floor"] == 50.0 and cp["walk"]["cursor"] == 20 and cp["walk"]["top"] == 100.0
    rest = list(walk_back(cp, fetch, stamp, 5))
    items = [x for p in rest for x in p.items]
    assert items == list(range(80, 49, -1))
    assert rest[-1].checkpoint["floor"] == 100.0 and "walk" not in rest[-1].checkpoint


def test_ingest_payload_reads_every_import_format(ws: Workspace) -> None:
    lines = [orjson.dumps(make_post(str(i), f"Acme latte {i}").to_dict()) for i in range(3)]
    body = b"\n".join(lines) + b"\n{not json\n"
    result = ingest_payload(ws, body, filename_hint="../../etc/passwd.jsonl", enrich=False)
    assert result.status == "completed" and result.new == 3 and result.rejected == 1
    assert len(result.post_pks) == 3 and result.format == "socialloop"
    assert result.rejects_path is not None and "passwd.jsonl" in result.first_rejects[0]

    # a Mastodon API page, gzip-compressed, detected from the content
    page = orjson.dumps([status(5, "<p>from a push</p>")])
    pushed = ingest_payload(ws, gzip.compress(page), filename_hint=None)
    assert pushed.format == "mastodon" and pushed.new == 1
    csv = b"id,text,created_at,author\n9,Acme cold brew,2026-05-01T10:00:00Z,zed\n"
    result = ingest_payload(ws, csv, filename_hint="upload.csv", fmt="csv", enrich=False)
    assert result.new == 1
    # the gzip push ran the after_ingest hook (enrichment); the csv one (enrich=False) did not
    with ws.store.begin() as conn:
        enriched = {r.post_pk for r in step_results(conn)}
    assert set(pushed.post_pks) <= enriched and not set(result.post_pks) & enriched

    result = ingest_payload(ws, b"\x00\x01garbage", filename_hint="x.bin", enrich=False)
    assert result.status == "failed" and result.new == 0
    # the error names the payload, not the server's temporary file
    assert result.error is not None and "x.bin" in result.error
    assert "socialloop-ingest-" not in result.error
    with pytest.raises(ImportFormatError, match="empty"):
        ingest_payload(ws, b"", filename_hint=None)


def test_sources_table_has_the_0008_columns(ws: Workspace) -> None:
    src = add_source(ws.store, "f", "rss", {"url": "https://x.example/feed"})
    assert src.enabled is True and src.last_run_at is None and src.checkpoint is None
    assert src.config == {"url": "https://x.example/feed", "max_pages": 1}
    with ws.store.begin() as conn:
        cols = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(sources)")}
    assert {"enabled", "last_run_at", "last_status", "last_error"} <= cols


def test_every_reports_an_unexpected_error_and_polls_again(ws: Workspace) -> None:
    fake = FakeMastodon(statuses=[status(1, "coffee")])
    add_source(ws.store, "tag", "mastodon", {"instance": "https://social.example", "hashtag": "c"})

    def boom(n: int, request: Any) -> None:
        if n == 2:
            raise RuntimeError("bug in cycle two")
        return None

    fake.fail = boom
    errors: list[Exception] = []
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    n = listen(ws, every=60, sleep=sleep, clock=lambda: now[0], on_error=errors.append,
               max_cycles=3, transport=transport(fake), enrich=False)  # fmt: skip
    assert n == 3 and [str(e) for e in errors] == ["bug in cycle two"]
    assert get_source(ws.store, "tag").last_status == "ok"  # the third cycle ran fine


def test_sigkill_in_the_middle_of_a_run_then_rerun(runner: CliRunner, root: Path) -> None:
    """A real crash: the process is killed while page 3 is in flight; the rerun resumes after
    page 2 and ends with every status once."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    fake = FakeMastodon(statuses=[status(i, f"<p>coffee {i}</p>") for i in range(1, 11)])
    arrived, release = threading.Event(), threading.Event()

    def hang(n: int, request: Any) -> None:
        if n == 3:
            arrived.set()
            release.wait(30)
        return None

    fake.fail = hang
    with serve(fake) as base:
        cli_run(runner, root, "source", "add", "tag", "-c", "mastodon", "--instance", base,
                "--hashtag", "c", "--limit", "3", "--per-minute", "6000")  # fmt: skip
        env = {**os.environ, "SOCIALLOOP_WORKSPACE": str(root)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "socialloop.cli.main", "listen", "--once", "--no-enrich"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if not arrived.wait(60):
                pytest.skip("the machine is too slow to reach page 3 within 60 s")
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
        assert len(post_ids(root)) == 6  # pages 1 and 2, committed with their checkpoint
        with Workspace.open(root) as ws:
            assert get_source(ws.store, "tag").checkpoint == {
                "min_id": "10",
                "backfill": {"max_id": "5", "pages": 2},
            }
        fake.fail = None
        fake.requests.clear()
        out = cli_run(runner, root, "listen", "--once", "--no-enrich")
        assert "new 4" in out
        assert fake.requests[0].url.params["max_id"] == "5"
    ids = post_ids(root)
    assert len(ids) == 10 == len(set(ids))
