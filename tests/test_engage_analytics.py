"""Response analytics of the team's inbox against hand-computed values."""

from __future__ import annotations

from datetime import timedelta

from socialloop.engage.agents import add_agent
from socialloop.engage.analytics import response_stats
from socialloop.engage.inbox import Inbox
from socialloop.engage.publish.base import Published, ReplyTarget
from socialloop.engage.replies import Replies
from socialloop.engage.triage import triage_posts
from socialloop.workspace import Workspace
from tests._engage import T0, Clock, store_posts
from tests.conftest import make_post


class _Mastodon:
    network = "mastodon"

    def publish(
        self, target: ReplyTarget, text: str, *, key: str, dry_run: bool = False
    ) -> Published:
        return Published("mastodon", key, None)


def test_response_stats_by_brand_agent_channel_intent(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    ws.add_brand("Beta", "beta")
    store_posts(
        ws,
        [
            (make_post("1", "acme how?", network="mastodon", when=T0), {"intent": ["question"]}),
            (make_post("2", "acme awful", when=T0), {"intent": ["complaint"]}),
            (make_post("3", "acme why so bad?", when=T0), {"intent": ["question", "complaint"]}),
            (make_post("4", "beta when?", when=T0), {"intent": ["question"]}),
            (make_post("5", "beta what?", when=T0), {"intent": ["question"]}),
        ],
    )
    triage_posts(ws, None)
    clock = Clock(T0)
    inbox = Inbox(ws, clock=clock)
    replies = Replies(inbox, publishers=lambda n: _Mastodon() if n == "mastodon" else None)
    for name in ("ana", "ben"):
        add_agent(ws.store, name, actor="admin", now=T0)
    ids = {i.post_id.split(":")[1]: i.id for i in inbox.list_items()}

    def answer(item: str, agent: str, minutes: int) -> None:
        clock.now = T0 + timedelta(minutes=minutes)
        replies.send(replies.draft(ids[item], agent=agent, text="hi").id)

    def resolve(item: str, minutes: int) -> None:
        clock.now = T0 + timedelta(minutes=minutes)
        inbox.resolve(ids[item], actor="ana")

    answer("1", "ana", 30)
    answer("2", "ben", 90)
    inbox.assign(ids["3"], "ana", actor="ana")
    answer("4", "ana", 10)
    resolve("4", 60)
    resolve("1", 120)
    inbox.dismiss(ids["5"], actor="ana")
    stats = response_stats(ws.store)

    def group(dim: str) -> dict[str, tuple[object, ...]]:
        return {
            g["key"]: (
                g["items"],
                g["responded"],
                g["response_rate"],
                g["median_first_response_s"],
                g["mean_first_response_s"],
                g["resolved"],
                g["median_resolution_s"],
            )
            for g in stats[dim]
        }

    o = stats["overall"]
    assert (o["items"], o["responded"], o["response_rate"]) == (4, 3, 0.75)
    assert (o["median_first_response_s"], o["mean_first_response_s"]) == (1800.0, 2600.0)
    assert (o["resolved"], o["median_resolution_s"]) == (2, 5400.0)
    assert stats["dismissed"] == 1
    assert group("by_brand") == {
        "Acme": (3, 2, 0.6667, 3600.0, 3600.0, 1, 7200.0),
        "Beta": (1, 1, 1.0, 600.0, 600.0, 1, 3600.0),
    }
    assert group("by_agent") == {
        "ana": (3, 2, 0.6667, 1200.0, 1200.0, 2, 5400.0),
        "ben": (1, 1, 1.0, 5400.0, 5400.0, 0, None),
    }
    assert group("by_channel") == {
        "mastodon": (1, 1, 1.0, 1800.0, 1800.0, 1, 7200.0),
        "twitter": (3, 2, 0.6667, 3000.0, 3000.0, 1, 3600.0),
    }
    assert group("by_intent") == {
        "complaint": (2, 1, 0.5, 5400.0, 5400.0, 0, None),
        "question": (3, 2, 0.6667, 1200.0, 1200.0, 2, 5400.0),
    }
    only_beta = response_stats(ws.store, brand="Beta")
    assert only_beta["overall"]["items"] == 1 and only_beta["dismissed"] == 1
