"""The inbox from the command line (click's CliRunner on a real workspace), the JSON shapes,
hostile post text, the real LEARN steps feeding triage, and answers given on the network."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
from click.testing import CliRunner

from socialloop.cli.main import cli
from socialloop.engage.inbox import Inbox
from socialloop.engage.triage import triage_posts
from socialloop.workspace import Workspace
from tests._engage import T0, Clock, store_posts
from tests.conftest import make_post


def _run(root: Path, *args: str, user: str = "tester") -> str:
    res = CliRunner().invoke(
        cli, [*args, "--workspace", str(root)], env={"SOCIALLOOP_USER": user, "COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    return res.output


def _fail(root: Path, *args: str) -> str:
    res = CliRunner().invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code != 0
    return res.output


def _seed(ws: Workspace) -> Path:
    store_posts(
        ws,
        [
            (
                make_post(
                    "1",
                    "acme [bold red]pwned[/] where is my order?",
                    when=T0,
                    url="https://x.com/alice/status/1",
                ),
                {"intent": ["question"], "lang": "en"},
            ),
            (
                make_post("2", "acme you ruined my weekend", when=T0, handle="bob"),
                {"intent": ["complaint"], "sentiment": "negative", "lang": "en"},
            ),
            (make_post("3", "acme sticker on my laptop lol", when=T0, handle="cy"), {}),
        ],
    )
    return ws.settings.root


def test_inbox_flow_from_the_cli(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    root = _seed(ws)
    out = orjson.loads(_run(root, "inbox", "triage", "--json"))
    assert out["added"] == 2 and out["examined"] == 3
    items = orjson.loads(_run(root, "inbox", "list", "--json"))
    assert [i["post_id"] for i in items] == ["twitter:2", "twitter:1"]
    first = items[0]
    for key in (
        "id",
        "post_id",
        "brand",
        "reasons",
        "priority",
        "status",
        "components",
        "assignee",
        "due_at",
        "sla",
        "network",
        "author",
        "url",
        "text",
        "tags",
    ):
        assert key in first, key
    assert first["brand"] == "Acme" and first["reasons"] == ["complaint"]
    assert first["status"] == "new" and isinstance(first["priority"], float)
    assert set(first["components"]) == {"intent", "urgency", "influence", "sentiment", "waiting"}
    q = items[1]["id"]

    # hostile text is printed as it is, never as markup
    listing = _run(root, "inbox", "list")
    assert "[bold red]pwned[/]" in listing
    assert "[bold red]pwned[/]" in _run(root, "inbox", "show", str(q))

    _run(root, "agent", "add", "ana", "--languages", "en", "--capacity", "5")
    _run(root, "agent", "add", "boss", "--role", "approver")
    _run(root, "agent", "add", "tim", "--needs-approval")
    agents = orjson.loads(_run(root, "agent", "list", "--json"))
    assert [(a["name"], a["role"], a["needs_approval"]) for a in agents] == [
        ("ana", "agent", False),
        ("boss", "approver", False),
        ("tim", "agent", True),
    ]
    assert "assigned to ana (manual)" in _run(root, "inbox", "assign", str(q), "--to", "ana")
    _run(root, "inbox", "note", str(q), "asked on the phone too", "--as", "ana")
    assert "vip" in _run(root, "inbox", "tag", str(q), "vip", "--as", "ana")
    _run(root, "saved-reply", "add", "order", "Hi {author}, {brand} here: checking order {order}.")
    err = _fail(root, "inbox", "reply", str(q), "--saved", "order", "--as", "ana")
    assert "{order}" in err and "available" in err
    out = _run(
        root, "inbox", "reply", str(q), "--saved", "order", "--var", "order=A1", "--as", "ana"
    )
    assert "Hi @alice, Acme here: checking order A1." in out and "inbox send 1" in out
    assert "nothing was sent" in _run(root, "inbox", "send", "1", "--dry-run")
    out = _run(root, "inbox", "send", "1")
    assert "Post it yourself at: https://x.com/alice/status/1" in out
    assert "already manual" in _fail(root, "inbox", "send", "1")
    assert f"Item {q} resolved." in _run(root, "inbox", "resolve", str(q), "--as", "ana")

    # approval: tim's reply waits for boss
    c = items[0]["id"]
    out = _run(root, "inbox", "reply", str(c), "--text", "So sorry!", "--as", "tim")
    assert "[pending]" in out and "inbox approve 2" in out
    assert "waits for an approver" in _fail(root, "inbox", "send", "2")
    assert "approved by boss" in _run(root, "inbox", "approve", "2", "--as", "boss")
    _run(root, "inbox", "send", "2")

    shown = orjson.loads(_run(root, "inbox", "show", str(q), "--json"))
    assert shown["status"] == "resolved" and shown["tags"] == ["vip"]
    assert shown["notes"][0]["author"] == "ana"
    assert [r["status"] for r in shown["replies"]] == ["manual"]
    assert [(e["actor"], e["action"]) for e in shown["log"]] == [
        ("socialloop", "triage.add"),
        ("tester", "assign"),
        ("ana", "note"),
        ("ana", "tag"),
        ("ana", "claim"),
        ("ana", "reply.draft"),
        ("ana", "reply.manual"),
        ("ana", "resolve"),
    ]
    stats = orjson.loads(_run(root, "inbox", "stats", "--json"))
    assert stats["overall"]["items"] == 2 and stats["overall"]["responded"] == 2
    assert {g["key"] for g in stats["by_agent"]} == {"ana", "tim"}
    assert "dismissed (not counted): 0" in _run(root, "inbox", "stats")
    assert orjson.loads(_run(root, "inbox", "list", "--json", "--status", "resolved"))[0]["id"] == q
    assert orjson.loads(_run(root, "inbox", "log", "--json"))[0]["action"] == "triage.add"


def test_illegal_transition_and_unknown_item(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    root = _seed(ws)
    _run(root, "inbox", "triage")
    err = _fail(root, "inbox", "resolve", "1")
    assert (
        "item 1 is new: it cannot become resolved; from new it can become assigned, dismissed"
        in err
    )
    assert "no inbox item 99" in _fail(root, "inbox", "show", "99")
    _run(root, "inbox", "dismiss", "1", "--reason", "spam")
    assert "no agent named 'x'" in _fail(root, "inbox", "assign", "1", "--to", "x")
    _run(root, "agent", "add", "x")
    assert "it is final" in _fail(root, "inbox", "assign", "1", "--to", "x")


def test_rules_and_sla_from_the_cli(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    root = _seed(ws)
    rules = orjson.loads(_run(root, "inbox", "rules", "--json"))
    assert rules["intents"][0] == "question" and rules["spike"] is True
    assert "influence = 0.75" in _run(root, "inbox", "rules")
    _run(root, "inbox", "rules", "set", "intents", "complaint")
    assert 'intents = ["complaint"]' in (root / "socialloop.toml").read_text()
    err = _fail(root, "inbox", "rules", "set", "intents", "questions")
    assert "unknown 'questions'" in err
    _run(root, "inbox", "triage")
    assert [i["post_id"] for i in orjson.loads(_run(root, "inbox", "list", "--json"))] == [
        "twitter:2"
    ]
    out = _run(
        root,
        "sla",
        "set",
        "--brand",
        "Acme",
        "--timezone",
        "Europe/Helsinki",
        "--hours",
        "mon-fri 09:00-17:00",
        "--target",
        "complaint=2h",
    )
    assert "SLA policy 'Acme' saved; 1 open items got new due times" in out
    shown = orjson.loads(_run(root, "sla", "show", "--json"))
    assert shown == [
        {
            "name": "Acme",
            "timezone": "Europe/Helsinki",
            "hours": {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
            "targets": {"high": 60, "medium": 240, "low": 1440, "complaint": 120},
            "at_risk": 0.25,
        }
    ]
    # T0 is Monday 09:00 UTC = 12:00 in Helsinki: due two business hours later, 11:00 UTC
    item = orjson.loads(_run(root, "inbox", "list", "--json"))[0]
    assert item["due_at"] == "2026-05-04T11:00:00+00:00"
    assert "unknown time zone" in _fail(root, "sla", "set", "--timezone", "Nowhere/City")
    assert "not like 'mon-fri 09:00-17:00'" in _fail(root, "sla", "set", "--hours", "always-ish")


def test_real_enrichment_feeds_triage(ws: Workspace) -> None:
    """The LEARN steps, run for real, label the posts; questions and complaints to the brand
    enter, chit-chat does not."""
    from socialloop.learn.pipeline import Pipeline
    from socialloop.learn.steps import build_steps

    texts = [
        "@acmehelp how do I reset my password? the app keeps logging me out",
        "Acme charged me twice and nobody answers, worst service ever",
        "had a lovely walk in the park with my dog, saw an acme truck",
        "Is the Acme X200 worth buying? thinking of getting one this week",
        "good morning everyone, coffee time (acme mug)",
    ]
    ws.store.upsert_posts([make_post(str(i), t, when=T0) for i, t in enumerate(texts)])
    ws.add_brand("Acme", '"acme" OR @acmehelp', accounts=["acmehelp"])
    Pipeline(build_steps(ws.settings, ["language", "sentiment", "intent"], ws.store)).run(ws.store)
    triage_posts(ws, None)
    got = {i.post_id: i.reasons for i in Inbox(ws, clock=Clock(T0)).list_items()}
    assert set(got) == {"twitter:0", "twitter:1", "twitter:3"}
    assert "question" in got["twitter:0"] and "own_account_mention" in got["twitter:0"]
    assert "complaint" in got["twitter:1"]
    assert "purchase_intent" in got["twitter:3"]


def test_answers_on_the_network_count_as_responses(ws: Workspace) -> None:
    ws.add_brand("Acme", '"acme" OR @acmehelp', accounts=["acmehelp"])
    store_posts(
        ws,
        [
            (make_post("1", "acme is my parcel lost?", when=T0), {"intent": ["question"]}),
            (make_post("2", "acme why so slow?", when=T0, handle="bob"), {"intent": ["question"]}),
        ],
    )
    triage_posts(ws, None)
    # the brand answered post 1 on the network, 45 minutes later; someone else answered post 2
    store_posts(
        ws,
        [
            (
                make_post(
                    "r1",
                    "@alice sorry! DM us",
                    handle="AcmeHelp",
                    parent_id="twitter:1",
                    when=T0 + timedelta(minutes=45),
                ),
                {},
            ),
            (
                make_post(
                    "r2",
                    "@bob same here",
                    handle="dan",
                    parent_id="twitter:2",
                    when=T0 + timedelta(minutes=5),
                ),
                {},
            ),
        ],
    )
    res = triage_posts(ws, None)
    assert res.answered_outside == 1
    items = {i.post_id: i for i in Inbox(ws, clock=Clock(T0 + timedelta(hours=1))).list_items()}
    assert items["twitter:1"].status == "replied"
    assert items["twitter:1"].first_response_at == T0 + timedelta(minutes=45)
    assert items["twitter:1"].first_responder == "twitter:acmehelp"
    assert items["twitter:2"].status == "new"
