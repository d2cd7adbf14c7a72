"""The team's agents and automatic assignment.

An agent has languages (empty: any), skills (intents, topic ids or free tags it handles;
empty: generalist), a capacity (the most open items it holds: status ``assigned`` or
``replied``), a role (``agent`` or ``approver``) and whether its replies need approval.

Automatic assignment of an item picks, among active agents with free capacity that speak the
item's language (when both are known), those whose skills meet the item's intents, tags or
topic; when none do, generalists and then everyone eligible. Ties go round-robin: the agent
assigned longest ago (never first, then by id).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from socialloop.engage.audit import record, to_db
from socialloop.engage.rules import ROLES
from socialloop.errors import InvalidValue, ItemNotFound, NoAgentAvailable
from socialloop.store import Store
from socialloop.store.schema import agents, inbox_items

OPEN_STATUSES: tuple[str, ...] = ("assigned", "replied")
_LANG_CODE = re.compile(r"[a-z]{2,3}")  # ISO 639-1 (two letters); three for 639-3 codes


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    name: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    capacity: int
    role: str
    needs_approval: bool
    active: bool
    last_assigned_at: datetime | None
    load: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "languages": list(self.languages),
            "skills": list(self.skills),
            "capacity": self.capacity,
            "role": self.role,
            "needs_approval": self.needs_approval,
            "active": self.active,
            "open_items": self.load,
        }


def _csv(values: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        out.extend(p.strip().lower() for p in v.split(",") if p.strip())
    return tuple(dict.fromkeys(out))


def add_agent(
    store: Store,
    name: str,
    *,
    languages: Sequence[str] = (),
    skills: Sequence[str] = (),
    capacity: int = 20,
    role: str = "agent",
    needs_approval: bool = False,
    actor: str,
    now: datetime,
) -> Agent:
    name = name.strip()
    if not name:
        raise InvalidValue("an agent needs a name")
    if role not in ROLES:
        raise InvalidValue(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if capacity < 1:
        raise InvalidValue(f"capacity must be at least 1, not {capacity}")
    langs = _csv(languages)
    for code in langs:
        if not _LANG_CODE.fullmatch(code):
            raise InvalidValue(
                f"{code!r} is not a language code; give ISO 639-1 codes such as en,es"
            )
    row = {
        "name": name,
        "languages": list(langs),
        "skills": list(_csv(skills)),
        "capacity": capacity,
        "role": role,
        "needs_approval": needs_approval,
        "active": True,
        "created_at": to_db(now),
    }
    try:
        with store.engine.begin() as conn:
            conn.execute(agents.insert().values(**row))
            record(
                conn, at=now, actor=actor, action="agent.add", details=dict(row, created_at=None)
            )
    except IntegrityError:
        raise InvalidValue(f"agent {name!r} already exists; pick another name") from None
    return get_agent(store, name)


def _loads(conn: Connection) -> dict[int, int]:
    stmt = (
        select(inbox_items.c.assignee_id, func.count())
        .where(inbox_items.c.status.in_(OPEN_STATUSES), inbox_items.c.assignee_id.is_not(None))
        .group_by(inbox_items.c.assignee_id)
    )
    return {aid: n for aid, n in conn.execute(stmt)}


def _agent(row: Any, load: int) -> Agent:
    return Agent(
        row.id,
        row.name,
        tuple(row.languages or ()),
        tuple(row.skills or ()),
        row.capacity,
        row.role,
        bool(row.needs_approval),
        bool(row.active),
        row.last_assigned_at,
        load,
    )


def list_agents(store: Store, conn: Connection | None = None) -> list[Agent]:
    if conn is None:
        with store.begin() as c:
            return list_agents(store, c)
    loads = _loads(conn)
    rows = conn.execute(select(agents).order_by(agents.c.name)).all()
    return [_agent(r, loads.get(r.id, 0)) for r in rows]


def get_agent(store: Store, name: str, conn: Connection | None = None) -> Agent:
    for a in list_agents(store, conn):
        if a.name == name:
            return a
    raise ItemNotFound(f"no agent named {name!r} (add one with `agent add`)")


def pick_agent(
    candidates: Sequence[Agent], *, lang: str | None, needs: Sequence[str]
) -> tuple[Agent, str]:
    """The agent an item goes to and why ("skill", "language", "round-robin")."""
    free = [a for a in candidates if a.active and a.load < a.capacity]
    if not free:
        raise NoAgentAvailable("no active agent has free capacity")
    if lang:
        speakers = [a for a in free if not a.languages or lang in a.languages]
        if not speakers:
            raise NoAgentAvailable(f"no agent with free capacity speaks {lang!r}")
        specific = [a for a in speakers if lang in a.languages]
        free = speakers
    else:
        specific = []
    wanted = {n.lower() for n in needs}
    skilled = [a for a in free if wanted & set(a.skills)]
    generalists = [a for a in free if not a.skills]
    if skilled:
        pool, why = skilled, "skill"
    elif specific:
        pool, why = specific, "language"
    elif generalists:
        pool, why = generalists, "round-robin"
    else:
        pool, why = free, "round-robin"
    best = min(
        pool,
        key=lambda a: (a.last_assigned_at is not None, a.last_assigned_at or datetime.min, a.id),
    )
    return best, why
