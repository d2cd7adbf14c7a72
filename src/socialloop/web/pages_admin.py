"""Dashboard settings (admins only): brands and their queries, saved replies, users and API
tokens. Every form posts back with the session's CSRF token and redirects (post/redirect/get);
a new token is shown once, on the page that created it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialloop.errors import SocialloopError
from socialloop.web.auth import Admin, Principal
from socialloop.web.render import page
from socialloop.web.rollups import refresh_brand
from socialloop.web.state import AppState, State
from socialloop.web.users import ROLES

router = APIRouter(include_in_schema=False)


def _context(state: AppState) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "brands": [{**b.to_dict(), "posts": n} for b, n in state.workspace.brands_with_counts()],
        "users": state.users.all(),
        "tokens": state.users.tokens(),
        "roles": ROLES,
        "saved": [],
    }
    try:
        from socialloop.engage.inbox import Inbox
        from socialloop.engage.replies import Replies
    except ImportError:
        return ctx
    ctx["saved"] = Replies(Inbox(state.workspace)).saved()
    return ctx


def _render(
    request: Request, state: AppState, who: Principal, extra: dict[str, Any], status: int = 200
) -> HTMLResponse:
    return page(
        request, state, who, "settings.html", {**_context(state), **extra}, status_code=status
    )


def _back(message: str) -> Response:
    return RedirectResponse(f"/settings?flash={quote(message)}", status_code=303)


@router.get("/settings")
def settings_page(
    request: Request,
    who: Admin,
    state: State,
) -> HTMLResponse:
    return _render(request, state, who, {})


@router.post("/settings/brands")
def add_brand(
    request: Request,
    who: Admin,
    state: State,
    name: str = Form(...),
    query: str = Form(...),
    competitor: str = Form(""),
) -> Response:
    try:
        with state.write_lock:
            brand, matched = state.workspace.add_brand(name, query, competitor=bool(competitor))
            refresh_brand(state.workspace, brand)
    except SocialloopError as exc:
        return _render(request, state, who, {"error": str(exc)}, 400)
    return _back(f"Added {brand.name}: {matched:,} stored posts match.")


@router.post("/settings/brands/edit")
def edit_brand(
    request: Request,
    who: Admin,
    state: State,
    name: str = Form(...),
    query: str = Form(...),
) -> Response:
    try:
        with state.write_lock:
            brand, matched = state.workspace.edit_brand(name, query=query)
            refresh_brand(state.workspace, brand)
    except SocialloopError as exc:
        return _render(request, state, who, {"error": str(exc)}, 400)
    return _back(f"Saved {brand.name}: {matched or 0:,} stored posts match.")


@router.post("/settings/saved-replies")
def save_reply(
    request: Request,
    who: Admin,
    state: State,
    name: str = Form(...),
    text: str = Form(...),
    lang: str = Form("en"),
) -> Response:
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.replies import Replies

    try:
        Replies(Inbox(state.workspace)).save(name, text, lang=lang, actor=who.name, replace=True)
    except SocialloopError as exc:
        return _render(request, state, who, {"error": str(exc)}, 400)
    return _back(f"Saved reply {name}.")


@router.post("/settings/users")
def add_user(
    request: Request,
    who: Admin,
    state: State,
    name: str = Form(...),
    role: str = Form(...),
    password: str = Form(...),
) -> Response:
    try:
        user = state.users.add(name, role, password)
    except SocialloopError as exc:
        return _render(request, state, who, {"error": str(exc)}, 400)
    return _back(f"Added {user.name} ({user.role}).")


@router.post("/settings/users/remove")
def remove_user(
    request: Request,
    who: Admin,
    state: State,
    name: str = Form(...),
) -> Response:
    if name == who.name:
        return _render(request, state, who, {"error": "You cannot remove yourself."}, 400)
    try:
        state.users.remove(name)
    except SocialloopError as exc:
        return _render(request, state, who, {"error": str(exc)}, 400)
    return _back(f"Removed {name}.")


@router.post("/settings/tokens")
def create_token(
    request: Request,
    who: Admin,
    state: State,
    user: str = Form(...),
    label: str = Form(""),
) -> Response:
    try:
        token, record = state.users.create_token(user, label or None)
    except SocialloopError as exc:
        return _render(request, state, who, {"error": str(exc)}, 400)
    # shown once, in this answer only (not in a redirect URL, which would land in logs)
    return _render(request, state, who, {"new_token": token, "new_token_user": record.user})


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int,
    who: Admin,
    state: State,
) -> Response:
    state.users.revoke_token(token_id)
    return _back(f"Token {token_id} revoked.")
