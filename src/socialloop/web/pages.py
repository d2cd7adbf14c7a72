"""Dashboard pages: sign in and out, the overview per brand (volume and sentiment), the stream
and search with the query language, and a post's thread. Viewers and up see them all."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialloop.errors import NotFound, QueryError
from socialloop.web.api import parse_span
from socialloop.web.auth import SESSION_COOKIE, Viewer
from socialloop.web.overview import brand_cards
from socialloop.web.render import page
from socialloop.web.state import AppState, State

router = APIRouter(include_in_schema=False)

SEARCH_LIMIT = 100
LOGIN_COOKIE = "socialloop_login"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request, state: State, target: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    """The sign-in form with a fresh pre-session token, sent both as a cookie and as a hidden
    field (double submit): a form posted from another site cannot know it (login CSRF)."""
    token = secrets.token_urlsafe(32)
    ctx = {"next": safe_next(target), "login_token": token, "error": error}
    response = page(request, state, None, "login.html", ctx, status_code=status)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=state.web.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login")
def login_form(
    request: Request,
    state: State,
    next: str = "/",
) -> HTMLResponse:
    return _login_page(request, state, next)


@router.post("/login")
def login(
    request: Request,
    state: State,
    name: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    login_token: str = Form(""),
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(login_token, expected):
        error = "The sign-in form expired or came from another site; please sign in again."
        return _login_page(request, state, next, error, 403)
    address = request.client.host if request.client else "unknown"
    throttle = state.login_throttle
    wait = throttle.retry_after(name, address)
    if wait:
        error = f"Too many failed sign-ins; try again in {max(1, round(wait / 60))} min."
        refused = _login_page(request, state, next, error, 429)
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = state.users.authenticate(name, password)
    if user is None:
        throttle.failed(name, address)
        return _login_page(request, state, next, "Unknown name or wrong password.", 401)
    throttle.succeeded(name)
    token, _session = state.users.start_session(user, state.web.session_lifetime)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(state.web.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=state.web.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    _who: Viewer,
    state: State,
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        state.users.end_session(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/")
def overview(
    request: Request,
    who: Viewer,
    state: State,
) -> HTMLResponse:
    cards = brand_cards(state.workspace)  # from the daily rollups: no scan of posts
    return page(request, state, who, "overview.html", {"brands": cards})


@router.get("/search")
def search_page(
    request: Request,
    who: Viewer,
    state: State,
    q: str = "",
    brand: str = "",
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "q": q,
        "brand": brand,
        "since": since,
        "until": until,
        "limit": SEARCH_LIMIT,
        "brands": state.workspace.store.list_brands(),
        "posts": [],
        "query_error": None,
    }
    status = 200
    try:
        start, stop = parse_span(since, until)
        ctx["posts"] = state.workspace.search(
            q or None,
            brand=brand or None,
            since=start,
            until=stop,
            limit=SEARCH_LIMIT,
        )
    except QueryError as exc:
        ctx["query_error"] = {"message": str(exc), "column": exc.column}
        status = 400
    except NotFound as exc:
        ctx["error"] = str(exc)
        status = 404
    except HTTPException as exc:
        ctx["error"] = str(exc.detail)
        status = exc.status_code
    return page(request, state, who, "search.html", ctx, status_code=status)


def thread_nodes(state: AppState, post_id: str) -> list[Any]:
    """The nodes of the post's thread, depth first (empty when threads are unavailable)."""
    try:
        from socialloop.conversations.threads import load_thread
    except ImportError:
        return []
    return load_thread(state.workspace.store, post_id).nodes()


@router.get("/posts/{post_id:path}")
def post_page(
    request: Request,
    post_id: str,
    who: Viewer,
    state: State,
) -> HTMLResponse:
    nodes = thread_nodes(state, post_id)
    return page(
        request,
        state,
        who,
        "thread.html",
        {"nodes": nodes, "focus": post_id, "message": "Threads are not available."},
    )
