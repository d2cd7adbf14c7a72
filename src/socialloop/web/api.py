"""The REST API under /api: search, brands, posts, push intake, and thin routes over the
reports, the inbox, the influence graph and threads. Each route names its minimum role.

Roles (``viewer < agent < analyst < admin``): reading is for viewers; the inbox is for agents;
changing brands and pushing posts is for analysts. The libraries behind the thin routes are
imported inside the routes, so the API starts even where one of them is not installed.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from socialloop.errors import InvalidValue
from socialloop.web.auth import Agent, Analyst, Viewer
from socialloop.web.rollups import refresh_brand
from socialloop.web.state import State

router = APIRouter(prefix="/api")

MAX_LIMIT = 1000


def parse_when(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """An ISO date or datetime query parameter as aware UTC (a bare date as an upper bound
    means the end of that day); 400 when it is neither."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            dt = datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
            return dt + timedelta(days=1) if end else dt
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(
            400, f"{name}={value!r} is not an ISO date (2024-05-01) or datetime"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_span(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``since`` / ``until`` query parameters (:func:`parse_when`); 400 when ``until`` is not
    after ``since``, a span nothing can match (rather than a silently empty answer)."""
    start = parse_when(since, "since")
    stop = parse_when(until, "until", end=True)
    if start is not None and stop is not None and stop <= start:
        raise HTTPException(
            400, f"until={until!r} is not after since={since!r}: swap them or widen the span"
        )
    return start, stop


def jsonable(value: Any) -> Any:
    """Dataclasses and datetimes as JSON values (NaN and infinities as null)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return jsonable(value.to_dict())
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def missing(feature: str) -> HTTPException:
    return HTTPException(501, f"{feature} is not available in this installation")


# -- search, posts, brands ---------------------------------------------------------------------


@router.get("/search", tags=["posts"], summary="Posts matching a query (the query language)")
def search(
    _who: Viewer,
    state: State,
    q: str = Query("", description="A boolean query, e.g. `refund AND lang:en`; empty: all"),
    brand: str | None = Query(None, description="Only posts matching this brand"),
    since: str | None = Query(None, description="ISO date or datetime (inclusive)"),
    until: str | None = Query(None, description="ISO date (whole day) or datetime"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
) -> dict[str, Any]:
    start, stop = parse_span(since, until)
    found = state.workspace.search(
        q or None,
        brand=brand or None,
        since=start,
        until=stop,
        limit=limit,
    )
    return {"query": q, "count": len(found), "posts": [p.to_dict() for p in found]}


@router.get("/posts/{post_id:path}", tags=["posts"], summary="One stored post")
def get_post(
    post_id: str,
    _who: Viewer,
    state: State,
) -> dict[str, Any]:
    post = state.workspace.store.get_post(post_id)
    if post is None:
        raise HTTPException(404, f"no stored post with id {post_id!r}")
    return post.to_dict()


class BrandIn(BaseModel):
    name: str = Field(min_length=1)
    query: str = Field(min_length=1, description="Boolean query deciding which posts match")
    competitor: bool = False
    values: str | None = None
    assumptions: list[str] = []
    accounts: list[str] = []


class BrandPatch(BaseModel):
    name: str | None = Field(None, min_length=1, description="A new name")
    query: str | None = None
    competitor: bool | None = None
    values: str | None = None
    assumptions: list[str] | None = None
    accounts: list[str] | None = None


@router.get("/brands", tags=["brands"], summary="Brands with their queries and post counts")
def list_brands(
    _who: Viewer,
    state: State,
) -> list[dict[str, Any]]:
    return [{**b.to_dict(), "posts": n} for b, n in state.workspace.brands_with_counts()]


@router.post("/brands", tags=["brands"], status_code=201, summary="Add a brand (analyst+)")
def create_brand(
    body: BrandIn,
    _who: Analyst,
    state: State,
) -> dict[str, Any]:
    with state.write_lock:
        brand, matched = state.workspace.add_brand(
            body.name,
            body.query,
            competitor=body.competitor,
            values=body.values,
            assumptions=body.assumptions,
            accounts=body.accounts,
        )
        refresh_brand(state.workspace, brand)  # the overview's rollups follow at once
    return {**brand.to_dict(), "matched": matched}


@router.patch("/brands/{name}", tags=["brands"], summary="Change a brand (analyst+)")
def edit_brand(
    name: str,
    body: BrandPatch,
    _who: Analyst,
    state: State,
) -> dict[str, Any]:
    with state.write_lock:
        brand, matched = state.workspace.edit_brand(
            name,
            new_name=body.name,
            query=body.query,
            competitor=body.competitor,
            values=body.values,
            assumptions=body.assumptions,
            accounts=body.accounts,
        )
        refresh_brand(state.workspace, brand)  # the overview's rollups follow at once
    return {**brand.to_dict(), "matched": matched}


@router.get("/me", tags=["users"], summary="Who the credentials belong to")
def me(
    who: Viewer,
) -> dict[str, Any]:
    return {"name": who.name, "role": who.role, "via": who.via}


# -- push intake -------------------------------------------------------------------------------


@router.post(
    "/ingest",
    tags=["posts"],
    summary="Store posts pushed in any import format (analyst+)",
    response_model=None,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def ingest(
    request: Request,
    _who: Analyst,
    state: State,
    filename: str | None = Query(None, description="A name whose extension hints the format"),
    format: str = Query("auto", description="The import format (see `socialloop import`)"),
) -> dict[str, Any] | JSONResponse:
    try:
        from socialloop.listen.ingest import ingest_payload
    except ImportError:
        raise missing("push intake") from None
    limit = state.web.max_ingest_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is larger than {limit:,} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)

    def run() -> dict[str, Any]:
        with state.write_lock:
            result = ingest_payload(state.workspace, body, filename_hint=filename, fmt=format)
        return result.to_dict()

    result = await run_in_threadpool(run)
    if result["status"] == "failed":  # nothing readable (or an unknown format): bad input
        return JSONResponse({"detail": result["error"], **result}, status_code=400)
    return result


# -- reports and alerts ------------------------------------------------------------------------


@router.get("/reports", tags=["reports"], summary="Every ADAPT report section as JSON")
def report_json(
    _who: Viewer,
    state: State,
    brand: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    try:
        from socialloop.adapt.report import build_report
    except ImportError:
        raise missing("reports") from None
    start, stop = parse_span(since, until)
    report = build_report(
        state.workspace,
        brand=brand or None,
        since=start,
        until=stop,
    )
    result: dict[str, Any] = jsonable(report.to_dict())
    return result


@router.get(
    "/reports/html",
    tags=["reports"],
    summary="The self-contained HTML report",
    response_class=HTMLResponse,
)
def report_html(
    _who: Viewer,
    state: State,
    brand: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> HTMLResponse:
    try:
        from socialloop.adapt.report import build_report
        from socialloop.adapt.report_html import render_html
    except ImportError:
        raise missing("reports") from None
    start, stop = parse_span(since, until)
    report = build_report(
        state.workspace,
        brand=brand or None,
        since=start,
        until=stop,
    )
    return HTMLResponse(render_html(report))


@router.get("/alerts", tags=["reports"], summary="Alerts sent or recorded, newest first")
def alerts(
    _who: Viewer,
    state: State,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
) -> list[Any]:
    try:
        from socialloop.adapt.alerts import list_alerts
    except ImportError:
        raise missing("alerts") from None
    result: list[Any] = jsonable(list_alerts(state.workspace, limit=limit))
    return result


# -- influence and threads ---------------------------------------------------------------------


def check_scope(scope: str, scored: list[str]) -> None:
    """An influence scope nothing was scored for is bad input (400), not an empty ranking;
    before any `graph build` nothing is scored and every scope is simply empty."""
    if scored and scope not in scored:
        raise InvalidValue(
            f"no influence scores for scope {scope!r}; scored: {', '.join(sorted(scored))} "
            "(a brand or topic added since the last `socialloop graph build` has none yet)"
        )


@router.get("/influencers", tags=["graph"], summary="The most influential authors")
def influencers(
    _who: Viewer,
    state: State,
    scope: str = Query("all", description="all | brand:<id> | topic:<id>"),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
) -> list[Any]:
    try:
        from socialloop.graph.influence import scored_scopes, top_authors
    except ImportError:
        raise missing("influence") from None
    check_scope(scope, scored_scopes(state.workspace.store))
    result: list[Any] = jsonable(top_authors(state.workspace.store, scope, limit))
    return result


@router.get("/communities", tags=["graph"], summary="Communities of the last graph build")
def communities(
    _who: Viewer,
    state: State,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
) -> list[Any]:
    try:
        from socialloop.graph.communities import load_communities
    except ImportError:
        raise missing("communities") from None
    result: list[Any] = jsonable(load_communities(state.workspace.store, limit))
    return result


@router.get("/threads/{post_id:path}", tags=["graph"], summary="The thread a post belongs to")
def thread(
    post_id: str,
    _who: Viewer,
    state: State,
) -> dict[str, Any]:
    try:
        from socialloop.conversations.threads import load_thread
    except ImportError:
        raise missing("threads") from None
    result: dict[str, Any] = jsonable(load_thread(state.workspace.store, post_id).to_dict())
    return result


# -- inbox -------------------------------------------------------------------------------------


class AssignIn(BaseModel):
    agent: str | None = Field(None, description="An agent's name; none: pick automatically")


class ReplyIn(BaseModel):
    text: str | None = None
    saved: str | None = Field(None, description="The name of a saved reply")
    send: bool = Field(False, description="Send it now (or record it for manual posting)")


@router.get("/inbox", tags=["inbox"], summary="Open inbox items, highest priority first")
def inbox_list(
    _who: Agent,
    state: State,
    brand: str | None = None,
    status: str | None = Query(None, description="open | new | assigned | ... | all"),
    assignee: str | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
) -> list[Any]:
    from socialloop.engage.inbox import Inbox

    # an unknown status is a 400, an unknown brand or assignee a 404 (Inbox.list_items)
    items = Inbox(state.workspace).list_items(
        brand=brand or None, status=status, assignee=assignee, limit=limit
    )
    return [jsonable(i) for i in items]


@router.get("/inbox/{item_id}", tags=["inbox"], summary="One inbox item with notes and replies")
def inbox_item(
    item_id: int,
    _who: Agent,
    state: State,
) -> dict[str, Any]:
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.replies import Replies

    inbox = Inbox(state.workspace)
    item = inbox.get(item_id)
    return {
        **jsonable(item),
        "notes": jsonable(inbox.notes(item_id)),
        "replies": jsonable(Replies(inbox).of_item(item_id)),
    }


@router.post("/inbox/{item_id}/assign", tags=["inbox"], summary="Assign an item (agent+)")
def inbox_assign(
    item_id: int,
    body: AssignIn,
    who: Agent,
    state: State,
) -> dict[str, Any]:
    from socialloop.engage.inbox import Inbox

    item, how = Inbox(state.workspace).assign(item_id, body.agent, actor=who.name)
    return {**jsonable(item), "how": how}


@router.post("/inbox/{item_id}/reply", tags=["inbox"], summary="Draft (and send) a reply")
def inbox_reply(
    item_id: int,
    body: ReplyIn,
    who: Agent,
    state: State,
) -> dict[str, Any]:
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.replies import Replies

    replies = Replies(Inbox(state.workspace))
    reply = replies.draft(item_id, agent=who.name, text=body.text, saved=body.saved)
    out: dict[str, Any] = {"reply": jsonable(reply)}
    if body.send:
        sent = replies.send(reply.id)
        out["reply"] = jsonable(sent.reply)
        out["manual"] = sent.manual
        out["link"] = sent.link
    return out


@router.post("/inbox/{item_id}/resolve", tags=["inbox"], summary="Resolve an item (agent+)")
def inbox_resolve(
    item_id: int,
    who: Agent,
    state: State,
) -> dict[str, Any]:
    from socialloop.engage.inbox import Inbox

    result: dict[str, Any] = jsonable(Inbox(state.workspace).resolve(item_id, actor=who.name))
    return result
