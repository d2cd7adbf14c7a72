"""Dashboard inbox (agents and up): the list, and working one item: read its thread, reply
(a text or a saved reply, drafted and optionally sent), assign, resolve."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialloop.errors import SocialloopError
from socialloop.web.app import status_of
from socialloop.web.auth import Agent, Principal
from socialloop.web.pages import thread_nodes
from socialloop.web.render import page
from socialloop.web.state import AppState, State

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
def inbox_page(
    request: Request,
    who: Agent,
    state: State,
    status: str = "open",
    brand: str = "",
) -> HTMLResponse:
    from socialloop.engage.inbox import STATUSES, Inbox

    # an unknown status is a 400, an unknown brand a 404 (Inbox.list_items)
    items = Inbox(state.workspace).list_items(brand=brand or None, status=status, limit=200)
    return page(
        request,
        state,
        who,
        "inbox.html",
        {
            "items": items,
            "status": status,
            "statuses": ["open", *STATUSES, "all"],
            "brand": brand,
            "brands": [b.name for b in state.workspace.store.list_brands()],
        },
    )


def _item_context(state: AppState, item_id: int) -> dict[str, Any]:
    from socialloop.engage.agents import list_agents
    from socialloop.engage.inbox import ALLOWED, Inbox
    from socialloop.engage.replies import Replies

    inbox = Inbox(state.workspace)
    item = inbox.get(item_id)
    replies = Replies(inbox)
    return {
        "item": item,
        # offer "Mark resolved" only where the workflow allows it (after a reply)
        "can_resolve": "resolved" in ALLOWED.get(item.status, ()),
        "nodes": thread_nodes(state, item.post_id),
        "notes": inbox.notes(item_id),
        "replies": replies.of_item(item_id),
        # saved replies, the best fit for this post first (similarity, its language first)
        "saved": [s for s, _ in replies.suggest(item_id, limit=100)],
        "agents": [a.name for a in list_agents(state.workspace.store)],
    }


@router.get("/inbox/{item_id}")
def inbox_item_page(
    request: Request,
    item_id: int,
    who: Agent,
    state: State,
) -> HTMLResponse:
    return page(request, state, who, "inbox_item.html", _item_context(state, item_id))


def _done(item_id: int, message: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/inbox/{item_id}?flash={quote(message)}", status_code=303)


def _failed(
    request: Request, state: AppState, who: Principal, item_id: int, exc: SocialloopError
) -> HTMLResponse:
    ctx = {**_item_context(state, item_id), "error": str(exc)}
    # the same status the API answers (400 bad input, 404 unknown agent, 409 wrong state)
    return page(request, state, who, "inbox_item.html", ctx, status_code=status_of(exc))


@router.post("/inbox/{item_id}/reply")
def inbox_reply(
    request: Request,
    item_id: int,
    who: Agent,
    state: State,
    text: str = Form(""),
    saved: str = Form(""),
    send: str = Form(""),
) -> Response:
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.replies import Replies

    replies = Replies(Inbox(state.workspace))
    try:
        reply = replies.draft(
            item_id, agent=who.name, text=text.strip() or None, saved=saved or None
        )
        if send:
            result = replies.send(reply.id)
            how = f"recorded; post it at {result.link}" if result.manual else "sent"
            return _done(item_id, f"Reply {reply.id} {how}.")
    except SocialloopError as exc:
        return _failed(request, state, who, item_id, exc)
    return _done(item_id, f"Reply {reply.id} drafted ({reply.status}).")


@router.post("/inbox/{item_id}/assign")
def inbox_assign(
    request: Request,
    item_id: int,
    who: Agent,
    state: State,
    agent_name: str = Form("", alias="agent"),
) -> Response:
    from socialloop.engage.inbox import Inbox

    try:
        item, how = Inbox(state.workspace).assign(item_id, agent_name or None, actor=who.name)
    except SocialloopError as exc:
        return _failed(request, state, who, item_id, exc)
    return _done(item_id, f"Assigned to {item.assignee} ({how}).")


@router.post("/inbox/{item_id}/resolve")
def inbox_resolve(
    request: Request,
    item_id: int,
    who: Agent,
    state: State,
) -> Response:
    from socialloop.engage.inbox import Inbox

    try:
        Inbox(state.workspace).resolve(item_id, actor=who.name)
    except SocialloopError as exc:
        return _failed(request, state, who, item_id, exc)
    return _done(item_id, "Resolved.")
