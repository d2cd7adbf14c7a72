"""Who is asking, and may they: the FastAPI dependencies every route declares.

A request is signed in either by the dashboard's session cookie (HttpOnly, SameSite=Lax,
server-side session) or by an API token (``Authorization: Bearer TOKEN``). ``require(role)``
gives a dependency that answers 401 without valid credentials and 403 when the user's role is
below the route's minimum (or outside its explicit set). Requests that change state
(POST, PUT, PATCH, DELETE) made with the session cookie must carry the session's CSRF token, in
the ``X-CSRF-Token`` header or a ``csrf_token`` form field; bearer requests need none (a browser
never adds that header by itself).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from socialloop.web.state import AppState, app_state
from socialloop.web.users import ROLES, User, role_rank

SESSION_COOKIE = "socialloop_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_bearer = HTTPBearer(auto_error=False, description="An API token from `socialloop token create`.")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The dashboard's login session."
)


class AuthRequired(Exception):
    """No valid credentials (answered 401, or a redirect to the login page for pages)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(Exception):
    """Signed in, but not allowed (answered 403): a role too weak or a bad CSRF token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user of a request and how they signed in (``session`` | ``token``)."""

    user: User
    via: str
    csrf_token: str | None = None

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, role: str) -> bool:
        return role_rank(self.user.role) >= role_rank(role)


async def _form_csrf(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette for the route's own Form fields
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
    state: Annotated[AppState, Depends(app_state)],
) -> Principal:
    """The request's signed-in user; raises AuthRequired / Forbidden (CSRF)."""
    if bearer is not None:
        user = await run_in_threadpool(state.users.token_user, bearer.credentials)
        if user is None:
            raise AuthRequired("the API token is unknown or revoked")
        return Principal(user=user, via="token")
    if not cookie:
        raise AuthRequired("sign in, or send Authorization: Bearer TOKEN")
    session = await run_in_threadpool(state.users.session, cookie)
    if session is None:
        raise AuthRequired("the session has expired; sign in again")
    if request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
        if not sent or not hmac.compare_digest(sent, session.csrf_token):
            raise Forbidden("missing or wrong CSRF token; reload the page and try again")
    return Principal(user=session.user, via="session", csrf_token=session.csrf_token)


def require(
    minimum: str | None = None, *, roles: Iterable[str] | None = None
) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting users whose role is at least ``minimum`` or, with ``roles``,
    exactly one of them."""
    allowed = frozenset(roles) if roles is not None else None
    floor = role_rank(minimum) if minimum is not None else 0
    for r in allowed or ():
        role_rank(r)

    async def dependency(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if allowed is not None:
            if who.role not in allowed:
                raise Forbidden(f"this needs the role {' or '.join(sorted(allowed))}")
        elif role_rank(who.role) < floor:
            need = ", ".join(ROLES[floor:])
            raise Forbidden(f"this needs the role {need} (you are {who.role})")
        return who

    return dependency


viewer = require("viewer")
agent = require("agent")
analyst = require("analyst")
admin = require("admin")

Viewer = Annotated[Principal, Depends(viewer)]
Agent = Annotated[Principal, Depends(agent)]
Analyst = Annotated[Principal, Depends(analyst)]
Admin = Annotated[Principal, Depends(admin)]
