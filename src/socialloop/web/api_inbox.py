"""REST API for the inbox's setup and the actions beyond assign / reply / resolve: the triage
rules (read by agents, edited by admins), triage on demand, notes, dismissal, saved replies.

Registered before :mod:`socialloop.web.api` so ``/api/inbox/rules`` is not read as an item id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from socialloop.errors import ConfigError, InvalidValue
from socialloop.web.api import jsonable
from socialloop.web.auth import Admin, Agent, Analyst
from socialloop.web.state import State

router = APIRouter(prefix="/api")


class TriageIn(BaseModel):
    again: bool = Field(False, description="Re-triage every enriched post (after a rule change)")


class NoteIn(BaseModel):
    text: str


class DismissIn(BaseModel):
    reason: str | None = None


class SavedReplyIn(BaseModel):
    name: str
    text: str = Field(description="The reply, with variables such as {author} and {brand}")
    lang: str = "en"
    replace: bool = False


@router.get("/inbox/rules", tags=["inbox"], summary="The triage and workflow rules (agent+)")
def rules_get(_who: Agent, state: State) -> dict[str, Any]:
    from socialloop.engage.rules import load_rules

    return load_rules(state.workspace.settings).to_dict()


@router.patch("/inbox/rules", tags=["inbox"], summary="Change triage rules (admin)")
def rules_patch(changes: dict[str, Any], _who: Admin, state: State) -> dict[str, Any]:
    """Writes the ``[inbox]`` table of socialloop.toml (validated first) and applies it."""
    from socialloop.config import load_settings
    from socialloop.engage.rules import write_rules

    ws = state.workspace
    try:
        rules = write_rules(ws.settings, changes)
    except ConfigError as exc:  # the caller's values, not the server's settings, are wrong
        raise InvalidValue(str(exc)) from None
    ws.settings = load_settings(ws.settings.root, ws.settings.environ)
    return rules.to_dict()


@router.post("/inbox/triage", tags=["inbox"], summary="Triage enriched posts now (analyst+)")
def triage(body: TriageIn, _who: Analyst, state: State) -> dict[str, Any]:
    from socialloop.engage.triage import triage_posts

    return triage_posts(state.workspace, None, again=body.again).to_dict()


@router.post("/inbox/{item_id}/note", tags=["inbox"], summary="Add an internal note (agent+)")
def note(item_id: int, body: NoteIn, who: Agent, state: State) -> list[Any]:
    from socialloop.engage.inbox import Inbox

    inbox = Inbox(state.workspace)
    inbox.note(item_id, body.text, actor=who.name)
    return [jsonable(n) for n in inbox.notes(item_id)]


@router.post("/inbox/{item_id}/dismiss", tags=["inbox"], summary="Dismiss an item (agent+)")
def dismiss(item_id: int, body: DismissIn, who: Agent, state: State) -> Any:
    from socialloop.engage.inbox import Inbox

    return jsonable(Inbox(state.workspace).dismiss(item_id, actor=who.name, reason=body.reason))


@router.get("/saved-replies", tags=["inbox"], summary="Saved replies (agent+)")
def saved_list(_who: Agent, state: State) -> list[Any]:
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.replies import Replies

    return [jsonable(s) for s in Replies(Inbox(state.workspace)).saved()]


@router.post(
    "/saved-replies", tags=["inbox"], status_code=201, summary="Add a saved reply (analyst+)"
)
def saved_add(body: SavedReplyIn, who: Analyst, state: State) -> Any:
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.replies import Replies

    saved = Replies(Inbox(state.workspace)).save(
        body.name, body.text, lang=body.lang, actor=who.name, replace=body.replace
    )
    return jsonable(saved)
