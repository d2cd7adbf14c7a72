"""Helpers for the web tests: an app on a real SQLite workspace, users of every role with a
cheap (but still Argon2id) hasher setting, signing in through the login form, and the CSRF
token read back from a page the way a browser's form would carry it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from socialloop.web.app import create_app
from socialloop.web.state import AppState
from socialloop.web.users import ROLES, Users
from socialloop.workspace import Workspace

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_RE = re.compile(r'name="login_token" value="([^"]+)"')


def login_fields(client: TestClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    """The sign-in form's fields as a browser posts them, after loading the form (which sets
    the pre-session cookie its hidden ``login_token`` must match)."""
    form = client.get("/login")
    found = LOGIN_RE.search(form.text)
    assert found, "the login form carries no login token"
    return {"name": name, "password": password, "login_token": found.group(1)}


@dataclass
class WebEnv:
    root: Path
    ws: Workspace
    client: TestClient
    state: AppState
    tokens: dict[str, str]

    def login(self, name: str, password: str = PASSWORD) -> TestClient:
        """A fresh client signed in as ``name`` through the login form."""
        client = TestClient(self.client.app, base_url="http://testserver")
        fields = login_fields(client, name, password)
        r = client.post("/login", data=fields, follow_redirects=False)
        assert r.status_code == 303, r.text
        return client

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def csrf_of(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_RE.search(page.text)
    assert found, "the page carries no CSRF field"
    return found.group(1)


def web_env(
    tmp_path: Path, *, database_url: str | None = None, config: str = ""
) -> Iterator[WebEnv]:
    """The body of each web test module's ``web`` fixture: the app, one user and one API
    token per role (named after the role, password ``PASSWORD``); ``database_url`` puts the
    workspace on another store, ``config`` is appended to its ``socialloop.toml``."""
    root = tmp_path / "ws"
    ws = Workspace.init(root, database_url=database_url)
    if config:
        toml = root / "socialloop.toml"
        toml.write_text(toml.read_text() + config)
    app = create_app(root)
    state: AppState = app.state.socialloop
    # a low-cost Argon2id setting keeps the suite fast; the hash is still $argon2id$
    state.users = Users(ws.store, hasher=PasswordHasher(time_cost=1, memory_cost=8192))
    tokens = {}
    for role in ROLES:
        state.users.add(role, role, PASSWORD)
        tokens[role], _ = state.users.create_token(role, "test")
    client = TestClient(app)
    try:
        yield WebEnv(root, ws, client, state, tokens)
    finally:
        client.close()
        state.close()
        ws.close()


def seed_inbox(ws: Workspace, text: str = "acme how do I pair the headphones?") -> int:
    """Brand Acme, a customer's question (open inbox item) with one reply below it in the
    thread, and an inbox agent named ``agent`` (the web user of that name); the item's id."""
    from datetime import UTC, datetime

    from socialloop.engage.agents import add_agent
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.triage import triage_posts
    from tests._engage import store_posts
    from tests.conftest import make_post

    ws.add_brand("Acme", "acme", accounts=["acmehelp"])
    question = make_post("q", text, handle="carol")
    store_posts(ws, [(question, {"intent": ["question"], "lang": "en"})])
    below = make_post("r", "@carol same question here", handle="dave", parent_id="twitter:q")
    ws.store.upsert_posts([below])
    ws.store.derive_threads()
    triage_posts(ws, None)
    add_agent(
        ws.store, "agent", languages=["en"], actor="test", now=datetime(2026, 5, 1, tzinfo=UTC)
    )
    (item,) = Inbox(ws).list_items()
    return item.id
