"""Regressions from a QA pass over the dashboard and the API as a manager or analyst uses them:
a user's mistake on a page gets the HTML error page with a readable message (not FastAPI's
JSON), inbox form errors carry the status the API gives for the same error, an unknown inbox
status or influence scope is bad input (400), a pushed payload nothing could be read from is
a 400, and follower counts are readable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from socialloop.graph.pipeline import build
from tests._web import WebEnv, csrf_of, seed_inbox, web_env
from tests.conftest import make_post


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    yield from web_env(tmp_path)


def _is_error_page(r: httpx.Response, status: int) -> str:
    """The error page's text (asserting it is the HTML page with ``status``)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert f"<h1>{status}</h1>" in r.text
    return r.text


def test_a_bad_parameter_on_a_page_shows_the_error_page_not_json(web: WebEnv) -> None:
    seed_inbox(web.ws)
    client = web.login("agent")
    text = _is_error_page(client.get("/reports/view", params={"since": "yesterday"}), 400)
    assert "since=&#39;yesterday&#39; is not an ISO date" in text
    text = _is_error_page(client.get("/inbox/abc"), 400)
    assert "item_id: Input should be a valid integer" in text
    _is_error_page(client.get("/no-such-page"), 404)
    # the API keeps its JSON answers
    api = client.get("/api/inbox/abc")
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["path", "item_id"]
    assert client.get("/api/nothing-here").json() == {"detail": "Not Found"}


def test_an_unknown_inbox_brand_is_404_not_an_empty_list(web: WebEnv) -> None:
    item_id = seed_inbox(web.ws)
    client = web.login("agent")
    text = _is_error_page(client.get("/inbox", params={"brand": "Globex"}), 404)
    assert "no brand named &#39;Globex&#39;" in text
    r = web.client.get("/api/inbox", params={"brand": "Globex"}, headers=web.bearer("agent"))
    assert r.status_code == 404 and r.json() == {"detail": "no brand named 'Globex'"}
    r = web.client.get("/api/inbox", params={"brand": "Acme"}, headers=web.bearer("agent"))
    assert [i["id"] for i in r.json()] == [item_id]
    assert f"/inbox/{item_id}" in client.get("/inbox", params={"brand": "Acme"}).text


def test_an_unknown_inbox_status_is_bad_input_on_the_page_and_the_api(web: WebEnv) -> None:
    item_id = seed_inbox(web.ws)
    client = web.login("agent")
    text = _is_error_page(client.get("/inbox", params={"status": "bogus"}), 400)
    assert "unknown status &#39;bogus&#39;" in text
    r = web.client.get("/api/inbox", params={"status": "bogus"}, headers=web.bearer("agent"))
    assert r.status_code == 400
    assert r.json()["detail"].startswith("unknown status 'bogus'; use open, new")
    # "open" (the page's default) works on both; "all" too
    for status in ("open", "all"):
        page = client.get("/inbox", params={"status": status})
        assert page.status_code == 200 and f"/inbox/{item_id}" in page.text
        r = web.client.get("/api/inbox", params={"status": status}, headers=web.bearer("agent"))
        assert [i["id"] for i in r.json()] == [item_id]


def test_inbox_form_errors_carry_the_status_of_the_error(web: WebEnv) -> None:
    item_id = seed_inbox(web.ws)
    client = web.login("agent")
    csrf = csrf_of(client, f"/inbox/{item_id}")
    # an agent that does not exist: unknown, 404 (as the API says), shown on the item's page
    r = client.post(f"/inbox/{item_id}/assign", data={"agent": "ghost", "csrf_token": csrf})
    assert r.status_code == 404
    assert "no agent named &#39;ghost&#39;" in r.text and f"Inbox item {item_id}" in r.text
    # an empty reply: bad input, 400
    r = client.post(f"/inbox/{item_id}/reply", data={"text": "  ", "csrf_token": csrf})
    assert r.status_code == 400 and "give either a text or a saved reply" in r.text
    # resolving an item in a state that does not allow it stays a conflict, 409; the page
    # only offers "Mark resolved" once the item has been replied to
    r = client.post(f"/inbox/{item_id}/resolve", data={"csrf_token": csrf})
    assert r.status_code == 409 and "cannot become resolved" in r.text
    assert f'action="/inbox/{item_id}/resolve"' not in r.text
    assert "An item is resolved after it has been replied to." in r.text


