"""The overview's daily rollups: they hold the same numbers as ``adapt.metrics`` on data with
known answers, a page request reads them without scanning posts, an ingest recounts only the
days its posts fall on, a brand changed anywhere is rebuilt before it is shown, and both ingest
tails (the CLI's and the live one) refresh them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import event, update

from socialloop.adapt.metrics import summary, timeseries
from socialloop.adapt.scope import Scope
from socialloop.store.schema import overview_days
from socialloop.web.rollups import read_overview, refresh_overview
from socialloop.workspace import Workspace
from tests._engage import store_posts
from tests._web import WebEnv, web_env
from tests.conftest import make_post


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    yield from web_env(tmp_path)


def _when(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 5, day, hour, tzinfo=UTC)


def _seed(ws: Workspace) -> dict[str, int]:
    """Acme (own) and Globex (competitor); on May 1 three Acme posts (one positive with 3
    likes, one negative, one about both that is negative toward Acme and positive toward
    Globex), on May 3 one neutral Acme post and one unlabelled Globex post."""
    ws.add_brand("Acme", "acme")
    ws.add_brand("Globex", "globex", competitor=True)
    return store_posts(
        ws,
        [
            (make_post("1", "acme is great", when=_when(1), likes=3), {"sentiment": "positive"}),
            (make_post("2", "acme is broken", when=_when(1, 18)), {"sentiment": "negative"}),
            (
                make_post("3", "acme worse than globex", when=_when(1, 23)),
                {
                    "sentiment": "neutral",
                    "brand_sentiment": {"Acme": "negative", "Globex": "positive"},
                },
            ),
            (make_post("4", "acme ok", when=_when(3, 0)), {"sentiment": "neutral"}),
            (make_post("5", "globex anyone", when=_when(3)), {"enriched": False}),
        ],
    )


def _days(ws: Workspace, name: str) -> list[tuple[date, int, int, int, int, int]]:
    (view,) = [v for v in read_overview(ws) if v.brand.name == name]
    return [(d.day, d.posts, d.engagement, d.positive, d.neutral, d.negative) for d in view.days]


def test_rollups_hold_the_known_counts_and_agree_with_the_metrics(web: WebEnv) -> None:
    _seed(web.ws)
    refresh_overview(web.ws)
    assert _days(web.ws, "Acme") == [
        (date(2026, 5, 1), 3, 3, 1, 0, 2),
        (date(2026, 5, 3), 1, 0, 0, 1, 0),
    ]
    assert _days(web.ws, "Globex") == [
        (date(2026, 5, 1), 1, 0, 1, 0, 0),
        (date(2026, 5, 3), 1, 0, 0, 0, 0),
    ]
    for view in read_overview(web.ws):
        scope = Scope(view.brand, None, None)
        series = timeseries(web.ws, scope, "day")
        assert [(b.start.date(), b.posts, b.engagement, b.sentiment) for b in series.buckets] == [
            (
                d.day,
                d.posts,
                d.engagement,
                {"positive": d.positive, "neutral": d.neutral, "negative": d.negative},
            )
            for d in view.days
        ]
        expected = summary(web.ws, scope)
        assert (view.posts, view.sentiment, view.net_sentiment) == (
            expected["posts"],
            expected["sentiment"],
            expected["net_sentiment"],
        )
    page = web.login("viewer").get("/").text
    assert "<b>4</b> posts" in page and "net sentiment <b>-0.25</b>" in page  # (1 - 2) / 4


def test_the_overview_page_reads_the_rollups_and_never_scans_posts(web: WebEnv) -> None:
    _seed(web.ws)
    refresh_overview(web.ws)
    client = web.login("viewer")
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = web.state.workspace.store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get("/")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.status_code == 200 and "Globex" in page.text and "<svg" in page.text
    assert "as of" in page.text
    assert statements, "no SQL seen: the listener is on the wrong engine"
    scans = [s for s in statements if re.search(r"\b(FROM|JOIN)\s+posts\b", s)]
    assert scans == []


def test_an_ingest_recounts_only_the_days_its_posts_fall_on(web: WebEnv) -> None:
    _seed(web.ws)
    refresh_overview(web.ws)
    # mark May 1 so a recount of it would show
    with web.ws.store.begin() as conn:
        conn.execute(
            update(overview_days).where(overview_days.c.day == "2026-05-01").values(posts=99)
        )
    pks = store_posts(
        web.ws, [(make_post("6", "acme again", when=_when(3, 23)), {"sentiment": "negative"})]
    )
    assert _days(web.ws, "Acme")[1][1] == 1  # a snapshot: unchanged until refreshed
    refresh_overview(web.ws, [pks["twitter:6"]])
    acme = _days(web.ws, "Acme")
    assert acme[0][1] == 99  # May 1 was not recounted
    assert acme[1] == (date(2026, 5, 3), 2, 0, 0, 1, 1)
    refresh_overview(web.ws)  # a full refresh recounts everything
    assert _days(web.ws, "Acme")[0][1] == 3


def test_a_brand_changed_outside_the_app_is_rebuilt_before_it_is_shown(web: WebEnv) -> None:
    _seed(web.ws)
    refresh_overview(web.ws)
    client = web.login("viewer")
    web.ws.edit_brand("Acme", query="acme AND broken")  # as `socialloop brand edit` does
    page = client.get("/").text
    assert "<b>1</b> posts" in page and "<code>acme AND broken</code>" in page
    assert _days(web.ws, "Acme") == [(date(2026, 5, 1), 1, 0, 0, 0, 1)]
    # a workspace never refreshed (created before migration 0011) shows its brands all the same
    web.ws.add_brand("Initech", "globex OR great")
    assert _days(web.ws, "Initech") == [
        (date(2026, 5, 1), 2, 3, 1, 1, 0),
        (date(2026, 5, 3), 1, 0, 0, 0, 0),
    ]


def test_brands_added_and_changed_through_the_app_show_at_once(web: WebEnv) -> None:
    _seed(web.ws)
    refresh_overview(web.ws)
    r = web.client.post(
        "/api/brands", json={"name": "Initech", "query": "broken"}, headers=web.bearer("analyst")
    )
    assert r.status_code == 201
    r = web.client.patch(
        "/api/brands/Acme", json={"query": "acme AND ok"}, headers=web.bearer("analyst")
    )
    assert r.status_code == 200
    views = {v.brand.name: v for v in read_overview(web.ws)}
    assert views["Initech"].posts == 1 and views["Initech"].refreshed_at is not None
    assert views["Acme"].posts == 1


def test_both_ingest_tails_refresh_the_rollups(tmp_path: Path) -> None:
    from socialloop.cli.data_cmds import triage_after_enrich
    from socialloop.listen.ingest import ingest_payload

    ws = Workspace.init(tmp_path / "ws")
    try:
        _seed(ws)
        triage_after_enrich(ws)  # the CLI's tail (import, simulate, enrich)
        assert sum(v.posts for v in read_overview(ws)) == 6
        body = b"\n".join(
            orjson.dumps(make_post(f"p{i}", f"acme pushed {i}", when=_when(7)).to_dict())
            for i in range(3)
        )
        result = ingest_payload(ws, body, filename_hint="push.jsonl")  # the live tail
        assert result.to_dict()["new"] == 3
        acme = {d.day: d.posts for v in read_overview(ws) if v.brand.name == "Acme" for d in v.days}
        assert acme[date(2026, 5, 7)] == 3
    finally:
        ws.close()
