"""Threads rebuilt from reply chains (real SQLite workspace): the tree, depth, participants,
placeholders for parents that are not stored, and the brand's answers with their delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialloop.conversations import load_thread
from socialloop.conversations.openings import Forest, find_openings
from socialloop.conversations.threads import account_owner
from socialloop.errors import NotFound
from socialloop.listen.importer import import_posts
from socialloop.models import Brand, Post
from socialloop.workspace import Workspace
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reply(native: str, parent: str, text: str, handle: str, minutes: float) -> Post:
    return make_post(native, text, handle=handle, when=at(minutes), parent_id=f"twitter:{parent}")


def support_thread() -> list[Post]:
    """ann asks @acmehelp; the brand answers after 10 min; ann follows up, answered after
    15 min; bob chimes in under ann's post and the brand answers him too."""
    return [
        make_post("1", "@acmehelp my order is late", handle="ann", when=at(0)),
        reply("2", "1", "same here", "bob", 5),
        reply("3", "1", "@ann sorry! can you DM us?", "acmehelp", 10),
        reply("4", "2", "@bob looking into it", "acmehelp", 20),
        reply("5", "3", "@acmehelp still nothing", "ann", 30),
        reply("6", "5", "@ann we have escalated it", "acmehelp", 45),
    ]


@pytest.fixture
def acme(ws: Workspace) -> Workspace:
    ws.add_brand("Acme", "acme", accounts=["acmehelp"])
    return ws


def test_tree_depth_participants_and_brand_delays(acme: Workspace) -> None:
    # imported children first: the store re-roots them once their parents arrive
    import_posts(acme, list(reversed(support_thread())))
    thread = load_thread(acme.store, "twitter:5")
    assert thread.root.id == "twitter:1" and thread.root.stored
    assert thread.focus == "twitter:5"
    assert thread.size == 6
    assert thread.depth == 3  # 1 -> 3 -> 5 -> 6
    assert [c.id for c in thread.root.children] == ["twitter:2", "twitter:3"]  # time order
    nodes = {n.id: n for n in thread.nodes()}
    assert nodes["twitter:6"].depth == 3
    assert {p.author_id: p.posts for p in thread.participants} == {
        "twitter:ann": 2,
        "twitter:bob": 1,
        "twitter:acmehelp": 3,
    }
    # every brand reply carries the delay since the post it answers
    assert nodes["twitter:3"].owners == ("Acme",)
    assert nodes["twitter:3"].reply_delay_s == 600
    assert nodes["twitter:4"].reply_delay_s == 900
    assert nodes["twitter:6"].reply_delay_s == 900
    assert nodes["twitter:2"].owners == () and nodes["twitter:2"].reply_delay_s is None
    # ann's first post opened the conversation; her follow-up does not open another
    [answer] = nodes["twitter:1"].answers
    assert (answer.group, answer.response_id, answer.delay_s) == ("Acme", "twitter:3", 600)
    assert nodes["twitter:5"].answers == []
    [resp] = thread.responses
    assert (resp.group, resp.conversations, resp.answered) == ("Acme", 1, 1)
    assert (resp.first_response_s, resp.first_response_id) == (600, "twitter:3")


def test_first_response_found_further_down_the_thread(acme: Workspace) -> None:
    posts = [
        make_post("10", "@acmehelp hello? anyone?", handle="carol", when=at(0)),
        reply("11", "10", "@carol they never answer", "dave", 60),
        reply("12", "11", "@carol @dave we do! what happened?", "acmehelp", 120),
    ]
    import_posts(acme, posts)
    thread = load_thread(acme.store, "twitter:12")
    [answer] = thread.root.answers
    assert answer.response_id == "twitter:12"
    assert answer.delay_s == 7200  # the reply below dave's post still answers carol
    assert thread.responses[0].first_response_s == 7200


