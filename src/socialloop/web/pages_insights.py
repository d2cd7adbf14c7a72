"""Dashboard pages over the analysis libraries (viewers and up): influencers, communities,
topics, reports and alerts. Each library is imported inside its route, so a page whose library
is missing says so instead of breaking the app."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialloop.web.api import check_scope, parse_span
from socialloop.web.auth import Viewer
from socialloop.web.render import bar_chart, page
from socialloop.web.state import State

router = APIRouter(include_in_schema=False)

UNAVAILABLE = "This part of socialloop is not available in this installation."


@router.get("/influencers")
def influencers_page(
    request: Request,
    who: Viewer,
    state: State,
    scope: str = "all",
) -> HTMLResponse:
    ctx: dict[str, Any] = {"authors": [], "scopes": ["all"], "scope": scope, "message": None}
    # the scope menu names brands ("brand: Acme") instead of showing their ids
    ctx["labels"] = {
        f"brand:{b.id}": f"brand: {b.name}" for b in state.workspace.store.list_brands()
    }
    try:
        from socialloop.graph.influence import scored_scopes, top_authors
    except ImportError:
        ctx["message"] = UNAVAILABLE
    else:
        store = state.workspace.store
        scored = scored_scopes(store)
        ctx["scopes"] = scored or ["all"]
        check_scope(scope, scored)
        ctx["authors"] = top_authors(store, scope, 50)
    return page(request, state, who, "influencers.html", ctx)


@router.get("/communities")
def communities_page(
    request: Request,
    who: Viewer,
    state: State,
) -> HTMLResponse:
    ctx: dict[str, Any] = {"communities": [], "message": None}
    try:
        from socialloop.graph.communities import load_communities
    except ImportError:
        ctx["message"] = UNAVAILABLE
    else:
        ctx["communities"] = load_communities(state.workspace.store, 50)
    return page(request, state, who, "communities.html", ctx)


@router.get("/topics")
def topics_page(
    request: Request,
    who: Viewer,
    state: State,
    brand: str = "",
) -> HTMLResponse:
    ws = state.workspace
    ctx: dict[str, Any] = {
        "topics": [],
        "brand": brand,
        "brands": [b.name for b in ws.store.list_brands()],
        "chart": None,
        "message": None,
    }
    try:
        from socialloop.adapt.metrics import topic_stats
        from socialloop.adapt.scope import resolve_scope
    except ImportError:
        ctx["message"] = UNAVAILABLE
    else:
        stats = topic_stats(ws, resolve_scope(ws, brand or None))
        ctx["topics"] = stats
        if stats:
            ctx["chart"] = bar_chart(
                [(t.label, t.share) for t in stats[:15]], "share of posts", percent=True
            )
    return page(request, state, who, "topics.html", ctx)


@router.get("/reports")
def reports_page(
    request: Request,
    who: Viewer,
    state: State,
) -> HTMLResponse:
    brands = [b.name for b in state.workspace.store.list_brands()]
    return page(request, state, who, "reports.html", {"brands": brands})


@router.get("/reports/view")
def report_view(
    request: Request,
    who: Viewer,
    state: State,
    brand: str = "",
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    try:
        from socialloop.adapt.report import build_report
        from socialloop.adapt.report_html import render_html
    except ImportError:
        return page(request, state, who, "error.html", {"status": 501, "message": UNAVAILABLE})
    start, stop = parse_span(since, until)
    report = build_report(
        state.workspace,
        brand=brand or None,
        since=start,
        until=stop,
    )
    # render_html escapes every text it writes (see adapt.report_html)
    return HTMLResponse(render_html(report), headers={"Cache-Control": "no-store"})


@router.get("/alerts")
def alerts_page(
    request: Request,
    who: Viewer,
    state: State,
) -> HTMLResponse:
    ctx: dict[str, Any] = {"alerts": [], "message": None}
    try:
        from socialloop.adapt.alerts import list_alerts
    except ImportError:
        ctx["message"] = UNAVAILABLE
    else:
        ctx["alerts"] = list_alerts(state.workspace, limit=100)
    return page(request, state, who, "alerts.html", ctx)
