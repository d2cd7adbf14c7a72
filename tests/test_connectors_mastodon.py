"""Mastodon connector: hashtag / search / account timelines through httpx.MockTransport with
Status entities and Link headers; backfill then forward paging, resume after a crash, boosts,
quotes, media-only, edits and deletions, errors, and the fetch -> store -> enrich path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from socialloop.errors import InvalidValue
from socialloop.listen.connectors import open_connector
from socialloop.listen.live import listen_once
from socialloop.listen.sources import add_source, get_source, reset_checkpoint
from socialloop.store.enrich_rows import step_results
from socialloop.store.schema import post_brands, posts
from socialloop.workspace import Workspace
from tests._listen_fakes import FakeMastodon, account, status, transport

INSTANCE = "https://social.example"


def stored(ws: Workspace) -> dict[str, str]:
    """id -> text of every stored post."""
    with ws.store.begin() as conn:
        return {r.id: r.text for r in conn.execute(select(posts.c.id, posts.c.text))}


def run(ws: Workspace, fake: FakeMastodon, *names: str, **kw: Any) -> list[Any]:
    kw.setdefault("enrich", False)
    return listen_once(ws, names, transport=transport(fake), sleep=lambda s: None, **kw)


def tag_source(ws: Workspace, name: str = "tag", **config: Any) -> None:
    add_source(ws.store, name, "mastodon", {"instance": INSTANCE, "hashtag": "coffee", **config})


def test_config_is_validated_with_clear_errors(ws: Workspace) -> None:
    with pytest.raises(InvalidValue, match="'instance' is required"):
        add_source(ws.store, "a", "mastodon", {"hashtag": "x"})
    with pytest.raises(InvalidValue, match="exactly one of hashtag, query, account"):
        add_source(ws.store, "a", "mastodon", {"instance": INSTANCE, "hashtag": "x", "query": "y"})
    with pytest.raises(InvalidValue, match="unknown option"):
        add_source(ws.store, "a", "mastodon", {"instance": INSTANCE, "hashtag": "x", "url": "y"})
    with pytest.raises(InvalidValue, match="'limit' = 'many' is not a number"):
        add_source(
            ws.store, "a", "mastodon", {"instance": INSTANCE, "hashtag": "x", "limit": "many"}
        )
    add_source(ws.store, "a", "mastodon", {"instance": INSTANCE, "hashtag": "x", "limit": "10"})
    assert get_source(ws.store, "a").config["limit"] == 10


def test_first_run_backfills_pages_then_next_run_fetches_only_newer(ws: Workspace) -> None:
    fake = FakeMastodon(statuses=[status(i, f"<p>coffee number {i}</p>") for i in range(1, 8)])
    tag_source(ws, limit=3, max_pages=5)
    (report,) = run(ws, fake)
    assert report.status == "ok" and report.pages == 4 and report.new == 7
    assert len(stored(ws)) == 7
    # newest page, then older pages through the Link header's max_id, until an empty page
    assert [fake.params(i).get("max_id") for i in range(4)] == [None, "5", "2", "1"]
    assert get_source(ws.store, "tag").checkpoint == {"min_id": "7"}

    fake.statuses += [status(i, f"<p>coffee number {i}</p>") for i in range(8, 13)]
    fake.requests.clear()
    (report,) = run(ws, fake)
    assert report.new == 5 and report.unchanged == 0 and report.updated == 0
    # forward with min_id, each page starting at the previous page's "prev" link
    assert [fake.params(i).get("min_id") for i in range(len(fake.requests))] == [
        "7",
        "10",
        "12",
    ]
    assert len(stored(ws)) == 12
    assert get_source(ws.store, "tag").checkpoint == {"min_id": "12"}
    assert all(r.headers["user-agent"].startswith("socialloop/") for r in fake.requests)


def test_crash_after_page_two_resumes_with_no_gap_and_no_duplicate(ws: Workspace) -> None:
    fake = FakeMastodon(statuses=[status(i, f"coffee {i}") for i in range(1, 4)])
    tag_source(ws, limit=2, max_pages=10)
    run(ws, fake)  # first run: checkpoint at the newest status
    fake.statuses += [status(i, f"coffee {i}") for i in range(4, 14)]
    fake.requests.clear()

    def crash(n: int, request: httpx.Request) -> None:
        if n == 3:
            raise RuntimeError("power cut")
        return None

    fake.fail = crash
    with pytest.raises(RuntimeError, match="power cut"):
        run(ws, fake)
    assert len(stored(ws)) == 3 + 4  # two pages of two were committed with their checkpoint
    assert get_source(ws.store, "tag").checkpoint == {"min_id": "7"}
    assert get_source(ws.store, "tag").last_status == "error"

    fake.fail = None
    fake.requests.clear()
    (report,) = run(ws, fake)
    assert fake.params(0)["min_id"] == "7"  # resumed where it stopped
    assert report.new == 6 and report.updated == 0
    ids = stored(ws)
    assert len(ids) == 13 == len(set(ids))
    assert {f"mastodon:social.example/{i}" for i in range(1, 14)} == set(ids)


def test_boost_quote_media_only_and_reply(ws: Workspace) -> None:
    boosted = status(50, "<p>Brewhaven spring sale</p>", user="shop", host="brands.example")
    quoted = status(51, "<p>original take</p>", user="bob", host="other.example")
    media = status(3, "", media_attachments=[
        {"id": "9", "type": "image", "url": "https://files.example/a.jpg", "description": None}
    ])  # fmt: skip
    boost = status(
        2, "", reblog=boosted, uri="https://social.example/users/ann/statuses/2/activity"
    )
    quote = status(4, "<p>so true</p>", quote={"state": "accepted", "quoted_status": quoted})
    reply = status(
        5,
        '<p><span class="h-card"><a href="https://social.example/@ann" class="u-url mention">'
        "@<span>ann</span></a></span> agreed</p>",
        user="cid",
        in_reply_to_id="4",
        in_reply_to_account_id=account("ann")["id"],
        mentions=[{"id": account("ann")["id"], "username": "ann", "acct": "ann",
                   "url": "https://social.example/@ann"}],
    )  # fmt: skip
    fake = FakeMastodon(statuses=[status(1, "<p>plain</p>"), boost, media, quote, reply])
    tag_source(ws)
    (report,) = run(ws, fake)
    assert report.rejected == 0
    with ws.store.begin() as conn:
        rows = {r.id: r for r in conn.execute(select(posts))}
    b = rows["mastodon:social.example/2"]
    assert b.reshare_of == "mastodon:brands.example/50"
    assert rows["mastodon:brands.example/50"].text == "Brewhaven spring sale"
    q = rows["mastodon:social.example/4"]
    assert q.quote_of == "mastodon:other.example/51"
    assert rows["mastodon:other.example/51"].text == "original take"
    m = rows["mastodon:social.example/3"]
    assert m.text == "" and m.raw["media_attachments"][0]["type"] == "image"
    r = rows["mastodon:social.example/5"]
    assert r.parent_id == "mastodon:social.example/4" and r.reply_to_handle == "ann@social.example"


def test_edited_status_replaces_text_and_deleted_one_stays(ws: Workspace) -> None:
    fake = FakeMastodon(statuses=[status(1, "<p>first draft</p>"), status(2, "<p>to delete</p>")])
    tag_source(ws)
    run(ws, fake)
    fake.statuses = [
        status(1, "<p>edited text</p>", edited_at="2026-05-01T13:00:00.000Z")
    ]  # 2 was deleted
    reset_checkpoint(ws.store, "tag")
    (report,) = run(ws, fake)
    assert report.updated == 1 and report.new == 0
    texts = stored(ws)
    assert texts["mastodon:social.example/1"] == "edited text"
    # a deletion is invisible to a timeline: the status stays stored (docs/connectors.md)
    assert texts["mastodon:social.example/2"] == "to delete"
    assert len(texts) == 2


def test_search_with_token_and_account_statuses(ws: Workspace) -> None:
    fake = FakeMastodon(
        statuses=[status(1, "<p>Brewhaven latte</p>"), status(2, "<p>tea</p>")], token="s3cret"
    )
    add_source(ws.store, "s", "mastodon", {"instance": INSTANCE, "query": "brewhaven",
                                          "token_env": "MASTO_TOKEN"})  # fmt: skip
    (report,) = run(ws, fake, "s", environ={"MASTO_TOKEN": "s3cret"})
    assert report.status == "ok" and report.new == 1
    assert fake.params(0)["type"] == "statuses" and fake.params(0)["q"] == "brewhaven"

    ann = account("ann", id="77")
    fake.accounts["ann@social.example"] = ann
    fake.account_statuses["77"] = [status(10, "<p>my own post</p>")]
    add_source(ws.store, "acc", "mastodon", {"instance": INSTANCE, "account": "@ann@social.example",
                                            "token_env": "MASTO_TOKEN"})  # fmt: skip
    fake.requests.clear()
    (report,) = run(ws, fake, "acc", environ={"MASTO_TOKEN": "s3cret"})
    assert report.new == 1
    assert fake.requests[0].url.path == "/api/v1/accounts/lookup"
    assert fake.requests[1].url.path == "/api/v1/accounts/77/statuses"
    assert get_source(ws.store, "acc").checkpoint == {"account_id": "77", "min_id": "10"}


def test_bad_token_is_a_clear_error_and_other_sources_still_run(ws: Workspace) -> None:
    fake = FakeMastodon(statuses=[status(1, "coffee")], token="right")
    add_source(ws.store, "a-bad", "mastodon", {"instance": INSTANCE, "hashtag": "x",
                                              "token_env": "T"})  # fmt: skip
    add_source(ws.store, "b-gone", "mastodon", {"instance": INSTANCE, "account": "nobody",
                                               "token_env": "T2"})  # fmt: skip
    add_source(ws.store, "c-good", "mastodon", {"instance": INSTANCE, "hashtag": "x",
                                               "token_env": "T2"})  # fmt: skip
    reports = run(ws, fake, environ={"T": "wrong", "T2": "right"})
    by = {r.name: r for r in reports}
    assert by["a-bad"].status == "error" and by["a-bad"].error_kind == "BadCredentials"
    assert "HTTP 401" in (by["a-bad"].error or "")
    assert by["b-gone"].error_kind == "EndpointGone"
    assert by["c-good"].status == "ok" and by["c-good"].new == 1
    assert get_source(ws.store, "a-bad").last_error is not None


def test_unset_token_variable_is_reported_per_source(ws: Workspace) -> None:
    add_source(
        ws.store, "t", "mastodon", {"instance": INSTANCE, "hashtag": "x", "token_env": "NOPE"}
    )
    (report,) = run(ws, FakeMastodon(), environ={})
    assert report.status == "error" and "NOPE" in (report.error or "")


def test_unmappable_status_is_rejected_and_the_rest_kept(ws: Workspace, tmp_path: Path) -> None:
    bad = status(2, "<p>x</p>")
    del bad["account"]
    fake = FakeMastodon(statuses=[status(1, "<p>good</p>"), bad, status(3, "<p>fine</p>")])
    tag_source(ws)
    (report,) = run(ws, fake)
    assert report.new == 2 and report.rejected == 1
    assert report.rejects_path is not None
    line = orjson.loads(Path(report.rejects_path).read_bytes().splitlines()[0])
    assert line["file"] == "mastodon:tag" and "account" in line["reason"]
    assert orjson.loads(line["raw"])["id"] == "2"


def test_payload_changed_is_reported(ws: Workspace) -> None:
    class Html(FakeMastodon):
        def respond(self, request: httpx.Request) -> tuple[int, dict[str, str], bytes]:
            return 200, {"content-type": "text/html"}, b"<html>maintenance</html>"

    tag_source(ws)
    (report,) = run(ws, Html())
    assert report.error_kind == "PayloadChanged" and "expected JSON" in (report.error or "")


def test_fetch_store_enrich_and_brand_match(ws: Workspace) -> None:
    ws.add_brand("Brewhaven", "brewhaven")
    fake = FakeMastodon(
        statuses=[status(1, "<p>I love the Brewhaven latte, great service!</p>"),
                  status(2, "<p>Brewhaven app keeps crashing, terrible</p>")]
    )  # fmt: skip
    tag_source(ws)
    (report,) = run(ws, fake, enrich=True)
    assert report.new == 2 and sorted(report.post_pks) == report.post_pks
    with ws.store.begin() as conn:
        matched = conn.execute(select(func.count()).select_from(post_brands)).scalar_one()
        steps = {r.step for r in step_results(conn)}
    assert matched == 2
    assert {"language", "sentiment"} <= steps
    assert ws.count("sentiment:positive") + ws.count("sentiment:negative") >= 1


def test_map_item_is_pure_and_reuses_the_format() -> None:
    connector, http = open_connector("mastodon", {"instance": INSTANCE, "hashtag": "x"})
    try:
        raw = status(9, "<p>hello <a href='https://x.example/a'>link</a></p>", tags=("Coffee",))
        a, b = connector.map_item(raw), connector.map_item(raw)
        assert a == b and a.id == "mastodon:social.example/9"
        assert a.hashtags == ["coffee"] and a.links == ["https://x.example/a"]
    finally:
        http.close()
