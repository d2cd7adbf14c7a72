"""The REST API: search returns the matching posts (and a bad query says where it is wrong),
brands, posts, push intake, the OpenAPI document, and every route's authorisation: each role,
no credentials and a wrong token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from socialloop.web.users import ROLES
from tests._web import WebEnv, seed_inbox, web_env
from tests.conftest import make_post


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    yield from web_env(tmp_path)


# (method, path, JSON body, minimum role): every API route
ROUTES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/search?q=acme", None, "viewer"),
    ("GET", "/api/brands", None, "viewer"),
    ("POST", "/api/brands", {"name": "Matrix", "query": "matrix"}, "analyst"),
    ("PATCH", "/api/brands/Acme", {"query": "acme OR acmeco"}, "analyst"),
    ("GET", "/api/posts/twitter:1", None, "viewer"),
    ("GET", "/api/me", None, "viewer"),
    ("POST", "/api/ingest?filename=x.jsonl", None, "analyst"),
    ("GET", "/api/reports", None, "viewer"),
    ("GET", "/api/reports/html", None, "viewer"),
    ("GET", "/api/alerts", None, "viewer"),
    ("GET", "/api/influencers", None, "viewer"),
    ("GET", "/api/communities", None, "viewer"),
    ("GET", "/api/threads/twitter:1", None, "viewer"),
    ("GET", "/api/inbox", None, "agent"),
    ("GET", "/api/inbox/1", None, "agent"),
    ("POST", "/api/inbox/1/assign", {"agent": "nobody"}, "agent"),
    ("POST", "/api/inbox/1/reply", {"text": "hello"}, "agent"),
    ("POST", "/api/inbox/1/resolve", None, "agent"),
    ("GET", "/api/inbox/rules", None, "agent"),
    ("PATCH", "/api/inbox/rules", {"spike_k": 3.5}, "admin"),
    ("POST", "/api/inbox/triage", {"again": False}, "analyst"),
    ("POST", "/api/inbox/1/note", {"text": "checking"}, "agent"),
    ("POST", "/api/inbox/1/dismiss", {"reason": "spam"}, "agent"),
    ("GET", "/api/saved-replies", None, "agent"),
    ("POST", "/api/saved-replies", {"name": "hi", "text": "Hi {author}!"}, "analyst"),
]

INGEST_BODY = orjson.dumps(
    {
        "network": "twitter",
        "native_id": "900",
        "text": "pushed acme post",
        "created_at": "2026-05-02T10:00:00+00:00",
        "author": {"network": "twitter", "handle": "pusher"},
    }
)


@pytest.fixture
def env(web: WebEnv) -> WebEnv:
    web.ws.add_brand("Acme", "acme")
    web.ws.add_brand("Globex", "globex", competitor=True)
    web.ws.store.upsert_posts(
        [
            make_post("1", "acme headphones broke again", when=datetime(2026, 5, 1, tzinfo=UTC)),
            make_post("2", "globex is fine", handle="bob", when=datetime(2026, 5, 2, tzinfo=UTC)),
            make_post("3", "acme support was great", when=datetime(2026, 5, 3, tzinfo=UTC)),
        ]
    )
    web.ws.edit_brand("Acme", query="acme")  # match the stored posts
    web.ws.edit_brand("Globex", query="globex")
    return web


def _call(env: WebEnv, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if path.startswith("/api/ingest"):
        return env.client.request(method, path, content=INGEST_BODY, headers=headers)
    return env.client.request(method, path, json=body, headers=headers)


def test_search_returns_the_matching_posts(env: WebEnv) -> None:
    r = env.client.get("/api/search", params={"q": "acme"}, headers=env.bearer("viewer"))
    assert r.status_code == 200
    doc = r.json()
    assert doc["count"] == 2
    assert sorted(p["id"] for p in doc["posts"]) == ["twitter:1", "twitter:3"]
    assert {p["text"] for p in doc["posts"]} == {
        "acme headphones broke again",
        "acme support was great",
    }
    r = env.client.get(
        "/api/search",
        params={"q": "acme AND NOT broke", "since": "2026-05-02"},
        headers=env.bearer("viewer"),
    )
    assert [p["id"] for p in r.json()["posts"]] == ["twitter:3"]
    r = env.client.get("/api/search", params={"brand": "Globex"}, headers=env.bearer("viewer"))
    assert [p["id"] for p in r.json()["posts"]] == ["twitter:2"]


def test_a_bad_query_is_400_with_the_message_and_column(env: WebEnv) -> None:
    r = env.client.get("/api/search", params={"q": "acme AND (broke"}, headers=env.bearer("viewer"))
    assert r.status_code == 400
    doc = r.json()
    assert doc["column"] > 0 and doc["query"] == "acme AND (broke"
    assert doc["detail"].startswith(f"col {doc['column']}:")
    r = env.client.get("/api/search", params={"since": "yesterday"}, headers=env.bearer("viewer"))
    assert r.status_code == 400 and "since" in r.json()["detail"]


def test_openapi_lists_search_and_declares_bearer_auth(web: WebEnv) -> None:
    r = web.client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert "/api/search" in doc["paths"]
    assert "get" in doc["paths"]["/api/search"]
    params = {p["name"] for p in doc["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "brand", "since", "until", "limit"} <= params
    assert any(s.get("scheme") == "bearer" for s in doc["components"]["securitySchemes"].values())
    # dashboard pages are not API routes
    assert "/login" not in doc["paths"]


def test_no_api_docs_page_that_would_load_scripts_from_a_cdn(web: WebEnv) -> None:
    # Swagger UI and ReDoc fetch their JavaScript from a CDN: both are off, the document stays
    for path in ("/api/docs", "/api/redoc", "/docs", "/redoc"):
        r = web.client.get(path, headers=web.bearer("admin"))
        assert r.status_code == 404, path
    r = web.client.get("/api/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_brands_create_and_edit(env: WebEnv) -> None:
    r = env.client.post(
        "/api/brands",
        json={"name": "Initech", "query": "initech", "competitor": True},
        headers=env.bearer("admin"),
    )
    assert r.status_code == 201 and r.json()["competitor"] is True
    dup = env.client.post(
        "/api/brands", json={"name": "Initech", "query": "x"}, headers=env.bearer("admin")
    )
    assert dup.status_code == 409
    bad = env.client.post(
        "/api/brands", json={"name": "Bad", "query": "a AND"}, headers=env.bearer("admin")
    )
    assert bad.status_code == 400 and bad.json()["column"] > 0
    r = env.client.patch(
        "/api/brands/Acme", json={"query": "support"}, headers=env.bearer("analyst")
    )
    assert r.status_code == 200 and r.json()["matched"] == 1
    brands = {
        b["name"]: b for b in env.client.get("/api/brands", headers=env.bearer("viewer")).json()
    }
    assert brands["Acme"]["posts"] == 1 and brands["Acme"]["query"] == "support"
    assert (
        env.client.patch(
            "/api/brands/Nope", json={"query": "x"}, headers=env.bearer("admin")
        ).status_code
        == 404
    )


def test_viewer_cannot_create_a_brand_but_admin_can(env: WebEnv) -> None:
    body = {"name": "Hooli", "query": "hooli"}
    r = env.client.post("/api/brands", json=body, headers=env.bearer("viewer"))
    assert r.status_code == 403
    assert "Hooli" not in {b.name for b in env.ws.store.list_brands()}
    r = env.client.post("/api/brands", json=body, headers=env.bearer("admin"))
    assert r.status_code == 201
    assert "Hooli" in {b.name for b in env.ws.store.list_brands()}


def test_get_post(env: WebEnv) -> None:
    r = env.client.get("/api/posts/twitter:2", headers=env.bearer("viewer"))
    assert r.status_code == 200 and r.json()["text"] == "globex is fine"
    assert env.client.get("/api/posts/twitter:99", headers=env.bearer("viewer")).status_code == 404


def test_ingest_stores_a_pushed_payload(env: WebEnv) -> None:
    r = env.client.post(
        "/api/ingest?filename=push.jsonl", content=INGEST_BODY, headers=env.bearer("analyst")
    )
    assert r.status_code == 200, r.text
    assert r.json()["new"] == 1
    post = env.ws.store.get_post("twitter:900")
    assert post is not None and post.text == "pushed acme post"
    empty = env.client.post("/api/ingest", content=b"", headers=env.bearer("analyst"))
    assert empty.status_code == 400


def test_ingest_refuses_a_body_over_the_limit(env: WebEnv) -> None:
    env.state.web = type(env.state.web)(max_ingest_bytes=10)
    r = env.client.post("/api/ingest", content=INGEST_BODY, headers=env.bearer("analyst"))
    assert r.status_code == 413


@pytest.mark.parametrize(("method", "path", "body", "minimum"), ROUTES)
def test_every_route_checks_the_role(
    env: WebEnv, method: str, path: str, body: Any, minimum: str
) -> None:
    assert _call(env, method, path, body, {}).status_code == 401
    wrong = {"Authorization": "Bearer sl_not-a-token"}
    assert _call(env, method, path, body, wrong).status_code == 401
    for role in ROLES:
        status = _call(env, method, path, body, env.bearer(role)).status_code
        if ROLES.index(role) < ROLES.index(minimum):
            assert status == 403, (role, path, status)
        else:
            assert status not in (401, 403, 500), (role, path, status)


def test_every_api_route_is_in_the_matrix(web: WebEnv) -> None:
    doc = web.client.get("/api/openapi.json").json()
    declared = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    tested = set()
    for method, path, _body, _min in ROUTES:
        bare = path.split("?")[0]
        for template in doc["paths"]:
            prefix = template.split("{")[0]
            if bare == template or (
                "{" in template
                and bare.startswith(prefix)
                and bare.count("/") == template.count("/")
            ):
                tested.add((method, template))
    assert declared <= tested, declared - tested


def test_inbox_api_works_an_item(web: WebEnv) -> None:
    item_id = seed_inbox(web.ws)
    agent = web.bearer("agent")
    listed = web.client.get("/api/inbox", headers=agent).json()
    assert [i["id"] for i in listed] == [item_id]
    assert listed[0]["post_id"] == "twitter:q" and listed[0]["status"] == "new"
    r = web.client.post(f"/api/inbox/{item_id}/assign", json={"agent": "agent"}, headers=agent)
    assert r.status_code == 200 and r.json()["assignee"] == "agent"
    r = web.client.post(
        f"/api/inbox/{item_id}/reply", json={"text": "Hold it 5 s.", "send": True}, headers=agent
    )
    assert r.status_code == 200, r.text
    assert r.json()["manual"] is True and r.json()["reply"]["text"] == "Hold it 5 s."
    r = web.client.post(f"/api/inbox/{item_id}/resolve", headers=agent)
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    detail = web.client.get(f"/api/inbox/{item_id}", headers=agent).json()
    assert detail["status"] == "resolved"
    assert [x["text"] for x in detail["replies"]] == ["Hold it 5 s."]
    # a step the item's state does not allow is a conflict, not a server error
    again = web.client.post(f"/api/inbox/{item_id}/assign", json={}, headers=agent)
    assert again.status_code == 409
    thread = web.client.get("/api/threads/twitter:q", headers=web.bearer("viewer")).json()
    assert thread["root_id"] == "twitter:q" and thread["size"] == 2


def test_inbox_rules_are_editable_through_the_api_and_apply_at_once(env: WebEnv) -> None:
    agent, admin = env.bearer("agent"), env.bearer("admin")
    rules = env.client.get("/api/inbox/rules", headers=agent).json()
    assert rules["spike_k"] == 3.0
    r = env.client.patch("/api/inbox/rules", json={"spike_k": 4.5}, headers=admin)
    assert r.status_code == 200 and r.json()["spike_k"] == 4.5
    assert "spike_k = 4.5" in (env.ws.settings.root / "socialloop.toml").read_text()
    assert env.client.get("/api/inbox/rules", headers=agent).json()["spike_k"] == 4.5
    bad = env.client.patch("/api/inbox/rules", json={"spike_k": "lots"}, headers=admin)
    assert bad.status_code in (400, 422) and "spike_k" in bad.text
    r = env.client.post("/api/saved-replies", json={"name": "hi", "text": "Hi {author}!"},
                        headers=env.bearer("analyst"))  # fmt: skip
    assert r.status_code == 201
    names = [s["name"] for s in env.client.get("/api/saved-replies", headers=agent).json()]
    assert names == ["hi"]
