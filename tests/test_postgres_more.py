"""The team-server option beyond the core flow: the web app, the ENGAGE workflow, LISTEN and
the ADAPT, graph and conversation reports on a PostgreSQL workspace (tests/_postgres.py).

Every database here has a default time zone that is not UTC (``America/St_Johns``, UTC-3:30 or
-2:30), so a timestamp that reached the server as an aware value would be shifted and show.

- A seeded market (``socialloop simulate``, enriched, topics and graph built) in a SQLite and a
  PostgreSQL workspace: the report (share of voice, time series, topics, negative drivers,
  spikes, perception gap, alignment, roadmap, touch points, return on experience), its HTML,
  influence, communities, similar authors, advocates, response times, threads, the inbox and
  its statistics after an SLA change are the same on both.
- The web app on PostgreSQL: sign-in, session and CSRF, API tokens, /api/search, an inbox item
  assigned, answered, approved and published through the real Mastodon publisher (behind
  httpx.MockTransport), the audit trail and response statistics, POST /api/ingest and the
  overview rollups.
- ``listen_once`` with a Mastodon connector behind httpx.MockTransport: the checkpoint written
  with each page survives an interruption and a failing page, on both stores alike.
- An older store on the server is upgraded in place with its data.
- Writers at once (threads): imports sharing authors, overview recounts and triage runs of
  the same posts neither deadlock nor add a row twice.

Skipped, saying why, without the server binaries or psycopg.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from socialloop.cli.main import cli
from socialloop.store.schema import authors, posts
from socialloop.workspace import Workspace
from tests import _postgres
from tests._web import WebEnv, csrf_of, login_fields, web_env

# the throwaway server's fixtures (skip, saying why, without the binaries or psycopg)
pg_cluster = _postgres.pg_cluster

SERVER_TZ = "America/St_Johns"


@pytest.fixture
def team_url(pg_cluster: _postgres.PgCluster) -> str:
    """A fresh database whose default time zone is not UTC (a misplaced aware timestamp
    would show)."""
    return _postgres.create_database(pg_cluster, "t_", f"timezone = '{SERVER_TZ}'")


def _run(root: Path, *args: str, code: int = 0) -> str:
    res = CliRunner().invoke(
        cli, [*args, "--workspace", str(root)], env={"SOCIALLOOP_USER": "tester", "COLUMNS": "200"}
    )
    assert res.exit_code == code, res.output
    return res.output


def _json(root: Path, *args: str) -> Any:
    return orjson.loads(_run(root, *args))


# -- a seeded market on both stores ------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    lite: Path
    pg: Path

    def both(self, *args: str) -> tuple[Any, Any]:
        """The JSON a command prints on SQLite and on PostgreSQL."""
        return _json(self.lite, *args), _json(self.pg, *args)


@pytest.fixture(scope="module")
def market(pg_cluster: _postgres.PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Market:
    # as on a large store, the planner groups by hashing (in no particular order), so a
    # result that leaned on SQLite's sorted GROUP BY output would differ
    url = _postgres.create_database(
        pg_cluster, "m_", f"timezone = '{SERVER_TZ}'", "enable_sort = off"
    )
    base = tmp_path_factory.mktemp("market")
    out = Market(base / "lite", base / "pg")
    assert CliRunner().invoke(cli, ["init", str(out.lite)]).exit_code == 0
    res = CliRunner().invoke(cli, ["init", str(out.pg), "--database-url", url])
    assert res.exit_code == 0, res.output
    for root in (out.lite, out.pg):
        _run(root, "simulate", "--posts", "1500", "--days", "10", "--seed", "7")
        _run(root, "topics", "--build")
        _run(root, "graph", "build")
    with Workspace.open(out.pg) as ws:
        assert ws.store.dialect == "postgresql"
    return out


def _stable(doc: dict[str, Any]) -> dict[str, Any]:
    """A report without what names the run (its time and the workspace's name)."""
    return {k: v for k, v in doc.items() if k not in ("generated_at", "workspace")}


def test_the_report_is_the_same_on_both_stores(market: Market) -> None:
    lite, pg = market.both("report", "--json")
    assert _stable(pg) == _stable(lite)
    # and it is not vacuous: every ADAPT section has content on PostgreSQL
    sov = pg["share_of_voice"]
    assert len(sov["brands"]) == 4
    assert sum(b["mentions"] for b in sov["brands"]) == sov["total_mentions"] > 100
    days = pg["timeseries"][0]["buckets"]
    assert len(days) == 10 and [d["start"] for d in days] == sorted(d["start"] for d in days)
    assert days[0]["start"] == "2026-10-22T00:00:00+00:00"  # UTC days, not the server's
    assert sum(d["posts"] for d in days) == pg["summary"]["posts"]
    assert pg["top_topics"] and pg["negative_drivers"]["terms"]
    assert pg["perception"]["topics_built"]
    assert any(a["verdict"] == "confirmed" for a in pg["perception"]["assumptions"])
    assert pg["alignment"]["topics"] and pg["alignment"]["coverage"]
    assert pg["roadmap"]["items"] and pg["touchpoints"]
    assert pg["rox"]["engaged"]["authors"] > 0 and pg["rox"]["strata"]
    assert "spikes" in pg and "spike_rule" in pg


def test_the_html_report_and_share_of_voice_are_the_same(market: Market, tmp_path: Path) -> None:
    pages = []
    for root in (market.lite, market.pg):
        path = tmp_path / f"{root.name}.html"
        _run(root, "report", "--html", str(path))
        text = path.read_text(encoding="utf-8")
        text = text.replace(f"workspace: {root.name}", "workspace: -")
        pages.append(re.sub(r"generated: [0-9-]+ [0-9:]+ UTC", "generated: -", text))
    assert pages[0] == pages[1] and "<svg" in pages[1]
    lite, pg = market.both("sov", "--json")
    assert lite == pg
    lite, pg = market.both("spikes", "--json")
    assert lite == pg


def test_influence_communities_and_similar_authors_are_the_same(market: Market) -> None:
    lite, pg = market.both("influencers", "--json")
    assert lite == pg and len(pg) == 20
    assert pg == sorted(pg, key=lambda a: -a["score"])
    lite, pg = market.both("influencers", "--brand", "Brewhaven", "--no-own", "--json")
    assert lite == pg and pg
    lite, pg = market.both("communities", "--json")
    assert lite == pg and len(pg) >= 2
    top = pg[0]["top_authors"][0]["author_id"]
    lite_out = _run(market.lite, "similar-authors", top)
    assert _run(market.pg, "similar-authors", top) == lite_out
    assert "similarity" in lite_out


def _similar(root: Path) -> dict[str, list[tuple[str, float, list[str]]]]:
    from socialloop.graph.interest import interest_matrix, similar_authors

    with Workspace.open(root) as ws:
        m = interest_matrix(ws.store)
        return {
            a: [
                (r["author_id"], r["similarity"], r["shared"])
                for r in similar_authors(ws.store, a, matrix=m)
            ]
            for a in sorted(m.authors)[:150]
        }


def test_similar_authors_rank_ties_alike(market: Market) -> None:
    """Many authors tie (the same few hashtags and topics): the interest matrix's rows and
    columns come from ordered queries, so ties rank alike on both stores."""
    lite, pg = _similar(market.lite), _similar(market.pg)
    assert pg == lite
    assert len(pg) == 150 and sum(len(v) == 10 for v in pg.values()) > 100
    ties = sum(len({s for _a, s, _t in v}) < len(v) for v in pg.values())
    assert ties > 20  # the ranking has ties for the order to matter


def test_conversations_are_the_same(market: Market) -> None:
    lite, pg = market.both("responsetimes", "--json")
    assert lite == pg and pg
    assert any(r["responded"] > 0 for r in pg)
    lite, pg = market.both("advocates", "--brand", "Brewhaven", "--json")
    assert lite == pg and pg
    lite, pg = market.both("advocates", "--brand", "Brewhaven", "--detractors", "--json")
    assert lite == pg
    with Workspace.open(market.pg) as ws, ws.store.begin() as conn:
        root_id = conn.execute(
            select(posts.c.root_id)
            .where(posts.c.parent_id.is_not(None))
            .group_by(posts.c.root_id)
            .order_by(func.count().desc(), posts.c.root_id)
            .limit(1)
        ).scalar_one()
    lite, pg = market.both("thread", str(root_id), "--json")
    assert lite == pg and pg["size"] >= 3


def _inbox(root: Path) -> list[tuple[Any, ...]]:
    items = _json(root, "inbox", "list", "--status", "all", "--limit", "10000", "--json")
    return sorted(
        (
            i["post_id"],
            i["brand"],
            sorted(i["reasons"]),
            # the stored components (``waiting`` follows the clock between the two listings)
            sorted((k, v) for k, v in i["components"].items() if k != "waiting"),
            i["due_at"],
            i["sla"],
            i["status"],
        )
        for i in items
    )


def test_the_inbox_and_its_slas_are_the_same(market: Market) -> None:
    assert _inbox(market.pg) == _inbox(market.lite)
    before = _inbox(market.pg)
    for root in (market.lite, market.pg):
        _run(
            root, "sla", "set", "--timezone", "Europe/Helsinki",
            "--hours", "mon-fri 09:00-17:00", "--target", "high=1h",
        )  # fmt: skip
    after = _inbox(market.pg)
    assert after == _inbox(market.lite)
    assert len(after) == len(before) > 50
    assert sum(a[4] != b[4] for a, b in zip(after, before, strict=True)) > len(after) // 2
    lite, pg = market.both("inbox", "stats", "--json")
    assert lite == pg


# -- the web app on PostgreSQL -----------------------------------------------------------------

HOST = "social.example"
STATUS_ID = "109000000000000001"


@pytest.fixture
def web(tmp_path: Path, team_url: str) -> Iterator[WebEnv]:
    """tests/_web.web_env on a PostgreSQL workspace that publishes to a Mastodon instance."""
    env = web_env(
        tmp_path,
        database_url=team_url,
        config=f'\n[publish.mastodon]\ninstance = "https://{HOST}/"\n',
    )
    for made in env:
        assert made.state.workspace.store.dialect == "postgresql"
        yield made


def _seed_question(ws: Workspace) -> int:
    """Brand Acme; a Mastodon status asking it a question (imported by the real mapper) as an
    open inbox item; agents ``agent`` (replies need approval), ``admin`` (an approver) and
    ``ben``."""
    from socialloop.engage.agents import add_agent
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.triage import triage_posts
    from socialloop.listen.formats.mastodon import map_record
    from tests._engage import store_posts
    from tests.test_publish_mastodon import status

    ws.add_brand("Acme", "acme", accounts=["brand"])
    raw = status(
        STATUS_ID, origin=HOST, username="ann", content="<p>Is the acme store open on Sunday?</p>"
    )
    (question,) = map_record(raw)
    store_posts(ws, [(question, {"intent": ["question"], "lang": "en"})])
    ws.store.derive_threads()
    triage_posts(ws, None)
    now = datetime(2026, 5, 1, tzinfo=UTC)
    add_agent(ws.store, "agent", languages=["en"], needs_approval=True, actor="t", now=now)
    add_agent(ws.store, "admin", role="approver", actor="t", now=now)
    add_agent(ws.store, "ben", languages=["en"], actor="t", now=now)
    (item,) = Inbox(ws).list_items()
    return item.id


def test_web_sign_in_search_and_tokens(web: WebEnv) -> None:
    item_id = _seed_question(web.ws)
    client = web.login("agent")  # the sign-in form, its pre-session token and the session
    assert client.get("/").status_code == 200
    listing = client.get("/inbox")
    assert listing.status_code == 200 and f'href="/inbox/{item_id}"' in listing.text
    # a wrong password gets no session: the inbox still sends the browser to sign in
    stranger = TestClient(web.client.app)
    fields = login_fields(stranger, "agent", "not the password")
    assert stranger.post("/login", data=fields, follow_redirects=False).status_code != 303
    away = stranger.get("/inbox", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/login")
    r = web.client.get("/api/search", params={"q": "acme sunday"}, headers=web.bearer("viewer"))
    assert r.status_code == 200
    assert [p["id"] for p in r.json()["posts"]] == [f"mastodon:{HOST}/{STATUS_ID}"]
    assert r.json()["count"] == 1
    none = web.client.get(
        "/api/search", params={"q": "acme NOT sunday"}, headers=web.bearer("viewer")
    )
    assert none.json()["count"] == 0
    assert web.client.get("/api/me", headers=web.bearer("analyst")).json()["role"] == "analyst"
    wrong = web.client.get("/api/me", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert web.client.get("/api/inbox", headers=web.bearer("viewer")).status_code == 403


def test_web_works_an_item_and_publishes_the_reply_to_mastodon(web: WebEnv) -> None:
    from socialloop.engage.analytics import response_stats
    from socialloop.engage.audit import entries
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.replies import Replies
    from socialloop.errors import ItemClaimed
    from tests.test_publish_mastodon import TOKEN, FakeInstance

    item_id = _seed_question(web.ws)
    client = web.login("agent")
    # a form post without the CSRF token changes nothing; with it the item is assigned
    refused = client.post(f"/inbox/{item_id}/assign", data={"agent": "agent"})
    assert refused.status_code == 403
    assert Inbox(web.ws).get(item_id).status == "new"
    token = csrf_of(client, f"/inbox/{item_id}")
    r = client.post(f"/inbox/{item_id}/assign", data={"agent": "agent", "csrf_token": token})
    assert r.status_code == 200 and "Assigned to agent" in r.text

    agent = web.bearer("agent")
    r = web.client.post(
        f"/api/inbox/{item_id}/reply", json={"text": "Yes, 9 to 17 on Sundays."}, headers=agent
    )
    assert r.status_code == 200, r.text
    reply = r.json()["reply"]
    assert reply["status"] == "pending"  # the agent's replies need approval
    # drafting claimed the item: another agent cannot take it over meanwhile
    with pytest.raises(ItemClaimed, match="being answered by agent"):
        Inbox(web.ws).claim(item_id, "ben")

    with Workspace.open(web.root, {"SOCIALLOOP_MASTODON_TOKEN": TOKEN}) as ws:
        replies = Replies(Inbox(ws))
        assert replies.approve(reply["id"], approver="admin").status == "approved"
        fake = FakeInstance()
        sent = replies.send(reply["id"], transport=httpx.MockTransport(fake))
    assert not sent.manual and sent.reply.status == "sent"
    (post,) = fake.posts()
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Idempotency-Key"]
    assert json.loads(post.content) == {
        "status": "@ann Yes, 9 to 17 on Sundays.",
        "in_reply_to_id": STATUS_ID,
        "visibility": "public",
    }
    (created,) = fake.created.values()
    assert sent.reply.published_url == created["url"]

    detail = web.client.get(f"/api/inbox/{item_id}", headers=agent).json()
    assert detail["status"] == "replied" and detail["assignee"] == "agent"
    assert [(x["status"], x["approved_by"]) for x in detail["replies"]] == [("sent", "admin")]
    assert detail["first_response_at"] is not None
    r = web.client.post(f"/api/inbox/{item_id}/resolve", headers=agent)
    assert r.status_code == 200 and r.json()["status"] == "resolved"

    actions = [e.action for e in entries(web.ws.store, item_id=item_id)]
    assert actions[0] == "triage.add" and actions[-1] == "resolve"
    assert actions.index("assign") < actions.index("reply.approve") < actions.index("reply.send")
    stats = response_stats(web.ws.store)
    overall = stats["overall"]
    assert (overall["items"], overall["responded"], overall["resolved"]) == (1, 1, 1)
    assert overall["median_first_response_s"] > 0
    assert [g["key"] for g in stats["by_agent"]] == ["agent"]


def test_ingest_and_the_overview_rollups(web: WebEnv) -> None:
    from socialloop.adapt.metrics import timeseries
    from socialloop.adapt.scope import Scope
    from socialloop.web.rollups import read_overview

    web.ws.add_brand("Acme", "acme")
    lines = [
        {
            "network": "twitter",
            "native_id": str(900 + i),
            "text": text,
            "created_at": when,
            "author": {"network": "twitter", "handle": f"pusher{i}"},
            "likes": i,
        }
        for i, (text, when) in enumerate(
            [
                ("acme on May 1", "2026-05-01T12:00:00+00:00"),
                # May 2 in UTC, still May 1 in the server's time zone
                ("acme early on May 2", "2026-05-02T01:00:00+00:00"),
                ("acme again that day", "2026-05-02T11:00:00+00:00"),
                ("nothing about the brand", "2026-05-02T12:00:00+00:00"),
            ]
        )
    ]
    body = b"".join(orjson.dumps(x) + b"\n" for x in lines)
    r = web.client.post(
        "/api/ingest?filename=push.jsonl", content=body, headers=web.bearer("analyst")
    )
    assert r.status_code == 200, r.text
    assert r.json()["new"] == 4
    again = web.client.post(
        "/api/ingest?filename=push.jsonl", content=body, headers=web.bearer("analyst")
    )
    assert again.json()["new"] == 0  # idempotent
    assert web.ws.count(None, brand="Acme") == 3

    (view,) = read_overview(web.ws)
    assert [(d.day.isoformat(), d.posts, d.engagement) for d in view.days] == [
        ("2026-05-01", 1, 0),
        ("2026-05-02", 2, 3),
    ]
    series = timeseries(web.ws, Scope(view.brand, None, None), "day")
    assert [(b.start.date(), b.posts) for b in series.buckets] == [
        (d.day, d.posts) for d in view.days
    ]
    page = web.login("viewer").get("/")
    assert page.status_code == 200 and "<b>3</b> posts" in page.text
    viewer = web.bearer("viewer")
    report = web.client.get("/api/reports", headers=viewer)
    assert report.status_code == 200, report.text
    (acme,) = report.json()["share_of_voice"]["brands"]
    assert (acme["brand"], acme["mentions"], acme["engagement"]) == ("Acme", 3, 3)
    html = web.client.get("/api/reports/html", headers=viewer)
    assert html.status_code == 200 and "<svg" in html.text


# -- LISTEN: checkpoints written with each page ------------------------------------------------


def _listen_run(ws: Workspace) -> dict[str, Any]:
    from socialloop.listen.live import listen_once
    from socialloop.listen.sources import add_source, get_source
    from tests._listen_fakes import FakeMastodon, status, transport

    fake = FakeMastodon(statuses=[status(i, f"acme coffee {i}") for i in range(1, 10)])
    ws.add_brand("Acme", "acme")
    add_source(ws.store, "tag", "mastodon",
               {"instance": "https://social.example", "hashtag": "c", "limit": 2})  # fmt: skip
    pages: list[int] = []

    class Progress:
        def start_source(self, source: Any) -> None: ...

        def page(self, report: Any) -> None:
            pages.append(report.pages)

        def end_source(self, report: Any) -> None: ...

    out: dict[str, Any] = {}
    (first,) = listen_once(
        ws, transport=transport(fake), progress=Progress(), should_stop=lambda: len(pages) >= 2,
        enrich=False, sleep=lambda s: None,
    )  # fmt: skip
    out["first"] = (first.status, first.pages, first.new)
    out["checkpoint1"] = get_source(ws.store, "tag").checkpoint
    out["stored1"] = ws.count(None)

    # the third page's server fails on every attempt: the pages before it stay, with their
    # checkpoint, and the next run goes on from there
    def fail(n: int, request: httpx.Request) -> tuple[int, dict[str, str], bytes] | None:
        return (500, {"content-type": "text/plain"}, b"oops") if n >= 4 else None

    fake.fail = fail
    (broken,) = listen_once(ws, transport=transport(fake), sleep=lambda s: None, enrich=False)
    out["broken"] = (broken.status, broken.pages, broken.new)
    out["checkpoint2"] = get_source(ws.store, "tag").checkpoint
    out["stored2"] = ws.count(None)
    fake.fail = None
    (last,) = listen_once(ws, transport=transport(fake), sleep=lambda s: None, enrich=False)
    out["last"] = (last.status, last.new)
    out["checkpoint3"] = get_source(ws.store, "tag").checkpoint
    out["ids"] = sorted(p.id for p in ws.search(None, limit=None))
    out["brand"] = ws.count(None, brand="Acme")
    return out


def test_listen_writes_a_checkpoint_with_each_page(tmp_path: Path, team_url: str) -> None:
    with Workspace.init(tmp_path / "pg", database_url=team_url) as pg:
        on_pg = _listen_run(pg)
    with Workspace.init(tmp_path / "lite") as lite:
        on_lite = _listen_run(lite)
    assert on_pg == on_lite
    assert on_pg["first"] == ("interrupted", 2, 4)
    assert on_pg["checkpoint1"]["backfill"]["max_id"] == "6"
    assert on_pg["stored1"] == 4
    assert on_pg["broken"][0] == "error" and on_pg["stored2"] == 4 + 2 * on_pg["broken"][1]
    assert on_pg["last"][0] == "ok"
    assert len(on_pg["ids"]) == on_pg["brand"] == 9


# -- an older store on the server is brought up to date ----------------------------------------


def test_an_older_store_is_upgraded_in_place_with_its_data(team_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from socialloop.store.engine import alembic_config, current_revision, head_revision, make_engine
    from socialloop.store.schema import post_terms
    from socialloop.store.store import Store

    engine = make_engine(team_url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_enrichments")
        conn.execute(
            text(
                "INSERT INTO posts (id, network, native_id, text, created_at, collected_at, "
                "mentions, hashtags, links, lang) VALUES ('x:1', 'x', '1', 'hola', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '[]', '[]', '[]', 'es-MX')"
            )
        )
    assert current_revision(engine) == "0002_enrichments"
    engine.dispose()
    store = Store.open(team_url)
    try:
        assert current_revision(store.engine) == head_revision()
        post = store.get_post("x:1")
        assert post is not None and post.text == "hola"
        assert post.created_at == datetime(2026, 1, 1, tzinfo=UTC)
        with store.begin() as conn:
            rows = conn.execute(select(post_terms.c.kind, post_terms.c.value)).all()
        assert rows == [("lang", "es")]  # 0003 backfilled the language facet
    finally:
        store.close()


# -- writers at once: on SQLite they queue for the write lock, on PostgreSQL they run ----------


def _at_once(work: Any, n: int) -> list[str]:
    """Run ``work(k)`` in ``n`` threads at once; the errors they raised."""
    import threading

    errors: list[str] = []
    start = threading.Barrier(n)

    def run(k: int) -> None:
        start.wait()
        try:
            work(k)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_imports_sharing_authors_at_once_do_not_deadlock(team_url: str) -> None:
    """Batches by the same authors written at once, listed in opposite orders: the author
    rows are locked in one order, so the writers wait for each other instead of deadlocking."""
    from socialloop.store.store import Store
    from tests.conftest import make_post

    Store.open(team_url).close()
    t0 = datetime(2026, 5, 1, tzinfo=UTC)

    def work(k: int) -> None:
        store = Store.open(team_url)
        try:
            for it in range(6):
                handles = [f"user{i}" for i in range(200)]
                if k % 2:
                    handles.reverse()
                store.upsert_posts(
                    [
                        make_post(f"{k}-{it}-{i}", f"post {i}", handle=h, when=t0)
                        for i, h in enumerate(handles)
                    ]
                )
        finally:
            store.close()

    assert _at_once(work, 4) == []
    store = Store.open(team_url)
    try:
        with store.begin() as conn:
            assert conn.execute(select(func.count()).select_from(posts)).scalar_one() == 4800
            assert conn.execute(select(func.count()).select_from(authors)).scalar_one() == 200
    finally:
        store.close()


def test_overview_refreshes_at_once_queue(tmp_path: Path, team_url: str) -> None:
    """Recounts of the same days at once (a live page and a pushed import) used to insert the
    same (brand, day) twice on PostgreSQL; they queue now, and the counts are right."""
    from socialloop.web.rollups import read_overview, refresh_overview
    from tests.conftest import make_post

    root = tmp_path / "ws"
    with Workspace.init(root, database_url=team_url) as ws:
        ws.add_brand("Acme", "acme")
        ws.add_brand("Globex", "globex")
        t0 = datetime(2026, 5, 1, tzinfo=UTC)
        written = ws.store.upsert_posts(
            [make_post(str(i), "acme and globex", when=t0 + timedelta(hours=i)) for i in range(96)]
        ).written
        ws.edit_brand("Acme", query="acme")
        ws.edit_brand("Globex", query="globex")
    pks = sorted(written.values())

    def work(k: int) -> None:
        with Workspace.open(root) as w:
            for _ in range(8):
                refresh_overview(w, pks if k % 2 else pks[::-1])

    assert _at_once(work, 4) == []
    with Workspace.open(root) as ws:
        for view in read_overview(ws):
            assert [(d.day.day, d.posts) for d in view.days] == [(1, 24), (2, 24), (3, 24), (4, 24)]


def test_triage_runs_at_once_add_each_item_once(tmp_path: Path, team_url: str) -> None:
    """Two triage runs over the same new posts (a live page and a pushed import) used to add
    the same item twice on PostgreSQL (a unique violation for one of them); they queue now."""
    from socialloop.engage.audit import entries
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.triage import triage_posts
    from tests._engage import store_posts
    from tests.conftest import make_post

    root = tmp_path / "ws"
    with Workspace.init(root, database_url=team_url) as ws:
        ws.add_brand("Acme", "acme")
        t0 = datetime(2026, 5, 1, tzinfo=UTC)
        pks = sorted(
            store_posts(
                ws,
                [
                    (
                        make_post(str(i), f"acme where is order {i}?", handle=f"c{i}", when=t0),
                        {"intent": ["question"], "lang": "en"},
                    )
                    for i in range(120)
                ],
            ).values()
        )

    def work(k: int) -> None:
        with Workspace.open(root) as w:
            triage_posts(w, pks if k % 2 else pks[::-1])

    assert _at_once(work, 4) == []
    with Workspace.open(root) as ws:
        items = Inbox(ws).list_items(limit=1000)
        assert len(items) == len({i.post_id for i in items}) == 120
        added = [e for e in entries(ws.store) if e.action == "triage.add"]
        assert len(added) == 120


def test_sentiment_toward_a_brand_counts_alike(market: Market) -> None:
    counts: list[dict[str, int]] = []
    for root in (market.lite, market.pg):
        with Workspace.open(root) as ws:
            names = [b.name for b in ws.store.list_brands()]
            counts.append(
                {
                    f"{name}:{label}": ws.count(f'toward:"{name}:{label}"')
                    for name in names
                    for label in ("negative", "neutral", "positive")
                }
            )
    lite, pg = counts
    assert pg == lite
    assert len(lite) == 12 and sum(lite.values()) > 100