def test_unknown_parent_gets_a_placeholder(acme: Workspace) -> None:
    posts = [
        reply("21", "999", "@acmehelp and the refund?", "erin", 0),
        reply("22", "21", "@erin on its way", "acmehelp", 3),
    ]
    import_posts(acme, posts)
    thread = load_thread(acme.store, "twitter:22")
    assert thread.root.id == "twitter:999"
    assert not thread.root.stored and thread.root.text is None
    assert thread.size == 2 and thread.depth == 2
    [erin] = thread.root.children
    assert erin.id == "twitter:21" and erin.depth == 1
    assert erin.answers[0].delay_s == 180
    assert erin.children[0].reply_delay_s == 180
    doc = thread.to_dict()
    assert doc["tree"]["stored"] is False
    assert doc["tree"]["children"][0]["children"][0]["id"] == "twitter:22"


def test_brand_that_never_answers_and_unknown_post(acme: Workspace) -> None:
    acme.add_brand("Rival", "rival", competitor=True, accounts=["twitter:rivalcare"])
    import_posts(
        acme,
        [
            make_post("30", "@rivalcare my card was charged twice", handle="fay", when=at(0)),
            reply("31", "30", "@fay same!!", "gus", 30),
        ],
    )
    thread = load_thread(acme.store, "twitter:31")
    [resp] = thread.responses
    assert (resp.group, resp.conversations, resp.answered) == ("Rival", 1, 0)
    assert resp.first_response_s is None
    assert thread.root.answers[0].response_id is None
    with pytest.raises(NotFound):
        load_thread(acme.store, "twitter:nope")


def test_named_account_and_dataset_companies(ws: Workspace) -> None:
    posts = [
        make_post("40", "@shopcare broken again", handle="hal", when=at(0)),
        reply("41", "40", "@hal sorry about that", "shopcare", 7),
    ]
    posts[1].raw = {"inbound": "False"}  # as the TWCS importer keeps it
    posts[0].raw = {"inbound": "True"}
    import_posts(ws, posts)
    # no brand: the dataset's company flag makes shopcare an answering account
    thread = load_thread(ws.store, "twitter:40")
    assert thread.root.answers[0].group == "twitter:shopcare"
    assert thread.root.answers[0].delay_s == 420
    # without it, only the accounts named
    plain = load_thread(ws.store, "twitter:40", dataset_accounts=False)
    assert plain.responses == []
    named = load_thread(ws.store, "twitter:40", accounts=["@ShopCare"], dataset_accounts=False)
    assert [(r.group, r.first_response_s) for r in named.responses] == [("shopcare", 420)]


def test_account_owner_follows_brand_owns() -> None:
    brands = [
        Brand("Brew", "brew", accounts=["twitter:brewhaven", "brewhelp"]),
        Brand("Other", "x", accounts=[]),
    ]
    owner = account_owner(brands, ["mastodon:barista"])
    assert owner("twitter:brewhaven") == ("Brew",)
    assert owner("mastodon:brewhaven") == ()  # network-specific account
    assert owner("bluesky:brewhelp") == ("Brew",)  # bare handle: any network
    assert owner("mastodon:barista") == ("mastodon:barista",)
    assert owner(None) == () and owner("twitter:someone") == ()
    for aid in ("twitter:brewhaven", "bluesky:brewhelp", "twitter:x"):
        assert bool(owner(aid)) == brands[0].owns(aid)


def test_openings_survive_a_parent_cycle() -> None:
    forest = Forest()
    a = forest.add(1, "t:ann", 0.0, ["t:co"])  # a and b point at each other (bad data)
    forest.add(a, "t:co", 5.0)
    c = forest.add(-1, "t:cy", 10.0, ["t:co"])
    forest.add(c, "t:co", 70.0)

    def owner(aid: str | None) -> tuple[str, ...]:
        return ("co",) if aid == "t:co" else ()

    found = find_openings(forest, owner)
    assert [(o.index, o.delay) for o in found.openings] == [(c, 60.0)]
