"""Perception gap, brand alignment, content roadmap, touch points and return on experience on
constructed data with known answers (labels and topics as the enrichment would store them)."""

from __future__ import annotations

import pytest

from socialloop.adapt.alignment import brand_alignment, statements
from socialloop.adapt.perception import content_words, lexical_overlap, perception_gap
from socialloop.adapt.roadmap import content_roadmap
from socialloop.adapt.rox import return_on_experience
from socialloop.adapt.scope import Scope, resolve_scope
from socialloop.adapt.touchpoints import touchpoints
from socialloop.errors import InvalidValue
from socialloop.models import Post
from socialloop.workspace import Workspace
from tests._adapt_data import add_topics, at, label, load
from tests.conftest import make_post

TOPICS = {
    1: "wifi seats laptop work",
    2: "coffee taste flavour roast",
    3: "staff service friendly fast",
    4: "price expensive cost cheap",
}
SIZES = {1: 50, 2: 30, 3: 15, 4: 5}
# per topic: (negative, positive) posts; the rest neutral
MOOD = {1: (5, 5), 2: (2, 20), 3: (12, 1), 4: (1, 0)}


def _conversation(ws: Workspace, assumptions: list[str], values: str = "") -> dict[str, int]:
    ws.add_brand("Acme", "acme", assumptions=assumptions, values=values, accounts=["acme"])
    items: list[Post] = []
    rows: list[tuple[str, str, str]] = []
    for tid, n in SIZES.items():
        words = TOPICS[tid].split()
        neg, pos = MOOD[tid]
        for i in range(n):
            pid = f"t{tid}-{i}"
            items.append(make_post(pid, f"acme {words[0]} {words[1]} {i}", likes=i, handle=f"u{i}"))
            s = "negative" if i < neg else "positive" if i < neg + pos else "neutral"
            rows += [(pid, "topic", str(tid)), (pid, "sentiment", s)]
            if tid == 4:
                rows.append((pid, "intent", "complaint"))
    pks = load(ws, items)
    label(ws, pks, rows)
    add_topics(ws, TOPICS)
    return pks


def test_wrong_assumption_is_the_headline(ws: Workspace) -> None:
    _conversation(ws, ["Customers care most about price", "Great coffee taste matters"])
    gap = perception_gap(ws, resolve_scope(ws, "Acme"))
    price, taste = gap.assumptions
    assert price.words == ["price"] and price.claims_top
    assert price.match is not None and price.match.topic_id == "4"
    assert (price.rank, price.topics_total, price.share) == (4, 4, 0.05)
    assert price.verdict == "wrong"
    assert price.keyword_posts == 5 and price.keyword_share == 0.05
    assert price.intents == {"complaint": 5}
    assert [p.id for p in price.evidence] == ["twitter:t4-4", "twitter:t4-3", "twitter:t4-2"]
    assert taste.match is not None and taste.match.topic_id == "2"
    assert (taste.rank, taste.verdict) == (2, "confirmed") and not taste.claims_top
    assert gap.headline == price.finding
    assert "#4 of 4" in gap.headline and "wifi" in gap.headline and "50.0%" in gap.headline
    assert [t.id for t in gap.blind_spots] == ["1", "3"]
    assert gap.top_evidence[0].id == "twitter:t1-49"


def test_assumption_nobody_discusses(ws: Workspace) -> None:
    _conversation(ws, ["Customers most want vegan pastries"])
    gap = perception_gap(ws, resolve_scope(ws, "Acme"))
    (check,) = gap.assumptions
    assert gap.headline == check.finding
    # "vegan pastries" is near "coffee taste" in meaning (cosine ~0.47) but shares no word
    # and is not very close: no topic, no post uses its words
    assert check.match is None and check.keyword_posts == 0
    assert check.verdict == "no_evidence" and check.alternatives[0].topic_id == "2"
    assert "do not discuss it" in check.finding


def test_perception_needs_a_brand(ws: Workspace) -> None:
    with pytest.raises(InvalidValue, match="needs a brand"):
        perception_gap(ws, Scope())


