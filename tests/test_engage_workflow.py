"""Inbox workflow: priority order, transitions, assignment (manual, round-robin, language and
skill with capacity), claims, notes, tags and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialloop.engage import priority as prio
from socialloop.engage.agents import add_agent, list_agents
from socialloop.engage.audit import entries
from socialloop.engage.inbox import Inbox
from socialloop.engage.triage import follower_influence, triage_posts
from socialloop.errors import (
    InvalidTransition,
    InvalidValue,
    ItemClaimed,
    ItemNotFound,
    NoAgentAvailable,
    NotFound,
)
from socialloop.workspace import Workspace
from tests._engage import T0, Clock, store_posts
from tests.conftest import make_post


@pytest.fixture
def inbox(ws: Workspace) -> Inbox:
    ws.add_brand("Acme", "acme", accounts=["acmehelp"])
    store_posts(
        ws,
        [
            (
                make_post("q", "acme how do I pair the headphones?", when=T0),
                {"intent": ["question"], "lang": "en"},
            ),
            (
                make_post(
                    "c",
                    "acme refund me now, broken again",
                    when=T0,
                    handle="angry",
                    followers=50_000,
                ),
                {"intent": ["complaint"], "brand_sentiment": {"Acme": "negative"}, "lang": "en"},
            ),
            (
                make_post("p", "acme kauppa: voiko ostaa netistä?", when=T0),
                {"intent": ["purchase_intent"], "lang": "fi"},
            ),
            (
                make_post("m", "@acmehelp acme thanks!", when=T0 - timedelta(hours=12)),
                {"intent": ["praise"], "lang": "en"},
            ),
        ],
    )
    triage_posts(ws, None)
    return Inbox(ws, clock=Clock(T0 + timedelta(minutes=30)))


def _by_post(inbox: Inbox) -> dict[str, int]:
    return {i.post_id: i.id for i in inbox.list_items(status="all")}


def test_priority_orders_the_inbox_and_shows_components(inbox: Inbox) -> None:
    items = inbox.list_items()
    assert [i.post_id for i in items] == ["twitter:c", "twitter:q", "twitter:p", "twitter:m"]
    c = items[0]
    # complaint 30, urgency 10 ("refund"), influence 20 x log10(50001)/6, negative 15 x 0.9
    assert c.components == {
        "intent": 30.0,
        "urgency": 10.0,
        "influence": round(20 * follower_influence(50_000), 1),
        "sentiment": 13.5,
        "waiting": 0.3,
    }
    assert c.priority == pytest.approx(sum(c.components.values()), abs=0.05)
    # waiting grows: the praise post, 12.5 h old, has 15 x 12.5 / 24 = 7.8
    m = items[-1]
    assert m.components["waiting"] == 7.8 and m.reasons == ["own_account_mention"]


def test_list_filters_check_their_names_and_statuses(inbox: Inbox, ws: Workspace) -> None:
    assert not inbox.is_empty()
    open_ids = [i.id for i in inbox.list_items()]
    assert [i.id for i in inbox.list_items(status="open")] == open_ids
    assert [i.id for i in inbox.list_items(brand="acme")] == open_ids  # any case, as elsewhere
    with pytest.raises(InvalidValue, match="unknown status 'bogus'; use open, new"):
        inbox.list_items(status="bogus")
    with pytest.raises(NotFound, match="no brand named 'Nope'"):
        inbox.list_items(brand="Nope")
    with pytest.raises(ItemNotFound, match="no agent named 'nobody'"):
        inbox.list_items(assignee="nobody")
    other = Workspace.init(ws.settings.root.parent / "other")
    try:
        assert Inbox(other).is_empty() and Inbox(other).list_items(status="all") == []
    finally:
        other.close()


def test_priority_formula_bands() -> None:
    s = prio.Signals(["complaint"], "asap!", 1.0, "negative", 1.0, True)
    comp = prio.base_components(s)
    assert comp == {"intent": 30.0, "urgency": 20.0, "influence": 20.0, "sentiment": 15.0}
    assert prio.total(comp) == 85.0 and prio.band(85.0) == "high"
    calm = prio.base_components(prio.Signals(["praise"], "nice", 0.0, "positive", 0.9, False))
    assert prio.total(calm) == 5.0 and prio.band(5.0) == "low"
    assert prio.waiting(T0, T0 + timedelta(hours=48)) == 15.0


def test_workflow_transitions_and_errors(inbox: Inbox) -> None:
    ids = _by_post(inbox)
    add_agent(inbox.store, "ana", actor="boss", now=T0)
    item, how = inbox.assign(ids["twitter:q"], "ana", actor="boss")
    assert item.status == "assigned" and item.assignee == "ana" and how == "manual"
    with pytest.raises(
        InvalidTransition, match="from assigned it can become assigned, replied, dismissed"
    ):
        inbox.resolve(ids["twitter:q"], actor="boss")
    inbox.dismiss(ids["twitter:m"], actor="boss", reason="thanks only")
    with pytest.raises(InvalidTransition, match="it is final"):
        inbox.assign(ids["twitter:m"], "ana", actor="boss")
    with pytest.raises(InvalidTransition, match="from new it can become assigned, dismissed"):
        inbox.resolve(ids["twitter:p"], actor="boss")
    assert [i.post_id for i in inbox.list_items(status="dismissed")] == ["twitter:m"]
    assert ids["twitter:m"] not in {i.id for i in inbox.list_items()}


def test_round_robin_respects_capacity(inbox: Inbox) -> None:
    store = inbox.store
    add_agent(store, "ana", capacity=1, actor="boss", now=T0)
    add_agent(store, "ben", capacity=2, actor="boss", now=T0)
    got = inbox.auto_assign(actor="boss")
    # highest priority first; ana (id 1) then ben, then ana is full: ben again; then nobody
    assert [a for _, a in got] == ["ana", "ben", "ben"]
    loads = {a.name: a.load for a in list_agents(store)}
    assert loads == {"ana": 1, "ben": 2}
    left = [i for i in inbox.list_items() if i.status == "new"]
    assert len(left) == 1
    with pytest.raises(NoAgentAvailable, match="free capacity"):
        inbox.assign(left[0].id, None, actor="boss")


def test_language_and_skill_assignment(inbox: Inbox) -> None:
    store = inbox.store
    ids = _by_post(inbox)
    add_agent(store, "gen", languages=["en"], capacity=5, actor="boss", now=T0)
    add_agent(store, "suomi", languages=["fi", "en"], capacity=5, actor="boss", now=T0)
    add_agent(
        store, "care", languages=["en"], skills=["complaint"], capacity=5, actor="boss", now=T0
    )
    item, how = inbox.assign(ids["twitter:p"], None, actor="boss")
    assert (item.assignee, how) == ("suomi", "language")
    item, how = inbox.assign(ids["twitter:c"], None, actor="boss")
    assert (item.assignee, how) == ("care", "skill")
    # a tag is a skill too
    inbox.tag(ids["twitter:q"], add=["Billing"], actor="boss")
    add_agent(store, "bill", skills=["billing"], capacity=1, actor="boss", now=T0)
    item, how = inbox.assign(ids["twitter:q"], None, actor="boss")
    assert (item.assignee, how) == ("bill", "skill") and item.tags == ["billing"]


def test_no_speaker_of_the_language(inbox: Inbox) -> None:
    add_agent(inbox.store, "gen", languages=["en"], actor="boss", now=T0)
    with pytest.raises(NoAgentAvailable, match="speaks 'fi'"):
        inbox.assign(_by_post(inbox)["twitter:p"], None, actor="boss")


def test_claim_guard(inbox: Inbox) -> None:
    iid = _by_post(inbox)["twitter:q"]
    inbox.claim(iid, "ana")
    with pytest.raises(ItemClaimed, match="being answered by ana until"):
        inbox.claim(iid, "ben")
    inbox.claim(iid, "ana")  # renewing one's own claim is fine
    assert isinstance(inbox.clock, Clock)
    inbox.clock.advance(minutes=31)  # claims last claim_minutes = 30
    assert inbox.claim(iid, "ben").claimed_by == "ben"


def test_notes_tags_and_audit(inbox: Inbox) -> None:
    iid = _by_post(inbox)["twitter:c"]
    inbox.note(iid, "called them back", actor="ana")
    assert inbox.tag(iid, add=["vip", "refund"], actor="ana") == ["refund", "vip"]
    assert inbox.tag(iid, remove=["vip"], actor="ben") == ["refund"]
    assert [(n.author, n.text) for n in inbox.notes(iid)] == [("ana", "called them back")]
    trail = entries(inbox.store, item_id=iid)
    assert [(e.actor, e.action) for e in trail] == [
        ("socialloop", "triage.add"),
        ("ana", "note"),
        ("ana", "tag"),
        ("ben", "tag"),
    ]
    assert trail[1].details == {"text": "called them back"}
    assert trail[2].at == T0 + timedelta(minutes=30)
