"""Rendering dashboard pages: the template context every page shares (the user, the CSRF
token, a role check), Jinja2 filters, and charts as inline SVG.

Templates autoescape everything; the only markup inserted unescaped is SVG built by
``adapt.svg`` (or the fallback here), which escapes every text it draws itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

if TYPE_CHECKING:
    from socialloop.web.auth import Principal
    from socialloop.web.state import AppState


def describe(value: Any) -> str:
    """A stored JSON value (community descriptions) as one short line of plain text."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {describe(v)}" for k, v in list(value.items())[:8])
    if isinstance(value, list | tuple):
        return ", ".join(describe(v) for v in value[:8])
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def install_filters(state: AppState) -> None:
    state.templates.env.filters["describe"] = describe


def page(
    request: Request,
    state: AppState,
    who: Principal | None,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "user": who.user if who else None,
        "csrf_token": who.csrf_token if who else "",
        "can": (lambda role: who is not None and who.can(role)),
        "flash": request.query_params.get("flash"),
        **(context or {}),
    }
    response: HTMLResponse = state.templates.TemplateResponse(
        request, name, ctx, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def line_chart(series: Mapping[str, Sequence[float]], labels: Sequence[str], title: str) -> Markup:
    """A line chart as inline SVG: ``adapt.svg`` when installed, else a minimal one here."""
    try:
        from socialloop.adapt.svg import line_chart as adapt_line
    except ImportError:
        return Markup(_fallback_line(series, labels, title))
    return Markup(adapt_line(series, labels, title=title))


def bar_chart(items: Sequence[tuple[str, float]], title: str, *, percent: bool = False) -> Markup:
    try:
        from socialloop.adapt.svg import bar_chart as adapt_bar
    except ImportError:
        return Markup(_fallback_line({"": [v for _l, v in items]}, [lb for lb, _v in items], title))
    return Markup(adapt_bar(items, title=title, percent=percent))


def _fallback_line(series: Mapping[str, Sequence[float]], labels: Sequence[str], title: str) -> str:
    width, height, pad = 480, 140, 20
    top = max((max(v) for v in series.values() if v), default=0.0) or 1.0
    n = max(len(labels), 2)
    parts = [f'<svg role="img" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>']
    for values in series.values():
        points = " ".join(
            f"{pad + i * (width - 2 * pad) / (n - 1):.1f},"
            f"{height - pad - v / top * (height - 2 * pad):.1f}"
            for i, v in enumerate(values)
        )
        parts.append(f'<polyline fill="none" stroke="#2563eb" points="{points}"/>')
    parts.append("</svg>")
    return "".join(parts)
