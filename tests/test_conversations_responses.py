"""Response analytics (``response_times``) on constructed threads with hand-computed answers,
and on the real TWCS head (skipped without ../shared) against an independent computation
from the CSV's own columns."""

from __future__ import annotations

import csv
import io
import re
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from socialloop.conversations import response_times
from socialloop.errors import InvalidValue, NotFound
from socialloop.listen.importer import import_files, import_posts
from socialloop.models import Post
from socialloop.workspace import Workspace
from tests.conftest import make_post, shared_file

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def at(minutes: float, day: int = 0) -> datetime:
    return T0 + timedelta(days=day, minutes=minutes)


def reply(native: str, parent: str, text: str, handle: str, when: datetime, **kw: object) -> Post:
    return make_post(native, text, handle=handle, when=when, parent_id=f"twitter:{parent}", **kw)


def market() -> list[Post]:
    """Acme (accounts: acmehelp on any network) answers 4 of 5 conversations:
    day 0  ann asks, answered after 10 min (her follow-up is the same conversation)
    day 1  carol asks, the brand answers below dave's reply after 2 h
    day 2  erin replies to an unknown post mentioning the brand, answered after 3 min
    day 3  the brand's own post: frank's reply answered after 30 min, gina's never
    day 4  hank praises without addressing the brand; its reply is an 'other' reply
    Rival (twitter:rivalcare) never answers its two conversations."""
    return [
        make_post("1", "@acmehelp my order is late", handle="ann", when=at(0)),
        reply("2", "1", "@ann sorry! can you DM us?", "acmehelp", at(10)),
        reply("3", "2", "@acmehelp still nothing", "ann", at(30)),
        reply("4", "3", "@ann escalated", "acmehelp", at(45)),
        make_post("10", "@acmehelp hello? anyone?", handle="carol", when=at(0, 1)),
        reply("11", "10", "@carol they never answer", "dave", at(60, 1)),
        reply("12", "11", "@carol @dave we do!", "acmehelp", at(120, 1)),
        reply("20", "999", "@acmehelp and the refund?", "erin", at(0, 2)),
        reply("21", "20", "@erin on its way", "acmehelp", at(3, 2)),
        make_post("30", "New menu today", handle="acmehelp", when=at(0, 3)),
        reply("31", "30", "is it vegan?", "frank", at(60, 3)),
        reply("32", "31", "@frank yes!", "acmehelp", at(90, 3)),
        reply("33", "30", "prices went up again", "gina", at(120, 3)),
        make_post("40", "acme coffee rocks", handle="hank", when=at(0, 4)),
        reply("41", "40", "@hank thank you!", "acmehelp", at(5, 4)),
        make_post("50", "@rivalcare charged twice", handle="ivy", when=at(0, 1)),
        make_post("51", "@RivalCare where is my parcel", handle="jo", when=at(0, 2)),
        reply("52", "51", "@jo same", "kim", at(9, 2)),
    ]


@pytest.fixture
def shop(ws: Workspace) -> Workspace:
    ws.add_brand("Acme", "acme", accounts=["acmehelp"])
    ws.add_brand("Rival", "rival", competitor=True, accounts=["twitter:rivalcare"])
    ws.add_brand("Quiet", "quiet")  # no accounts: not measured
    import_posts(ws, market())
    return ws


def test_per_brand_rate_median_and_p90_equal_hand_computed(shop: Workspace) -> None:
    got = {s.account: s.to_dict() for s in response_times(shop.store)}
    assert set(got) == {"Acme", "Rival"}
    acme = got["Acme"]
    assert (acme["kind"], acme["threads"], acme["responded"]) == ("brand", 5, 4)
    assert acme["response_rate"] == pytest.approx(0.8)
    # delays 600, 7200, 180, 1800 s: median (600 + 1800) / 2; p90 interpolated between
    # the 3rd and 4th of the sorted delays: 1800 + 0.7 * (7200 - 1800)
    assert acme["median_first_response_s"] == pytest.approx(1200.0)
    assert acme["p90_first_response_s"] == pytest.approx(5580.0)
    assert acme["other_replies"] == 1
    rival = got["Rival"]
    assert (rival["threads"], rival["responded"], rival["response_rate"]) == (2, 0, 0.0)
    assert rival["median_first_response_s"] is None
    assert rival["p90_first_response_s"] is None


def test_since_brand_and_account_filters(shop: Workspace) -> None:
    [acme] = response_times(shop.store, brand="Acme", since=at(0, 2))
    assert (acme.threads, acme.responded) == (3, 2)  # erin, frank, gina
    assert sorted(acme.delays) == [180.0, 1800.0]
    # a single account measured alone (bare handle: any network)
    [one] = response_times(shop.store, accounts=["@AcmeHelp"])
    assert (one.account, one.kind, one.threads, one.responded) == ("acmehelp", "account", 5, 4)
    # an account that is never addressed
    [none] = response_times(shop.store, accounts=["twitter:nobody"])
    assert (none.threads, none.response_rate) == (0, None)
    with pytest.raises(InvalidValue, match="no accounts"):
        response_times(shop.store, brand="Quiet")
    with pytest.raises(NotFound):
        response_times(shop.store, brand="Nope")
    with pytest.raises(InvalidValue):
        response_times(shop.store, accounts=["twitter:"])


