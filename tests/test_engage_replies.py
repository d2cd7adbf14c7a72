"""Replies: saved replies with variables per language, approval, sending through a Publisher
(a fake one defined here; the real publishers are tested in test_publish_*), retries that never
post twice, manual networks, and the double-answer guard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from socialloop.config import load_settings
from socialloop.engage.agents import add_agent
from socialloop.engage.audit import entries
from socialloop.engage.inbox import Inbox
from socialloop.engage.publish.base import Published, Publisher, ReplyTarget
from socialloop.engage.replies import Replies, render
from socialloop.engage.triage import triage_posts
from socialloop.errors import (
    ApprovalRequired,
    InboxError,
    ItemClaimed,
    MissingVariable,
    PublishError,
)
from socialloop.workspace import Workspace
from tests._engage import T0, Clock, store_posts
from tests.conftest import make_post


@dataclass
class FakePublisher:
    """Keeps what it published by idempotency key, like Mastodon's Idempotency-Key: the same
    key twice returns the first post. ``fail`` makes the next calls raise."""

    network: str = "mastodon"
    fail: int = 0
    calls: list[tuple[str, str, str, bool]] = field(default_factory=list)
    posted: dict[str, Published] = field(default_factory=dict)

    def publish(
        self, target: ReplyTarget, text: str, *, key: str, dry_run: bool = False
    ) -> Published:
        self.calls.append((target.native_id, text, key, dry_run))
        if dry_run:
            return Published(self.network, "", None)
        if self.fail:
            self.fail -= 1
            raise PublishError("mastodon: HTTP 503", network=self.network)
        if key not in self.posted:
            n = 1000 + len(self.posted)
            self.posted[key] = Published(self.network, str(n), f"https://m.example/@acme/{n}")
        return self.posted[key]


@pytest.fixture
def setup(ws: Workspace) -> tuple[Inbox, Replies, FakePublisher, dict[str, int]]:
    ws.add_brand("Acme", "acme")
    store_posts(
        ws,
        [
            (
                make_post(
                    "m1",
                    "acme where is my parcel?",
                    network="mastodon",
                    handle="Ann",
                    when=T0,
                    url="https://m.example/@ann/m1",
                ),
                {"intent": ["question"], "lang": "en"},
            ),
            (
                make_post(
                    "t1",
                    "acme missä paketti?",
                    handle="pekka",
                    when=T0,
                    url="https://x.com/pekka/status/t1",
                ),
                {"intent": ["question"], "lang": "fi"},
            ),
        ],
    )
    triage_posts(ws, None)
    clock = Clock(T0 + timedelta(minutes=10))
    inbox = Inbox(ws, clock=clock)
    fake = FakePublisher()

    def publishers(network: str) -> Publisher | None:
        return fake if network == "mastodon" else None

    replies = Replies(inbox, publishers=publishers)
    for name, role, approval in (
        ("ana", "agent", False),
        ("tim", "agent", True),
        ("boss", "approver", False),
        ("ben", "agent", False),
    ):
        add_agent(ws.store, name, role=role, needs_approval=approval, actor="admin", now=T0)
    ids = {i.post_id: i.id for i in inbox.list_items()}
    return inbox, replies, fake, ids


def test_render_variables() -> None:
    assert render("Hi {author}, {brand} here. {{ok}}", {"author": "@ann", "brand": "Acme"}) == (
        "Hi @ann, Acme here. {ok}"
    )
    with pytest.raises(
        MissingVariable,
        match=r"uses \{order\}, which has no value here; "
        r"available: \{author\}, \{brand\}",
    ):
        render("Hi {author}, order {order}", {"author": "@ann", "brand": "Acme"}, name="x")


def test_saved_replies_per_language(
    setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]],
) -> None:
    _, replies, _, ids = setup
    replies.save(
        "parcel", "Hi {author}, {brand} here: DM us your order number.", lang="en", actor="admin"
    )
    replies.save(
        "parcel", "Hei {author}! {brand} auttaa: lähetä tilausnumero.", lang="fi", actor="admin"
    )
    en = replies.draft(ids["mastodon:m1"], agent="ana", saved="parcel")
    assert en.text == "Hi @Ann, Acme here: DM us your order number." and en.status == "draft"
    fi = replies.draft(ids["twitter:t1"], agent="ben", saved="parcel")
    assert fi.text == "Hei @pekka! Acme auttaa: lähetä tilausnumero."
    replies.save("order", "Order {order} is on its way", actor="admin")
    with pytest.raises(MissingVariable, match=r"\{order\}"):
        replies.draft(ids["mastodon:m1"], agent="ana", saved="order")
    r = replies.draft(ids["mastodon:m1"], agent="ana", saved="order", extra={"order": "A-17"})
    assert r.text == "Order A-17 is on its way"
    assert [s.lang for s in replies.saved("parcel")] == ["en", "fi"]


def test_send_publishes_once_and_records_the_id(
    setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]],
) -> None:
    inbox, replies, fake, ids = setup
    iid = ids["mastodon:m1"]
    reply = replies.draft(iid, agent="ana", text="On its way!")
    dry = replies.send(reply.id, dry_run=True)
    assert dry.dry_run and replies.get(reply.id).status == "draft"
    done = replies.send(reply.id)
    assert done.reply.status == "sent" and done.reply.published_id == "1000"
    assert done.reply.published_url == "https://m.example/@acme/1000"
    assert fake.calls[-1] == ("m1", "On its way!", reply.key, False)
    item = inbox.get(iid)
    assert item.status == "replied" and item.assignee == "ana"
    assert item.first_response_at == T0 + timedelta(minutes=10) and item.claimed_by is None
    with pytest.raises(InboxError, match="already sent; it is never sent twice"):
        replies.send(reply.id)
    assert len(fake.calls) == 2
    inbox.resolve(iid, actor="ana")
    actions = [e.action for e in entries(inbox.store, item_id=iid)]
    assert actions == ["triage.add", "claim", "reply.draft", "assign", "reply.send", "resolve"]


def test_failed_send_retries_with_the_same_key(
    setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]],
) -> None:
    inbox, replies, fake, ids = setup
    reply = replies.draft(ids["mastodon:m1"], agent="ana", text="Sorry!")
    fake.fail = 1
    with pytest.raises(PublishError):
        replies.send(reply.id)
    failed = replies.get(reply.id)
    assert failed.status == "failed" and "503" in (failed.error or "") and failed.attempts == 1
    assert inbox.get(ids["mastodon:m1"]).status == "new"
    done = replies.send(reply.id)
    assert done.reply.status == "sent" and done.reply.attempts == 2
    keys = [c[2] for c in fake.calls]
    assert keys == [reply.key] * 2 and len(fake.posted) == 1


def test_manual_network_gives_the_link(
    setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]],
) -> None:
    inbox, replies, fake, ids = setup
    reply = replies.draft(ids["twitter:t1"], agent="ben", text="Hei!")
    res = replies.send(reply.id)
    assert res.manual and res.link == "https://x.com/pekka/status/t1"
    assert res.reply.status == "manual" and res.reply.published_id is None
    assert inbox.get(ids["twitter:t1"]).status == "replied" and not fake.calls


def test_approval_flow(setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]]) -> None:
    inbox, replies, fake, ids = setup
    reply = replies.draft(ids["mastodon:m1"], agent="tim", text="We are on it")
    assert reply.status == "pending"
    with pytest.raises(ApprovalRequired, match="waits for an approver"):
        replies.send(reply.id)
    with pytest.raises(ApprovalRequired, match="ana is not an approver"):
        replies.approve(reply.id, approver="ana")
    approved = replies.approve(reply.id, approver="boss")
    assert approved.status == "approved" and approved.approved_by == "boss"
    assert replies.send(reply.id).reply.status == "sent"
    assert [c[1] for c in fake.calls] == ["We are on it"]
    trail = [(e.actor, e.action) for e in entries(inbox.store, item_id=ids["mastodon:m1"])]
    assert ("boss", "reply.approve") in trail and ("tim", "reply.send") in trail


def test_role_based_approval_from_settings(
    setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]],
) -> None:
    inbox, _, _, ids = setup
    root = inbox.ws.settings.root
    (root / "socialloop.toml").open("a").write('\n[inbox]\nrequire_approval = ["agent"]\n')
    inbox.ws.settings = load_settings(root)
    replies = Replies(Inbox(inbox.ws, clock=inbox.clock))
    assert replies.draft(ids["mastodon:m1"], agent="ana", text="x").status == "pending"


def test_two_agents_cannot_answer_the_same_item(
    setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]],
) -> None:
    inbox, replies, fake, ids = setup
    iid = ids["mastodon:m1"]
    first = replies.draft(iid, agent="ana", text="from ana")
    with pytest.raises(ItemClaimed, match="being answered by ana"):
        replies.draft(iid, agent="ben", text="from ben")
    # ana's claim lapses; ben drafts, then ana sends first: ben's older draft is refused
    assert isinstance(inbox.clock, Clock)
    inbox.clock.advance(minutes=31)
    second = replies.draft(iid, agent="ben", text="from ben")
    with pytest.raises(ItemClaimed, match="being answered by ben"):
        replies.send(first.id)
    inbox.clock.advance(minutes=31)
    replies.send(first.id)
    with pytest.raises(ItemClaimed, match="answered by ana after this draft"):
        replies.send(second.id)
    assert [c[1] for c in fake.calls] == ["from ana"]


def test_suggested_saved_replies(
    setup: tuple[Inbox, Replies, FakePublisher, dict[str, int]],
) -> None:
    _, replies, _, ids = setup
    replies.save("password", "To reset your password, open Settings and tap Reset.", actor="a")
    replies.save(
        "parcel", "Sorry your parcel is late, {author}: DM us the order number.", actor="a"
    )
    replies.save(
        "parcel", "Pahoittelut, paketti on myöhässä: lähetä tilausnumero.", lang="fi", actor="a"
    )
    ranked = replies.suggest(ids["mastodon:m1"])  # "acme where is my parcel?" (en)
    assert [(s.name, s.lang) for s, _ in ranked] == [("parcel", "en"), ("password", "en")]
    assert ranked[0][1] > ranked[1][1]
    fi = replies.suggest(ids["twitter:t1"])  # Finnish post: the Finnish version first
    assert (fi[0][0].name, fi[0][0].lang) == ("parcel", "fi")


def test_reply_keys_are_stable_and_differ_between_workspaces() -> None:
    from datetime import UTC, datetime

    from socialloop.engage.replies import Reply

    fields = {f: None for f in Reply.__dataclass_fields__}
    created = datetime(2026, 11, 22, 9, 0, 0, 123456, tzinfo=UTC)
    base = {**fields, "id": 1, "item_id": 1, "agent": "a", "text": "t", "status": "draft"}
    base.update(attempts=0, created_at=created)
    one = Reply(**base)
    assert one.key == Reply(**base).key and one.key.startswith("socialloop-reply-1-")
    other = Reply(**{**base, "created_at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC)})
    assert other.key != one.key  # reply 1 of another workspace