def test_helpers() -> None:
    assert content_words("Our customers care most about price and speed") == ["price", "speed"]
    assert lexical_overlap(["prices", "speed"], ["price", "cheap"]) == 0.5
    assert statements("Fast, friendly service. Great coffee; fair prices!") == [
        "Fast, friendly service",
        "Great coffee",
        "fair prices",
    ]


def test_alignment_aligns_and_contradicts(ws: Workspace) -> None:
    _conversation(ws, [], values="Fast friendly staff service. Great coffee taste and flavour.")
    al = brand_alignment(ws, resolve_scope(ws, "Acme"))
    status = {a.topic.id: a.status for a in al.topics}
    assert status["2"] == "aligned" and status["3"] == "contradicts"
    assert status["1"] == "unrelated"
    contra = next(a for a in al.topics if a.topic.id == "3")
    assert contra.value == "Fast friendly staff service" and contra.negative_share == round(
        12 / 15, 4
    )
    assert [p.id for p in contra.evidence] == ["twitter:t3-11", "twitter:t3-10", "twitter:t3-9"]
    assert al.contradicting_share == 0.15 and al.aligned_share >= 0.3
    assert "staff" in al.headline and "80%" in al.headline
    cov = {c.value: c.status for c in al.coverage}
    assert cov == {
        "Fast friendly staff service": "contradicts",
        "Great coffee taste and flavour": "aligned",
    }