def test_posts_naming_the_brand_open_conversations_when_asked(shop: Workspace) -> None:
    [acme] = response_times(shop.store, brand="Acme", matched=True)
    # hank's "acme coffee rocks" now opens a conversation, answered after 5 min
    assert (acme.threads, acme.responded, acme.other_replies) == (6, 5, 0)
    assert sorted(acme.delays) == [180.0, 300.0, 600.0, 1800.0, 7200.0]
    assert acme.percentile(50) == 600.0


def test_accounts_on_other_networks_count(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme", accounts=["acmehelp"])
    posts = [
        make_post("1", "@acmehelp hi", network="mastodon", handle="ann", when=at(0)),
        make_post(
            "2",
            "@ann hello",
            network="mastodon",
            handle="acmehelp",
            when=at(4),
            parent_id="mastodon:1",
        ),
    ]
    import_posts(ws, posts)
    [acme] = response_times(ws.store)
    assert (acme.threads, acme.responded, acme.delays) == (1, 1, [240.0])


# -- the real TWCS head ------------------------------------------------------------------------


def _twcs_rows(text: str) -> list[dict[str, str]]:
    # two records hold bare CRs inside a field: keep them out of csv's line splitting
    rows = list(csv.DictReader(io.StringIO(text.replace("\r", "\x00"), newline="")))
    return [{k: (v or "").replace("\x00", "\r") for k, v in r.items()} for r in rows]


def _clean(value: str) -> str | None:
    value = value.strip()
    if value.endswith(".0"):
        value = value[:-2]
    return value or None


def expected_twcs(text: str) -> dict[str, tuple[int, int, float | None]]:
    """Per company (threads, responded, median delay) computed from the CSV alone, walking
    DOWN the dataset's ``response_tweet_id`` lists (the code walks up parent links), with
    companies from ``inbound`` and mentions from a plain regex."""
    rows = _twcs_rows(text)
    by_id = {r["tweet_id"]: r for r in rows}
    companies = {r["author_id"].lower() for r in rows if r["inbound"] == "False"}
    when = {
        i: datetime.strptime(r["created_at"], "%a %b %d %H:%M:%S %z %Y").timestamp()
        for i, r in by_id.items()
    }

    def kids(i: str) -> list[str]:
        return [k for k in (by_id[i]["response_tweet_id"] or "").split(",") if k in by_id]

    def author(i: str) -> str:
        return by_id[i]["author_id"].lower()

    def addresses(i: str, company: str) -> bool:
        if author(i) == company:
            return False
        named = {m.lower() for m in re.findall(r"(?<![\w@/])@(\w+)", by_id[i]["text"])}
        parent = _clean(by_id[i]["in_response_to_tweet_id"])
        return company in named or (parent in by_id and author(parent) == company)

    tops = [i for i, r in by_id.items() if _clean(r["in_response_to_tweet_id"]) not in by_id]
    out: dict[str, tuple[int, int, float | None]] = {}
    for company in companies:
        delays: list[float] = []
        threads = 0
        stack = [(t, False) for t in tops]  # (tweet, conversation already open above)
        while stack:
            i, open_above = stack.pop()
            if not open_above and addresses(i, company):
                threads += 1
                below, todo = [], list(kids(i))
                while todo:
                    k = todo.pop()
                    todo.extend(kids(k))
                    if author(k) == company and when[k] >= when[i]:
                        below.append(when[k] - when[i])
                if below:
                    delays.append(min(below))
                stack.extend((k, True) for k in kids(i))
            else:
                stack.extend((k, open_above) for k in kids(i))
        out[f"twitter:{company}"] = (
            threads,
            len(delays),
            statistics.median(delays) if delays else None,
        )
    return out


def test_real_twcs_per_company_equals_independent_count(ws: Workspace) -> None:
    path = shared_file("twcs_customer_support", "twcs_head5000.csv")
    report = import_files(ws, [path])
    assert report.read == 5000 and report.rejected == 0
    stats = response_times(ws.store)
    got = {s.account: s for s in stats}
    expected = expected_twcs(path.read_bytes().decode("utf-8"))
    assert set(got) == set(expected)  # every company account of the file, no brand defined
    assert all(s.kind == "company" for s in stats)
    mismatched = {
        a: (e, (got[a].threads, got[a].responded, got[a].percentile(50)))
        for a, e in expected.items()
        if e != (got[a].threads, got[a].responded, got[a].percentile(50))
    }
    assert mismatched == {}
    # the busiest accounts, as measured (and cross-checked above)
    top = [(s.account, s.threads, s.responded, s.percentile(50)) for s in stats[:3]]
    assert top == [
        ("twitter:chipotletweets", 172, 172, 591.0),
        ("twitter:amazonhelp", 74, 64, 631.0),
        ("twitter:applesupport", 73, 71, 525.0),
    ]