def _graph(web: WebEnv) -> None:
    posts = [make_post("hub", "hello all", handle="hub", followers=1234567, likes=1)]
    posts += [make_post(f"l{i}", f"@hub hi {i}", handle=f"leaf{i}") for i in range(6)]
    web.ws.store.upsert_posts(posts)
    web.ws.store.derive_threads()
    web.ws.add_brand("Acme", "hub OR hi")  # matches the stored posts: scope brand:<id>
    build(web.ws)


def test_an_unknown_influence_scope_is_bad_input_and_followers_are_readable(
    web: WebEnv,
) -> None:
    client = web.login("viewer")
    # before any graph build nothing is scored: every scope is simply empty
    r = web.client.get("/api/influencers?scope=brand:9", headers=web.bearer("viewer"))
    assert r.status_code == 200 and r.json() == []
    _graph(web)
    page = client.get("/influencers")
    assert page.status_code == 200 and ">1,234,567<" in page.text
    brand_id = web.ws.store.get_brand("Acme").id
    assert f'<option value="brand:{brand_id}" >brand: Acme</option>' in page.text
    text = _is_error_page(client.get("/influencers", params={"scope": "brand:9"}), 400)
    assert "no influence scores for scope &#39;brand:9&#39;" in text
    r = web.client.get("/api/influencers?scope=bogus", headers=web.bearer("viewer"))
    assert r.status_code == 400 and "scored: all" in r.json()["detail"]
    r = web.client.get("/api/influencers?scope=all", headers=web.bearer("viewer"))
    assert r.json()[0]["handle"] == "hub" and r.json()[0]["followers"] == 1234567


def test_a_pushed_payload_nothing_could_be_read_from_is_a_400(web: WebEnv) -> None:
    headers = web.bearer("analyst")
    r = web.client.post("/api/ingest?filename=x.jsonl", content=b"not json\n", headers=headers)
    assert r.status_code == 400
    doc = r.json()
    assert doc["status"] == "failed" and doc["new"] == 0 and doc["run_id"]
    assert "no valid JSON record" in doc["detail"] and doc["detail"] == doc["error"]
    r = web.client.post("/api/ingest?format=bogus", content=b"{}", headers=headers)
    assert r.status_code == 400 and "unknown format 'bogus'" in r.json()["detail"]
    assert web.ws.store.count() == 0


def test_a_reversed_date_span_is_bad_input_not_an_empty_answer(web: WebEnv) -> None:
    seed_inbox(web.ws)
    span = {"since": "2026-05-02", "until": "2026-05-01"}
    client = web.login("agent")
    text = _is_error_page(client.get("/reports/view", params=span), 400)
    assert "is not after since=" in text
    # the search page keeps its form and says what is wrong above it
    r = client.get("/search", params=span)
    assert r.status_code == 400 and 'class="error"' in r.text and "is not after since=" in r.text
    for route in ("/api/search", "/api/reports", "/api/reports/html"):
        r = web.client.get(route, params=span, headers=web.bearer("agent"))
        assert r.status_code == 400, route
        assert r.json()["detail"].startswith("until='2026-05-01' is not after since='2026-05-02'")
    # one day, given as the same date twice, is a span (until is the end of that day)
    same = {"since": "2026-05-01", "until": "2026-05-01"}
    r = web.client.get("/api/search", params=same, headers=web.bearer("agent"))
    assert r.status_code == 200
