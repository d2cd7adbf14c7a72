"""SLA: business hours in a time zone, due times across a weekend and a DST change, targets by
band and intent, at-risk and breached views."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from socialloop.engage import sla
from socialloop.engage.inbox import Inbox
from socialloop.engage.triage import triage_posts
from socialloop.errors import InvalidValue
from socialloop.workspace import Workspace
from tests._engage import T0, Clock, store_posts
from tests.conftest import make_post

HELSINKI = sla.SlaPolicy(
    name="Acme",
    timezone="Europe/Helsinki",
    hours=sla.parse_hours("mon-fri 09:00-17:00"),
    targets={"high": 60, "medium": 240, "low": 480, "complaint": 60, "question": 120},
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_parse_hours_and_targets() -> None:
    hours = sla.parse_hours("mon-fri 09:00-17:00, sat 10:00-14:00")
    assert hours["mon"] == (time(9), time(17)) and hours["sat"] == (time(10), time(14))
    assert "sun" not in hours
    assert sla.parse_hours("24/7") == {}
    assert sla.parse_target("question=4h") == ("question", 240)
    assert sla.parse_target("high=90m") == ("high", 90)
    assert sla.parse_target("low=1d") == ("low", 1440)
    with pytest.raises(InvalidValue, match="not like 'mon-fri 09:00-17:00'"):
        sla.parse_hours("weekdays 9-5")
    with pytest.raises(InvalidValue, match="closing must follow opening"):
        sla.parse_hours("mon 17:00-09:00")
    with pytest.raises(InvalidValue, match="KEY one of high, medium, low"):
        sla.parse_target("urgent=1h")
    with pytest.raises(InvalidValue, match="unknown time zone"):
        sla.check_timezone("Mars/Olympus")


def test_due_time_across_a_weekend_in_helsinki() -> None:
    # Friday 2026-05-01 16:30 in Helsinki (EEST, UTC+3) = 13:30 UTC; 4 business hours:
    # 30 min on Friday, 3.5 h on Monday from 09:00 -> Monday 12:30 Helsinki = 09:30 UTC
    due = sla.add_business_minutes(HELSINKI, utc(2026, 5, 1, 13, 30), 240)
    assert due == utc(2026, 5, 4, 9, 30)
    # posted on Saturday: the clock starts Monday 09:00 Helsinki (06:00 UTC)
    assert sla.add_business_minutes(HELSINKI, utc(2026, 5, 2, 12, 0), 60) == utc(2026, 5, 4, 7, 0)
    # posted before opening on a weekday
    assert sla.add_business_minutes(HELSINKI, utc(2026, 5, 5, 3, 0), 30) == utc(2026, 5, 5, 6, 30)
    assert sla.business_minutes_between(HELSINKI, utc(2026, 5, 1, 13, 30), due) == 240


def test_due_time_across_the_dst_change() -> None:
    # Friday 2026-03-27 16:00 EET (UTC+2) = 14:00 UTC; clocks go forward on Sunday 29th.
    # 2 h: 1 h on Friday, 1 h on Monday 09:00-10:00 EEST (UTC+3) -> 07:00 UTC
    assert sla.add_business_minutes(HELSINKI, utc(2026, 3, 27, 14, 0), 120) == utc(2026, 3, 30, 7)


def test_targets_shortest_applies() -> None:
    assert HELSINKI.target("medium", ["question"]) == 120
    assert HELSINKI.target("medium", ["question", "complaint"]) == 60
    assert HELSINKI.target("low", ["praise"]) == 480
    assert sla.BUILTIN.target("high", []) == 60


def test_state() -> None:
    due = utc(2026, 5, 4, 8, 0)
    kw = {"due": due, "target_minutes": 120, "responded": False}
    assert sla.state(HELSINKI, now=utc(2026, 5, 4, 6, 0), **kw) == "ok"  # type: ignore[arg-type]
    assert sla.state(HELSINKI, now=utc(2026, 5, 4, 7, 31), **kw) == "at_risk"  # type: ignore[arg-type]
    assert sla.state(HELSINKI, now=due, **kw) == "breached"  # type: ignore[arg-type]
    assert sla.state(HELSINKI, now=due, due=due, target_minutes=120, responded=True) == "met"


def test_at_risk_and_breached_views(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    sla.save_policy(ws.store, HELSINKI, T0)
    assert sla.policy_for(ws.store, "Acme") == HELSINKI
    assert sla.policy_for(ws.store, "Other") == sla.BUILTIN
    # Monday 2026-05-04: question at 08:00 Helsinki (05:00 UTC): due 11:00 = 08:00 UTC;
    # complaint at 09:30 Helsinki (06:30 UTC): due 10:30 = 07:30 UTC;
    # question at 10:00 Helsinki (07:00 UTC): due 12:00 = 09:00 UTC
    store_posts(
        ws,
        [
            (make_post("q1", "acme how?", when=utc(2026, 5, 4, 5)), {"intent": ["question"]}),
            (make_post("c", "acme bad", when=utc(2026, 5, 4, 6, 30)), {"intent": ["complaint"]}),
            (make_post("q2", "acme why?", when=utc(2026, 5, 4, 7)), {"intent": ["question"]}),
        ],
    )
    triage_posts(ws, None)
    inbox = Inbox(ws, clock=Clock(utc(2026, 5, 4, 7, 45)))
    due = {i.post_id: i.due_at for i in inbox.list_items()}
    assert due == {
        "twitter:q1": utc(2026, 5, 4, 8),
        "twitter:c": utc(2026, 5, 4, 7, 30),
        "twitter:q2": utc(2026, 5, 4, 9),
    }
    assert [i.post_id for i in inbox.list_items(sla_state="breached")] == ["twitter:c"]
    assert [i.post_id for i in inbox.list_items(sla_state="at_risk")] == ["twitter:q1"]
    # a new default-only policy (around the clock, 30 min for questions) moves the due times
    sla.save_policy(ws.store, sla.SlaPolicy(name="Acme", targets={"question": 30}), T0)
    assert inbox.refresh_due(actor="boss") == 3
    due = {i.post_id: i.due_at for i in inbox.list_items()}
    assert due["twitter:q2"] == utc(2026, 5, 4, 7, 30)
    assert due["twitter:c"] == utc(2026, 5, 5, 6, 30)  # band low, built-in 1440 min
    assert {i.post_id for i in inbox.list_items(sla_state="breached")} == {
        "twitter:q1",
        "twitter:q2",
    }