def _questions(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme", accounts=["acme"])
    items: list[Post] = []
    rows: list[tuple[str, str, str]] = []

    def need(
        pid: str,
        topic: str,
        stage: str,
        day: int,
        likes: int = 0,
        handle: str = "cust",
        network: str = "twitter",
        intent: str = "question",
    ) -> None:
        items.append(
            make_post(
                pid,
                f"acme how do I {pid}?",
                when=at(day),
                likes=likes,
                handle=handle,
                network=network,
            )
        )
        rows.extend(
            [
                (pid, "intent", intent),
                (pid, "topic", topic),
                (pid, "stage", stage),
                (pid, "sentiment", "neutral"),
            ]
        )

    for i in range(5):  # A: wifi / consideration, 5 unanswered, recent
        need(f"a{i}", "1", "consideration", 20, likes=i)
    for i in range(2):  # B: taste / experience, 2 unanswered
        need(f"b{i}", "2", "experience", 19, network="mastodon")
    for i in range(4):  # C: all answered (a customer answers 2, the brand 2)
        need(f"c{i}", "3", "purchase", 20)
        items.append(
            make_post(
                f"c{i}r",
                "here is how",
                when=at(20, 13),
                parent_id=f"twitter:c{i}",
                handle="acme" if i < 2 else "helper",
            )
        )
    need("d0", "4", "experience", 5)  # D: one of two answered, old
    need("d1", "4", "experience", 5)
    items.append(make_post("d1r", "answer", when=at(6), parent_id="twitter:d1", handle="helper"))
    need("own", "1", "consideration", 20, handle="acme")  # the brand's own question: not a need
    items.append(make_post("praise", "acme is lovely", when=at(20)))
    rows += [
        ("praise", "intent", "praise"),
        ("praise", "stage", "advocacy"),
        ("praise", "sentiment", "positive"),
    ]
    label(ws, load(ws, items), rows)
    add_topics(ws, TOPICS)


def test_roadmap_ranks_unanswered_groups(ws: Workspace) -> None:
    _questions(ws)
    rm = content_roadmap(ws, resolve_scope(ws, "Acme", until=at(21, 0)))
    assert (rm.needs, rm.unanswered) == (13, 8)
    got = [(i.topic_id, i.stage, i.unanswered, i.needs) for i in rm.items]
    assert got == [
        ("1", "consideration", 5, 5),
        ("2", "experience", 2, 2),
        ("4", "experience", 1, 2),
    ]
    first = rm.items[0]
    assert first.topic == "wifi / seats / laptop / work" and first.unanswered_share == 1.0
    assert [p.id for p in first.examples] == ["twitter:a4", "twitter:a3", "twitter:a2"]
    assert rm.items[2].unanswered_share == 0.5 and rm.items[2].demand < rm.items[1].demand


def test_touchpoints_grid(ws: Workspace) -> None:
    _questions(ws)
    cells = {(t.stage, t.network): t for t in touchpoints(ws, resolve_scope(ws, "Acme"))}
    cons = cells[("consideration", "twitter")]
    assert (cons.posts, cons.needs_answer, cons.unanswered) == (
        6,
        5,
        5,
    )  # the brand's own is no need
    pur = cells[("purchase", "twitter")]
    assert (pur.needs_answer, pur.unanswered, pur.unanswered_share) == (4, 0, 0.0)
    exp = cells[("experience", "twitter")]
    assert (exp.needs_answer, exp.unanswered, exp.unanswered_share) == (2, 1, 0.5)
    assert cells[("experience", "mastodon")].unanswered == 2
    assert cells[("advocacy", "twitter")].sentiment["positive"] == 1
    order = [k[0] for k in cells]
    assert order.index("consideration") < order.index("purchase") < order.index("experience")


def test_rox_difference_in_differences(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme", accounts=["acme"])
    items: list[Post] = []
    rows: list[tuple[str, str, str]] = []
    # engaged e1, e2: complain (-1), the brand answers, later praise (+1): change +2, adv 0 -> 1
    # e3 the same, but the brand answers a reply in the thread e3 started
    # comparable c1: complains, later complains again (0); c2: complains, later neutral (+1)
    for who, later, later_intent in (
        ("e1", "positive", "praise"),
        ("e2", "positive", "praise"),
        ("e3", "positive", "praise"),
        ("c1", "negative", "complaint"),
        ("c2", "neutral", "question"),
    ):
        items.append(make_post(f"{who}-1", "acme broke my order", when=at(1), handle=who))
        items.append(make_post(f"{who}-2", "acme again", when=at(3), handle=who))
        rows += [
            (f"{who}-1", "sentiment", "negative"),
            (f"{who}-1", "intent", "complaint"),
            (f"{who}-2", "sentiment", later),
            (f"{who}-2", "intent", later_intent),
        ]
        if who in ("e1", "e2"):
            items.append(
                make_post(
                    f"{who}-r",
                    "sorry, fixed!",
                    when=at(1, 13),
                    handle="acme",
                    parent_id=f"twitter:{who}-1",
                )
            )
    items += [
        make_post("h1", "same here", when=at(1, 14), handle="helper", parent_id="twitter:e3-1"),
        make_post("h1r", "DM us", when=at(1, 15), handle="acme", parent_id="twitter:h1"),
        # the brand answering its own post engages nobody
        make_post("own", "acme news", when=at(1), handle="acme"),
        make_post("own-r", "more news", when=at(1, 1), handle="acme", parent_id="twitter:own"),
    ]
    items.append(make_post("solo", "acme once", when=at(2), handle="solo"))  # one post: ignored
    label(ws, load(ws, items), rows)
    rox = return_on_experience(ws, resolve_scope(ws, "Acme"))
    assert rox.engaged_authors == 4  # e1, e2, e3 (thread) and helper (one post: not measured)
    assert (rox.engaged.authors, rox.engaged.sentiment_before, rox.engaged.sentiment_after) == (
        3,
        -1.0,
        1.0,
    )
    assert (rox.engaged.advocacy_before, rox.engaged.advocacy_after) == (0.0, 1.0)
    assert (rox.comparable.authors, rox.comparable.sentiment_after) == (2, -0.5)
    assert rox.did_sentiment == 1.5 and rox.did_advocacy == 1.0
    assert (rox.matched_engaged, rox.matched_comparable) == (3, 2)
    assert [(s.prior, s.activity, s.engaged, s.comparable) for s in rox.strata] == [
        ("negative", "1", 3, 2)
    ]
    assert not rox.reliable and "Small sample" in rox.note
