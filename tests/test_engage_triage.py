"""Triage: which enriched posts enter the inbox, with which reasons; idempotence; the rules in
socialloop.toml."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from socialloop.config import load_settings
from socialloop.engage.inbox import Inbox
from socialloop.engage.rules import InboxRules, load_rules, parse_rules, write_rules
from socialloop.engage.triage import follower_influence, triage_posts
from socialloop.errors import ConfigError
from socialloop.store.schema import audit_log, inbox_items
from socialloop.workspace import Workspace
from tests._engage import T0, Clock, store_posts
from tests.conftest import make_post


@pytest.fixture
def acme(ws: Workspace) -> Workspace:
    ws.add_brand("Acme", "acme", accounts=["acmehelp"])
    ws.add_brand("Rival", "rival", competitor=True)
    return ws


def _reasons(ws: Workspace) -> dict[str, list[str]]:
    inbox = Inbox(ws, clock=Clock(T0 + timedelta(hours=1)))
    return {i.post_id: i.reasons for i in inbox.list_items(status="all")}


def test_questions_and_complaints_enter_chitchat_does_not(acme: Workspace) -> None:
    store_posts(
        acme,
        [
            (make_post("1", "acme how do I reset my password?", when=T0), {"intent": ["question"]}),
            (
                make_post("2", "acme broke my order again, terrible", when=T0),
                {"intent": ["complaint"], "sentiment": "negative"},
            ),
            (make_post("3", "lunch with friends, acme sticker on the table", when=T0), {}),
            (
                make_post("4", "thinking of buying an acme blender, worth it?", when=T0),
                {"intent": ["purchase_intent", "question"]},
            ),
            (make_post("5", "love my acme", when=T0), {"intent": ["praise"]}),
            (
                make_post("6", "acme my app crashes, please help", when=T0),
                {"intent": ["support_request"]},
            ),
        ],
    )
    result = triage_posts(acme, None)
    reasons = _reasons(acme)
    assert reasons == {
        "twitter:1": ["question"],
        "twitter:2": ["complaint"],
        "twitter:4": ["question", "purchase_intent"],
        "twitter:6": ["support_request"],
    }
    assert result.examined == 6 and result.added == 4
    assert result.reasons["question"] == 2


def test_own_accounts_mentions_influence_and_competitors(acme: Workspace) -> None:
    pks = store_posts(
        acme,
        [
            # the brand's own account never enters, even with a question
            (
                make_post("1", "acme: any questions? ask us", handle="AcmeHelp", when=T0),
                {"intent": ["question"]},
            ),
            # a post addressed to the brand's account is a reason on its own
            (make_post("2", "@AcmeHelp: acme thanks for the parcel", when=T0), {}),
            # a reply to the brand's account
            (make_post("3", "acme ok", reply_to_handle="acmehelp", when=T0), {}),
            # an influential author (two million followers) praising the brand
            (
                make_post("4", "acme launch was great", handle="star", followers=2_000_000),
                {"intent": ["praise"]},
            ),
            # ... and the same author's chit-chat, which stays out
            (make_post("4b", "at the acme launch", handle="star", followers=2_000_000), {}),
            # an account named inside a sentence is a place, not a question
            (make_post("6", "meeting at @acmehelp acme cafe at 3", when=T0), {}),
            # a competitor's question stays out with brands = "own"
            (make_post("5", "rival how do I return this?", when=T0), {"intent": ["question"]}),
        ],
    )
    triage_posts(acme, None)
    assert _reasons(acme) == {
        "twitter:2": ["own_account_mention"],
        "twitter:3": ["own_account_mention"],
        "twitter:4": ["influential_author"],
    }
    (acme.settings.root / "socialloop.toml").open("a").write('\n[inbox]\nbrands = "all"\n')
    ws2 = Workspace.open(acme.settings.root)
    try:
        # the competitor's post was never looked at (its brand was not triaged): now it is
        res = triage_posts(ws2, None)
        assert res.examined == 1 and res.added == 1
        assert _reasons(ws2)["twitter:5"] == ["question"]
        res = triage_posts(ws2, list(pks.values()))  # explicitly: all of them again
        assert res.added == 0 and len(_reasons(ws2)) == 4
    finally:
        ws2.close()


def test_triage_is_idempotent_and_adds_reasons(acme: Workspace) -> None:
    pks = store_posts(
        acme,
        [(make_post("1", "acme where is my order?", when=T0), {"intent": ["question"]})],
    )
    triage_posts(acme, None)
    again = triage_posts(acme, None)
    assert again.examined == 0  # already triaged
    triage_posts(acme, list(pks.values()))
    with acme.store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(inbox_items)).scalar() == 1
    # enrichment now also finds a complaint: re-triage adds the reason to the same item
    from socialloop.store.schema import post_labels

    with acme.store.begin() as conn:
        conn.execute(
            post_labels.insert().values(
                field="intent", label="complaint", post_pk=pks["twitter:1"], score=0.9
            )
        )
    res = triage_posts(acme, list(pks.values()))
    assert res.updated == 1 and res.added == 0
    assert _reasons(acme) == {"twitter:1": ["question", "complaint"]}
    with acme.store.begin() as conn:
        actions = [r.action for r in conn.execute(select(audit_log).order_by(audit_log.c.id))]
    assert actions == ["triage.add", "triage.update"]


def test_unenriched_posts_wait_and_low_confidence_intents_are_ignored(acme: Workspace) -> None:
    (acme.settings.root / "socialloop.toml").open("a").write("\n[inbox]\nmin_intent_score = 0.5\n")
    ws2 = Workspace.open(acme.settings.root)
    try:
        store_posts(
            ws2,
            [
                (make_post("1", "acme help?", when=T0), {"enriched": False}),
                (make_post("2", "acme hmm?", when=T0), {"intent": ["question"], "score": 0.3}),
            ],
        )
        res = triage_posts(ws2, None)
        assert res.examined == 1 and res.added == 0
    finally:
        ws2.close()


def test_negative_posts_inside_a_spike(acme: Workspace) -> None:
    posts = []
    # baseline: one negative post a day for the 7 days before
    for d in range(1, 8):
        posts.append(
            (
                make_post(f"b{d}", "acme meh", when=T0 - timedelta(days=d, hours=3)),
                {"brand_sentiment": {"Acme": "negative"}},
            )
        )
    # the spike: 8 negatives within the last hours
    for i in range(8):
        posts.append(
            (
                make_post(f"s{i}", "acme is down for everyone", when=T0 - timedelta(hours=i)),
                {"brand_sentiment": {"Acme": "negative"}},
            )
        )
    # a positive post in the spike stays out
    posts.append(
        (make_post("p", "acme works for me", when=T0), {"brand_sentiment": {"Acme": "positive"}})
    )
    store_posts(acme, posts)
    triage_posts(acme, None)
    reasons = _reasons(acme)
    spiking = sorted(k for k, v in reasons.items() if "negative_spike" in v)
    # s4 (T0-4h) sees s4..s7 and b1 (T0-27h) in its 24 h: 5 >= spike_min and above
    # mean + 3 sd of the 7 windows before (1,1,1,1,1,1,0: 0.86 + 3 x 0.35 = 1.91); s5 sees 4
    assert spiking == [f"twitter:s{i}" for i in range(5)]
    assert "twitter:p" not in reasons and "twitter:b1" not in reasons


def test_follower_influence_fallback() -> None:
    assert follower_influence(None) == 0.0
    assert follower_influence(999_999) == pytest.approx(1.0)
    assert follower_influence(10**9) == 1.0
    assert follower_influence(999) == pytest.approx(0.5)


def test_rules_validation_names_the_key() -> None:
    assert parse_rules({}) == InboxRules()
    with pytest.raises(ConfigError, match=r"\[inbox\] intents: unknown 'questions'"):
        parse_rules({"intents": ["questions"]})
    with pytest.raises(ConfigError, match="unknown key 'spikes'"):
        parse_rules({"spikes": True})
    with pytest.raises(ConfigError, match="influence must be a number"):
        parse_rules({"influence": "high"})
    with pytest.raises(ConfigError, match="brands must be"):
        parse_rules({"brands": "mine"})
    with pytest.raises(ConfigError, match="spike_hours must be a whole number >= 1"):
        parse_rules({"spike_hours": 0})


def test_write_rules_keeps_the_rest_of_the_file(ws: Workspace) -> None:
    path = ws.settings.root / "socialloop.toml"
    before = path.read_text()
    path.write_text(before + "\n[inbox]\nspike = false\n\n[alerts]\nx = 1\n")
    rules = write_rules(load_settings(ws.settings.root), {"intents": ["question"], "spike_k": 2.5})
    assert rules.intents == ("question",) and rules.spike_k == 2.5 and rules.spike is False
    text = path.read_text()
    assert text.startswith(before) and "[alerts]\nx = 1" in text
    assert load_rules(load_settings(ws.settings.root)) == rules
    with pytest.raises(ConfigError):
        write_rules(load_settings(ws.settings.root), {"spike_k": -1})
    assert load_rules(load_settings(ws.settings.root)) == rules  # nothing written
