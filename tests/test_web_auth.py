"""Web authentication: Argon2id passwords, login sessions (cookie flags, expiry, logout), CSRF
on state-changing requests made with the session, bearer tokens (revoked: rejected), and the
401 / 403 distinction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from socialloop.store.schema import api_tokens, users, web_sessions
from socialloop.web.auth import SESSION_COOKIE
from socialloop.web.users import token_hash
from tests._web import PASSWORD, WebEnv, csrf_of, login_fields, web_env


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    yield from web_env(tmp_path)


def test_passwords_are_stored_as_argon2id_hashes(web: WebEnv) -> None:
    with web.ws.store.begin() as conn:
        hashes = [h for (h,) in conn.execute(select(users.c.password_hash))]
    assert len(hashes) == 4
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)
    assert web.state.users.authenticate("admin", PASSWORD) is not None
    assert web.state.users.authenticate("admin", PASSWORD + "x") is None
    assert web.state.users.authenticate("nobody", PASSWORD) is None


def test_login_sets_an_httponly_samesite_session_cookie(web: WebEnv) -> None:
    r = web.client.post(
        "/login",
        data={**login_fields(web.client, "viewer"), "next": "/search"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/search"
    (cookie,) = [c for c in r.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")]
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert any(f.startswith("max-age=") for f in flags)
    # the server keeps only the token's sha256
    token = r.cookies[SESSION_COOKIE]
    with web.ws.store.begin() as conn:
        stored = conn.execute(select(web_sessions.c.token_hash)).scalars().all()
    assert stored == [token_hash(token)]


def test_wrong_password_does_not_sign_in(web: WebEnv) -> None:
    r = web.client.post("/login", data=login_fields(web.client, "admin", "wrong-password"))
    assert r.status_code == 401
    assert "Unknown name or wrong password" in r.text
    assert SESSION_COOKIE not in r.cookies


def test_login_needs_the_form_token_against_login_csrf(web: WebEnv) -> None:
    # a form posted from another site has neither the cookie nor the matching field
    r = web.client.post("/login", data={"name": "viewer", "password": PASSWORD})
    assert r.status_code == 403
    assert SESSION_COOKIE not in r.cookies
    fields = login_fields(web.client, "viewer")
    r = web.client.post("/login", data={**fields, "login_token": "guessed"}, follow_redirects=False)
    assert r.status_code == 403
    fields = login_fields(web.client, "viewer")  # each form carries a fresh token
    r = web.client.post("/login", data=fields, follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in r.cookies


def test_login_never_redirects_off_site(web: WebEnv) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = web.client.post(
            "/login",
            data={**login_fields(web.client, "viewer"), "next": target},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/"


def test_post_without_csrf_token_is_rejected_and_with_it_accepted(web: WebEnv) -> None:
    client = web.login("admin")
    form = {"name": "Acme", "query": "acme"}
    r = client.post("/settings/brands", data=form, follow_redirects=False)
    assert r.status_code == 403
    assert "CSRF" in r.text
    assert web.ws.store.list_brands() == []
    r = client.post(
        "/settings/brands", data={**form, "csrf_token": "forged"}, follow_redirects=False
    )
    assert r.status_code == 403
    token = csrf_of(client, "/settings")
    r = client.post("/settings/brands", data={**form, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert [b.name for b in web.ws.store.list_brands()] == ["Acme"]


def test_session_json_requests_need_the_csrf_header(web: WebEnv) -> None:
    client = web.login("analyst")
    body = {"name": "Acme", "query": "acme"}
    assert client.post("/api/brands", json=body).status_code == 403
    token = csrf_of(client)
    r = client.post("/api/brands", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201
    # reading needs no token
    assert client.get("/api/brands").status_code == 200


def test_bearer_requests_need_no_csrf_token(web: WebEnv) -> None:
    r = web.client.post(
        "/api/brands", json={"name": "Acme", "query": "acme"}, headers=web.bearer("analyst")
    )
    assert r.status_code == 201


def test_logout_ends_the_session_server_side(web: WebEnv) -> None:
    client = web.login("viewer")
    cookie = client.cookies[SESSION_COOKIE]
    token = csrf_of(client)
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    # replaying the old cookie no longer works
    web.client.cookies.set(SESSION_COOKIE, cookie)
    assert web.client.get("/api/me").status_code == 401


def test_an_expired_session_is_refused(web: WebEnv) -> None:
    client = web.login("viewer")
    assert client.get("/api/me").json()["name"] == "viewer"
    with web.ws.store.begin() as conn:
        conn.execute(update(web_sessions).values(expires_at=datetime(2020, 1, 1)))
    assert client.get("/api/me").status_code == 401
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_no_credentials_is_401_and_pages_redirect_to_login(web: WebEnv) -> None:
    r = web.client.get("/api/search?q=acme")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    r = web.client.get("/search?q=acme", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fsearch%3Fq%3Dacme"


def test_unknown_and_revoked_tokens_are_401(web: WebEnv) -> None:
    assert web.client.get("/api/me", headers={"Authorization": "Bearer sl_nope"}).status_code == 401
    assert web.client.get("/api/me", headers=web.bearer("viewer")).status_code == 200
    (record,) = web.state.users.tokens("viewer")
    web.state.users.revoke_token(record.id)
    r = web.client.get("/api/me", headers=web.bearer("viewer"))
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]


def test_tokens_are_stored_hashed_and_record_their_use(web: WebEnv) -> None:
    raw = web.tokens["agent"]
    with web.ws.store.begin() as conn:
        row = conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash(raw))
        ).one()
    assert row.last_used_at is None and raw not in row.token_hash
    assert web.client.get("/api/me", headers=web.bearer("agent")).json() == {
        "name": "agent",
        "role": "agent",
        "via": "token",
    }
    (record,) = web.state.users.tokens("agent")
    assert record.last_used_at is not None


def test_removing_a_user_ends_their_sessions_and_tokens(web: WebEnv) -> None:
    client = web.login("agent")
    web.state.users.remove("agent")
    assert client.get("/api/me").status_code == 401
    assert web.client.get("/api/me", headers=web.bearer("agent")).status_code == 401


def test_security_headers_forbid_scripts_on_pages(web: WebEnv) -> None:
    r = web.login("viewer").get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_migration_0010_creates_the_tables_schema_py_describes(web: WebEnv) -> None:
    from sqlalchemy import inspect

    from socialloop.store.schema import metadata

    found = inspect(web.ws.store.engine)
    for name in ("users", "web_sessions", "api_tokens"):
        migrated = {c["name"] for c in found.get_columns(name)}
        declared = {c.name for c in metadata.tables[name].columns}
        assert migrated == declared, name
    assert {i["name"] for i in found.get_indexes("api_tokens")} >= {"ix_api_tokens_user"}


def test_repeated_failed_sign_ins_are_throttled(web: WebEnv) -> None:
    client = TestClient(web.client.app, base_url="http://testserver")
    for _ in range(5):
        r = client.post("/login", data=login_fields(client, "admin", "wrong-password"))
        assert r.status_code == 401
    # the sixth try is refused even with the right password, and says when to come back
    r = client.post("/login", data=login_fields(client, "admin"), follow_redirects=False)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 60
    assert "Too many failed sign-ins" in r.text
    assert "socialloop_session" not in r.cookies
    # another account from the same address is not locked out by these five
    assert web.login("agent") is not None


def test_throttle_window_slides_and_success_clears_the_name() -> None:
    from socialloop.web.throttle import LoginThrottle

    now = [0.0]
    t = LoginThrottle(window=60, max_per_name=2, max_per_address=3, clock=lambda: now[0])
    t.failed("Ann", "10.0.0.1")
    t.failed("ann", "10.0.0.1")
    assert t.retry_after("ANN", "10.0.0.2") == 61  # by name, whatever the address
    now[0] = 61.0
    assert t.retry_after("ann", "10.0.0.1") == 0  # the window slid past both failures
    t.failed("bob", "10.0.0.9")
    t.succeeded("bob")
    t.failed("bob", "10.0.0.9")
    assert t.retry_after("bob", "10.0.0.9") == 0
    t.failed("cy", "10.0.0.9")
    assert t.retry_after("dan", "10.0.0.9") > 0  # 3 failures from one address, any names
