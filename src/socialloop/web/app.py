"""The web app factory: ``create_app(workspace_root)`` builds the FastAPI app that serves the
REST API under /api (the OpenAPI document at /api/openapi.json; no Swagger UI or ReDoc page:
both load their scripts from a CDN, and nothing here may load from the network) and the
dashboard.

Library errors become HTTP answers here (400 bad input, 404 unknown, 409 conflict); a request
without credentials gets 401 on the API and a redirect to the login page on the dashboard; a
role too weak or a bad CSRF token gets 403. Every answer carries headers that keep a browser
from running anything a post could smuggle in (a strict Content-Security-Policy, nosniff).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialloop import __version__
from socialloop.errors import (
    AlreadyExists,
    ConnectorError,
    GraphNotBuilt,
    ImportFormatError,
    InboxError,
    InvalidValue,
    ItemNotFound,
    NotFound,
    PublishError,
    QueryError,
    SocialloopError,
)
from socialloop.web.auth import AuthRequired, Forbidden
from socialloop.web.state import STATIC_DIR, AppState

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def status_of(exc: SocialloopError) -> int:
    """The HTTP status a library error becomes (500: a fault of the server, not the user)."""
    if isinstance(exc, NotFound | ItemNotFound):
        return 404
    if isinstance(exc, AlreadyExists | InboxError | GraphNotBuilt):
        return 409
    if isinstance(exc, PublishError | ConnectorError):
        return 502
    if isinstance(exc, QueryError | InvalidValue | ImportFormatError):
        return 400
    return 500


def _error_page(request: Request, status: int, message: str) -> Response:
    state: AppState = request.app.state.socialloop
    return state.templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "user": None},
        status_code=status,
    )


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's list of validation errors as one line a person can read."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(x) for x in error.get("loc", ())[1:]) or "the request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _install_handlers(app: FastAPI) -> None:
    # the API keeps FastAPI's JSON answers; a dashboard page gets the error page instead
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        message = "no such page" if exc.detail == "Not Found" else str(exc.detail)
        response = _error_page(request, exc.status_code, message)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return await request_validation_exception_handler(request, exc)
        return _error_page(request, 400, _validation_message(exc))

    @app.exception_handler(AuthRequired)
    async def _auth_required(request: Request, exc: AuthRequired) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.reason}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.reason}, status_code=403)
        return _error_page(request, 403, exc.reason)

    @app.exception_handler(SocialloopError)
    async def _library_error(request: Request, exc: SocialloopError) -> Response:
        status = status_of(exc)
        message = str(exc) if status != 500 else "internal error; see the server log"
        if _wants_json(request):
            body: dict[str, object] = {"detail": message}
            if isinstance(exc, QueryError):
                body.update(query=exc.query, column=exc.column, expected=exc.expected)
            return JSONResponse(body, status_code=status)
        return _error_page(request, status, message)


def create_app(workspace_root: Path, *, environ: dict[str, str] | None = None) -> FastAPI:
    """The app for the workspace at ``workspace_root`` (``environ``: the SOCIALLOOP_*
    variables to use instead of the process environment)."""
    state = AppState.open(workspace_root, environ)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="socialloop",
        version=__version__,
        description="Listen, learn, engage, adapt: the socialloop REST API. Authenticate with "
        "`Authorization: Bearer TOKEN` (see `socialloop token create`).",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc fetch their scripts from a CDN: not offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.socialloop = state

    @app.middleware("http")
    async def _security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    _install_handlers(app)
    from socialloop.web import api, api_inbox, pages, pages_admin, pages_inbox, pages_insights
    from socialloop.web.render import install_filters

    install_filters(state)
    for module in (api_inbox, api, pages, pages_inbox, pages_insights, pages_admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> HTMLResponse:
        return HTMLResponse("ok")

    return app
