"""The web face of socialloop: the FastAPI app (REST API under /api, dashboard pages), users,
roles, login sessions with CSRF protection and API tokens. Start it with ``socialloop serve``;
build it in code with ``create_app(workspace_root)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(workspace_root: Any, *, environ: dict[str, str] | None = None) -> FastAPI:
    """See :func:`socialloop.web.app.create_app` (imported lazily: FastAPI is heavy)."""
    from socialloop.web.app import create_app as factory

    return factory(workspace_root, environ=environ)


__all__ = ["create_app"]
