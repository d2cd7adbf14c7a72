"""What one web app owns: its Workspace, the users store, the templates and the web settings.

One Workspace per app: SQLAlchemy's pool hands each request thread its own SQLite connection
(WAL, busy timeout), so reads run side by side; ``write_lock`` serialises the writes that
change workspace-wide state (brands, pushed imports) so they never contend for SQLite's lock.
Nothing here is module level: ``create_app`` builds one ``AppState`` and keeps it on
``app.state``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from socialloop.errors import ConfigError
from socialloop.web.throttle import LoginThrottle
from socialloop.web.users import Users
from socialloop.workspace import Workspace

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """``[web]`` in socialloop.toml: session lifetime, whether cookies are HTTPS-only, and the
    largest body ``POST /api/ingest`` accepts."""

    session_hours: float = 12.0
    secure_cookies: bool = False
    max_ingest_bytes: int = 64 * 1024 * 1024

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_hours)

    @classmethod
    def from_section(cls, table: dict[str, Any]) -> WebSettings:
        default = cls()
        hours = table.get("session_hours", default.session_hours)
        secure = table.get("secure_cookies", default.secure_cookies)
        size = table.get("max_ingest_bytes", default.max_ingest_bytes)
        if not isinstance(hours, int | float) or isinstance(hours, bool) or hours <= 0:
            raise ConfigError("[web] session_hours must be a positive number")
        if not isinstance(secure, bool):
            raise ConfigError("[web] secure_cookies must be true or false")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ConfigError("[web] max_ingest_bytes must be a positive integer")
        return cls(
            session_hours=float(hours),
            secure_cookies=secure,
            max_ingest_bytes=size,
        )


@dataclass(slots=True)
class AppState:
    workspace: Workspace
    users: Users
    templates: Jinja2Templates
    web: WebSettings
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @classmethod
    def open(cls, root: Path, environ: dict[str, str] | None = None) -> AppState:
        ws = Workspace.open(root, environ)
        try:
            web = WebSettings.from_section(ws.settings.section("web"))
        except ConfigError:
            ws.close()
            raise
        templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
        templates.env.autoescape = True  # post text and author names are hostile input
        return cls(
            workspace=ws,
            users=Users(ws.store),
            templates=templates,
            web=web,
        )

    def close(self) -> None:
        self.workspace.close()


def app_state(request: Request) -> AppState:
    """The app's state (a FastAPI dependency)."""
    state: AppState = request.app.state.socialloop
    return state


State = Annotated[AppState, Depends(app_state)]
"""A route parameter receiving the app's state."""
